//! Student-facing interface text in English and Spanish, and the choice of language for a
//! request: the student's own choice (a cookie), else their class's language, else what the
//! browser asks for, else English. Staff pages are in English.

use std::collections::HashMap;
use std::sync::LazyLock;

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason,
};
use rocket::Request;
use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::request::{FromRequest, Outcome};

use crate::curriculum::Language;

type Strings = HashMap<String, String>;

static STRINGS: LazyLock<[Strings; 2]> = LazyLock::new(|| {
    let parse = |text: &str, file: &str| -> Strings {
        toml::from_str(text).unwrap_or_else(|e| panic!("src/i18n/{file} is invalid: {e}"))
    };
    [
        parse(include_str!("en.toml"), "en.toml"),
        parse(include_str!("es.toml"), "es.toml"),
    ]
});

fn strings(language: Language) -> &'static Strings {
    match language {
        Language::En => &STRINGS[0],
        Language::Es => &STRINGS[1],
    }
}

/// The text for `key`, falling back to English, then to the key itself.
pub fn t(language: Language, key: &str) -> String {
    strings(language)
        .get(key)
        .or_else(|| strings(Language::En).get(key))
        .cloned()
        .unwrap_or_else(|| key.to_string())
}

/// The text for `key` with `{0}`, `{1}`… replaced by `args`.
pub fn t_with(language: Language, key: &str, args: &[&str]) -> String {
    let mut text = t(language, key);
    for (i, arg) in args.iter().enumerate() {
        text = text.replace(&format!("{{{i}}}"), arg);
    }
    text
}

/// `{{t "key" arg0 arg1}}` in templates, in the page's language (`@root.lang`). An unknown key
/// is an error, so a typo fails the page tests instead of showing a key to a child.
pub fn t_helper(
    h: &Helper,
    _: &Handlebars,
    ctx: &Context,
    _: &mut RenderContext,
    out: &mut dyn Output,
) -> HelperResult {
    let key = h
        .param(0)
        .and_then(|p| p.value().as_str())
        .ok_or(RenderErrorReason::ParamNotFoundForIndex("t", 0))?;
    let language = ctx
        .data()
        .get("lang")
        .and_then(|l| l.as_str())
        .and_then(Language::parse)
        .unwrap_or_default();
    if !strings(Language::En).contains_key(key) {
        return Err(RenderErrorReason::Other(format!("no interface text {key:?}")).into());
    }
    let args: Vec<String> = h
        .params()
        .iter()
        .skip(1)
        .map(|p| match p.value() {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    out.write(&handlebars::html_escape(&t_with(language, key, &args)))?;
    Ok(())
}

/// The class language of the signed-in student, noted by the student session guard.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClassLanguage(pub Option<Language>);

/// The language of this request's student-facing text.
pub fn language_of(req: &Request<'_>) -> Language {
    let secure = req
        .rocket()
        .state::<crate::App>()
        .is_some_and(|app| app.settings.secure_cookies);
    if let Some(language) = req
        .cookies()
        .get(crate::auth::cookie_names(secure).language)
        .and_then(|c| Language::parse(c.value()))
    {
        return language;
    }
    if let Some(language) = req.local_cache(ClassLanguage::default).0 {
        return language;
    }
    let accepts_spanish = req
        .headers()
        .get_one("Accept-Language")
        .and_then(|h| h.split(',').next())
        .is_some_and(|first| first.trim().to_ascii_lowercase().starts_with("es"));
    if accepts_spanish {
        Language::Es
    } else {
        Language::En
    }
}

/// Remembers a student's choice of language on this device. Not personal data: "en" or "es".
pub fn remember_language(cookies: &CookieJar<'_>, language: Language, secure: bool) {
    let cookie = Cookie::build((crate::auth::cookie_names(secure).language, language.code()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(rocket::time::Duration::days(365));
    cookies.add(cookie);
}

/// The request's language as a guard; put it after `StudentSession` so the class default counts.
#[derive(Debug, Clone, Copy)]
pub struct Lang(pub Language);

impl Lang {
    pub fn t(self, key: &str) -> String {
        t(self.0, key)
    }

    pub fn t_with(self, key: &str, args: &[&str]) -> String {
        t_with(self.0, key, args)
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Lang {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        Outcome::Success(Lang(language_of(req)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_interface_text_is_translated_with_the_same_placeholders() {
        let english = strings(Language::En);
        let spanish = strings(Language::Es);
        for (key, text) in english {
            let translated = spanish
                .get(key)
                .unwrap_or_else(|| panic!("es.toml is missing {key:?}"));
            for i in 0..3 {
                let placeholder = format!("{{{i}}}");
                assert_eq!(
                    text.contains(&placeholder),
                    translated.contains(&placeholder),
                    "{key:?} uses {placeholder} in one language only"
                );
            }
        }
        for key in spanish.keys() {
            assert!(
                english.contains_key(key),
                "es.toml has an extra key {key:?}"
            );
        }
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            t_with(Language::Es, "step.progress", &["2", "9"]),
            "Paso 2 de 9"
        );
        assert_eq!(t(Language::En, "no.such.key"), "no.such.key");
    }
}
