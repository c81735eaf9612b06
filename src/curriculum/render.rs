//! Markdown from curriculum files to HTML that is safe to embed in a page.

use pulldown_cmark::{Options, Parser, html};

/// Renders Markdown and strips anything that is not plain formatting (scripts, inline event
/// handlers, `javascript:` links, raw HTML that is not on ammonia's safe list).
pub fn markdown_to_safe_html(markdown: &str) -> String {
    let parser = Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    );
    let mut unsafe_html = String::new();
    html::push_html(&mut unsafe_html, parser);
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        .clean(&unsafe_html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_survives_and_scripts_do_not() {
        let html = markdown_to_safe_html(
            "**Tell** a [trusted adult](javascript:alert(1)).\n\n<script>alert(1)</script><img src=x onerror=alert(1)>",
        );
        assert!(html.contains("<strong>Tell</strong>"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("onerror"));
        assert!(!html.contains("javascript:"));
    }
}
