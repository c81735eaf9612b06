//! Markdown from curriculum files to HTML that is safe to embed in a page.

use pulldown_cmark::{Event, Options, Parser, TagEnd, html};

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

/// The prose of a Markdown text, each paragraph, heading and list item ending a sentence, as
/// a reader (or a readability formula) meets it.
pub fn markdown_to_plain_text(markdown: &str) -> String {
    let mut text = String::new();
    for event in Parser::new(markdown) {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item) => {
                end_sentence(&mut text);
            }
            _ => {}
        }
    }
    text.trim().to_string()
}

/// Closes the sentence so that list items and titles are not counted as one long sentence.
pub fn end_sentence(text: &mut String) {
    let trimmed = text.trim_end();
    if !trimmed.is_empty() && !trimmed.ends_with(['.', '!', '?', ':', ';']) {
        text.truncate(trimmed.len());
        text.push('.');
    }
    text.push(' ');
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

    #[test]
    fn plain_text_ends_a_sentence_after_each_block() {
        let text =
            markdown_to_plain_text("# Hello\n\nA **trusted** adult:\n\n- listens\n- helps you!\n");
        assert_eq!(text, "Hello. A trusted adult: listens. helps you!");
    }
}
