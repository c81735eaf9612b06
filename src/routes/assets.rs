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
    // Text is UTF-8, and says so, so that no browser guesses another encoding.
    let content_type = if content_type.top() == "text" && content_type.param("charset").is_none() {
        ContentType::new(
            content_type.top().to_string(),
            content_type.sub().to_string(),
        )
        .with_params(("charset", "utf-8"))
    } else {
        content_type
    };
    Some((content_type, file.data.into_owned()))
}
