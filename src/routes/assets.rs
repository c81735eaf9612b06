//! Static assets compiled into the binary (read from disk in debug builds).

use std::path::PathBuf;

use rocket::http::ContentType;
use rocket::{Route, get, routes};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "static/"]
struct Static;

pub fn routes() -> Vec<Route> {
    routes![asset]
}

#[get("/static/<path..>")]
fn asset(path: PathBuf) -> Option<(ContentType, Vec<u8>)> {
    let name = path.to_str()?;
    let file = Static::get(name)?;
    let content_type = path
        .extension()
        .and_then(|e| e.to_str())
        .and_then(ContentType::from_extension)
        .unwrap_or(ContentType::Binary);
    Some((content_type, file.data.into_owned()))
}
