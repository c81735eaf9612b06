//! Checking a student's answer to a step. Problems are returned as interface-text keys
//! (`crate::i18n`), so the student reads them in their own language.

use std::collections::{BTreeMap, BTreeSet};

use crate::curriculum::{Chat, Feed, Question, QuestionKind, Reply, Sort};

/// The answer to store (a set of strings) and whether it is right, or the key of what to fix.
pub type Checked = Result<(BTreeSet<String>, bool), &'static str>;

/// Parses the chosen ids for a question, refusing ids the question does not have.
pub fn check_question(question: &Question, chosen: &[String]) -> Checked {
    let chosen: BTreeSet<String> = chosen.iter().map(|c| c.trim().to_string()).collect();
    if chosen.is_empty() {
        return Err("problem.choose_answer");
    }
    if chosen
        .iter()
        .any(|c| !question.options.iter().any(|o| &o.id == c))
    {
        return Err("problem.unknown_answer");
    }
    if question.kind != QuestionKind::MultipleChoice && chosen.len() > 1 {
        return Err("problem.choose_one");
    }
    let correct: BTreeSet<String> = question
        .correct_ids()
        .into_iter()
        .map(String::from)
        .collect();
    let is_correct = chosen == correct;
    Ok((chosen, is_correct))
}

/// Compares flagged ids with the red flags; flagging nothing is an answer too.
fn check_flags<'a>(
    flagged: &[String],
    flaggable: impl Iterator<Item = &'a str>,
    red_flags: BTreeSet<&str>,
) -> Checked {
    let flagged: BTreeSet<String> = flagged.iter().map(|c| c.trim().to_string()).collect();
    let flaggable: BTreeSet<&str> = flaggable.collect();
    if flagged.iter().any(|f| !flaggable.contains(f.as_str())) {
        return Err("problem.unknown_flag");
    }
    let red_flags: BTreeSet<String> = red_flags.into_iter().map(String::from).collect();
    let is_correct = flagged == red_flags;
    Ok((flagged, is_correct))
}

/// Parses the flagged message ids for a chat.
pub fn check_chat(chat: &Chat, flagged: &[String]) -> Checked {
    let flaggable = chat
        .messages
        .iter()
        .filter(|m| m.from_them)
        .map(|m| m.id.as_str());
    check_flags(flagged, flaggable, chat.red_flags())
}

/// Parses the flagged post ids for a feed.
pub fn check_feed(feed: &Feed, flagged: &[String]) -> Checked {
    check_flags(
        flagged,
        feed.posts.iter().map(|p| p.id.as_str()),
        feed.red_flags(),
    )
}

/// Every item must be in one of the sort's boxes; stored as `item=box` pairs.
pub fn check_sort(sort: &Sort, placed: &BTreeMap<String, String>) -> Checked {
    let mut answer = BTreeSet::new();
    let mut all_right = true;
    for item in &sort.items {
        let Some(bucket) = placed.get(&item.id).map(|b| b.trim()) else {
            return Err("problem.sort_every_item");
        };
        if !sort.buckets.iter().any(|b| b.id == bucket) {
            return Err("problem.sort_every_item");
        }
        all_right &= bucket == item.bucket;
        answer.insert(format!("{}={bucket}", item.id));
    }
    if placed
        .keys()
        .any(|k| !sort.items.iter().any(|i| &i.id == k))
    {
        return Err("problem.unknown_flag");
    }
    Ok((answer, all_right))
}

/// Reads `item=box` pairs back from a stored sort answer.
pub fn sort_placements(answer: &BTreeSet<String>) -> BTreeMap<String, String> {
    answer
        .iter()
        .filter_map(|pair| pair.split_once('='))
        .map(|(item, bucket)| (item.to_string(), bucket.to_string()))
        .collect()
}

/// The reply numbers chosen in a conversation, written `0.1.0` in links and forms.
pub fn parse_reply_path(path: &str) -> Option<Vec<usize>> {
    if path.trim().is_empty() {
        return Some(Vec::new());
    }
    path.trim()
        .split('.')
        .map(|n| n.parse::<usize>().ok())
        .collect()
}

/// A finished conversation: stored as its path and the ending reached; right when it is safe.
pub fn check_reply(reply: &Reply, path: &str) -> Checked {
    let choices = parse_reply_path(path).ok_or("problem.reply_unfinished")?;
    let nodes = reply.follow(&choices).ok_or("problem.reply_unfinished")?;
    let last = nodes.last().ok_or("problem.reply_unfinished")?;
    let ending = last.ending.as_ref().ok_or("problem.reply_unfinished")?;
    let path: Vec<String> = choices.iter().map(usize::to_string).collect();
    let answer = BTreeSet::from([
        format!("path={}", path.join(".")),
        format!("end={}", last.id),
    ]);
    Ok((answer, ending.safe))
}

/// The path stored with a finished conversation.
pub fn stored_reply_path(answer: &BTreeSet<String>) -> Option<String> {
    answer
        .iter()
        .find_map(|a| a.strip_prefix("path=").map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curriculum::{
        AnswerOption, Bucket, ChatMessage, Ending, ReplyChoice, ReplyNode, SortItem,
    };

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
            check: false,
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

    fn reply() -> Reply {
        let node = |id: &str, replies: &[&str], ending: Option<bool>| ReplyNode {
            id: id.into(),
            say: vec![],
            replies: replies
                .iter()
                .map(|next| ReplyChoice {
                    text: format!("to {next}"),
                    next: (*next).into(),
                })
                .collect(),
            ending: ending.map(|safe| Ending {
                safe,
                feedback: "f".into(),
            }),
        };
        Reply {
            title: "t".into(),
            intro_html: String::new(),
            contact: "Jay".into(),
            nodes: vec![
                node("start", &["safe", "push"], None),
                node("push", &["safe", "risky"], None),
                node("safe", &[], Some(true)),
                node("risky", &[], Some(false)),
            ],
        }
    }

    #[test]
    fn a_reply_path_must_reach_an_ending() {
        let r = reply();
        let (answer, safe) = check_reply(&r, "1.1").expect("ends");
        assert!(!safe);
        assert_eq!(stored_reply_path(&answer).as_deref(), Some("1.1"));
        assert!(answer.contains("end=risky"));
        assert!(check_reply(&r, "0").expect("ends").1);
        assert_eq!(check_reply(&r, "1"), Err("problem.reply_unfinished"));
        assert_eq!(check_reply(&r, ""), Err("problem.reply_unfinished"));
        assert_eq!(check_reply(&r, "5"), Err("problem.reply_unfinished"));
        assert_eq!(check_reply(&r, "0.0"), Err("problem.reply_unfinished"));
        assert_eq!(check_reply(&r, "x"), Err("problem.reply_unfinished"));
    }

    #[test]
    fn a_sort_needs_every_item_in_a_known_box() {
        let sort = Sort {
            title: "t".into(),
            intro_html: String::new(),
            buckets: ["surprise", "unsafe"]
                .iter()
                .map(|id| Bucket {
                    id: (*id).into(),
                    label: (*id).into(),
                })
                .collect(),
            items: [("cake", "surprise"), ("secret", "unsafe")]
                .iter()
                .map(|(id, bucket)| SortItem {
                    id: (*id).into(),
                    text: (*id).into(),
                    bucket: (*bucket).into(),
                    feedback: "f".into(),
                })
                .collect(),
        };
        let placed = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
                .collect()
        };
        let (answer, right) = check_sort(
            &sort,
            &placed(&[("cake", "surprise"), ("secret", "unsafe")]),
        )
        .expect("complete");
        assert!(right);
        assert_eq!(sort_placements(&answer)["secret"], "unsafe");
        assert!(
            !check_sort(&sort, &placed(&[("cake", "unsafe"), ("secret", "unsafe")]))
                .expect("complete")
                .1
        );
        assert_eq!(
            check_sort(&sort, &placed(&[("cake", "surprise")])),
            Err("problem.sort_every_item")
        );
        assert_eq!(
            check_sort(
                &sort,
                &placed(&[("cake", "surprise"), ("secret", "nowhere")])
            ),
            Err("problem.sort_every_item")
        );
    }
}
