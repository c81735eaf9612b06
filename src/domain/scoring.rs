//! Checking a student's answer to a step.

use std::collections::BTreeSet;

use crate::curriculum::{Chat, Question, QuestionKind};

/// Parses the chosen ids for a question, refusing ids the question does not have.
pub fn check_question(
    question: &Question,
    chosen: &[String],
) -> Result<(BTreeSet<String>, bool), String> {
    let chosen: BTreeSet<String> = chosen.iter().map(|c| c.trim().to_string()).collect();
    if chosen.is_empty() {
        return Err("Choose an answer, then press Check my answer.".into());
    }
    if let Some(unknown) = chosen
        .iter()
        .find(|c| !question.options.iter().any(|o| &o.id == *c))
    {
        return Err(format!(
            "{unknown:?} is not one of the answers to this question."
        ));
    }
    if question.kind != QuestionKind::MultipleChoice && chosen.len() > 1 {
        return Err("Choose only one answer for this question.".into());
    }
    let correct: BTreeSet<String> = question
        .correct_ids()
        .into_iter()
        .map(String::from)
        .collect();
    let is_correct = chosen == correct;
    Ok((chosen, is_correct))
}

/// Parses the flagged message ids for a chat. Flagging nothing is an answer too.
pub fn check_chat(chat: &Chat, flagged: &[String]) -> Result<(BTreeSet<String>, bool), String> {
    let flagged: BTreeSet<String> = flagged.iter().map(|c| c.trim().to_string()).collect();
    if let Some(unknown) = flagged
        .iter()
        .find(|f| !chat.messages.iter().any(|m| m.from_them && &m.id == *f))
    {
        return Err(format!(
            "{unknown:?} is not a message you can flag in this chat."
        ));
    }
    let red_flags: BTreeSet<String> = chat.red_flags().into_iter().map(String::from).collect();
    let is_correct = flagged == red_flags;
    Ok((flagged, is_correct))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curriculum::{AnswerOption, ChatMessage};

    fn option(id: &str, correct: bool) -> AnswerOption {
        AnswerOption {
            id: id.into(),
            text: id.into(),
            correct,
            feedback: "f".into(),
        }
    }

    fn question(kind: QuestionKind, correct: &[&str]) -> Question {
        Question {
            kind,
            prompt: "p".into(),
            options: ["a", "b", "c"]
                .iter()
                .map(|id| option(id, correct.contains(id)))
                .collect(),
        }
    }

    #[test]
    fn single_choice_needs_exactly_the_right_one() {
        let q = question(QuestionKind::SingleChoice, &["b"]);
        assert!(check_question(&q, &["b".into()]).expect("valid").1);
        assert!(!check_question(&q, &["a".into()]).expect("valid").1);
        assert!(check_question(&q, &["a".into(), "b".into()]).is_err());
        assert!(check_question(&q, &[]).is_err());
        assert!(check_question(&q, &["z".into()]).is_err());
    }

    #[test]
    fn multiple_choice_needs_the_whole_set() {
        let q = question(QuestionKind::MultipleChoice, &["a", "c"]);
        assert!(
            check_question(&q, &["c".into(), "a".into()])
                .expect("valid")
                .1
        );
        assert!(!check_question(&q, &["a".into()]).expect("valid").1);
    }

    #[test]
    fn chat_flags_must_match_the_red_flags() {
        let msg = |id: &str, from_them: bool, red_flag: bool| ChatMessage {
            id: id.into(),
            from_them,
            text: id.into(),
            red_flag,
            reason: None,
        };
        let chat = Chat {
            title: "t".into(),
            intro_html: String::new(),
            contact: "Sam".into(),
            messages: vec![
                msg("hi", true, false),
                msg("me", false, false),
                msg("secret", true, true),
            ],
        };
        assert!(check_chat(&chat, &["secret".into()]).expect("valid").1);
        assert!(!check_chat(&chat, &[]).expect("valid").1);
        assert!(check_chat(&chat, &["me".into()]).is_err());
    }
}
