//! A translation must have the same structure as the English module: the same steps, answers,
//! red flags and branches. Only texts may differ, so that answers and reports mean the same
//! thing in every language.

use super::loader::CurriculumError;
use super::model::*;

/// The structure of a module as (field, value) pairs; texts are left out.
fn shape(module: &Module) -> Vec<(String, String)> {
    let mut shape = vec![
        ("slug".to_string(), module.slug.clone()),
        ("tier".to_string(), module.tier.to_string()),
        ("minutes".to_string(), module.minutes.to_string()),
        (
            "content_note".to_string(),
            module.content_note.is_some().to_string(),
        ),
        ("sources".to_string(), module.sources.len().to_string()),
        ("help".to_string(), module.help.len().to_string()),
        ("steps".to_string(), module.steps.len().to_string()),
    ];
    for step in &module.steps {
        let field = |name: &str| format!("steps.{}.{name}", step.id);
        let mut push = |name: &str, value: String| shape.push((field(name), value));
        push("kind", step.kind.name().to_string());
        match &step.kind {
            StepKind::Reading(_) => {}
            StepKind::Chat(chat) => {
                for m in &chat.messages {
                    push(
                        &format!("messages.{}", m.id),
                        format!("from_them={} red_flag={}", m.from_them, m.red_flag),
                    );
                }
            }
            StepKind::Feed(feed) => {
                for p in &feed.posts {
                    push(
                        &format!("posts.{}", p.id),
                        format!("type={} red_flag={}", p.post_type, p.red_flag),
                    );
                }
            }
            StepKind::Reply(reply) => {
                for n in &reply.nodes {
                    let nexts: Vec<&str> = n.replies.iter().map(|r| r.next.as_str()).collect();
                    push(
                        &format!("nodes.{}", n.id),
                        format!(
                            "say={} next={:?} ending={:?}",
                            n.say.len(),
                            nexts,
                            n.ending.as_ref().map(|e| e.safe)
                        ),
                    );
                }
            }
            StepKind::Sort(sort) => {
                let buckets: Vec<&str> = sort.buckets.iter().map(|b| b.id.as_str()).collect();
                push("buckets", format!("{buckets:?}"));
                for item in &sort.items {
                    push(&format!("items.{}", item.id), item.bucket.clone());
                }
            }
            StepKind::Question(q) => {
                push("check", q.check.to_string());
                for o in &q.options {
                    push(
                        &format!("options.{}", o.id),
                        format!("correct={}", o.correct),
                    );
                }
            }
        }
    }
    shape
}

/// Every place where `translation` differs in structure from `english`.
pub fn compare(
    english: &Module,
    translation: &Module,
    translation_file: &str,
    translation_source: &str,
) -> Vec<CurriculumError> {
    let expected = shape(english);
    let found = shape(translation);
    let mut errors = Vec::new();
    let mut report = |field: &str, message: String| {
        let step_id = field
            .strip_prefix("steps.")
            .and_then(|rest| rest.split('.').next())
            .unwrap_or("");
        let line = if step_id.is_empty() {
            1
        } else {
            translation_source
                .find(&format!("id = \"{step_id}\""))
                .map_or(1, |offset| {
                    translation_source[..offset].matches('\n').count() + 1
                })
        };
        errors.push(CurriculumError {
            file: translation_file.to_string(),
            line,
            field: field.to_string(),
            message,
        });
    };
    for (field, value) in &expected {
        match found.iter().find(|(f, _)| f == field) {
            None => report(field, "is missing from the translation".to_string()),
            Some((_, other)) if other != value => report(
                field,
                format!("is {other} in the translation but {value} in English"),
            ),
            Some(_) => {}
        }
    }
    for (field, _) in &found {
        if !expected.iter().any(|(f, _)| f == field) {
            report(field, "is not in the English module".to_string());
        }
    }
    let order = |shape: &[(String, String)]| -> Vec<String> {
        shape
            .iter()
            .filter(|(f, _)| f.ends_with(".kind"))
            .map(|(f, _)| f.clone())
            .collect()
    };
    let mismatched = !found.is_empty() && order(&expected) != order(&found);
    if mismatched {
        report(
            "steps",
            "are in a different order than in English".to_string(),
        );
    }
    errors
}
