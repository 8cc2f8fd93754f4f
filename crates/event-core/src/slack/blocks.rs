//! A message as Slack Block Kit, with its plain text as the fallback (notifications, screen readers,
//! clients without blocks).
//!
//! Every message of the functions is one sentence in one form, `:<emoji>: event-tier *<event>*:
//! <what happened>[: <details>]`, possibly followed by a code block of Terraform's output. The
//! blocks show it at a glance:
//! - a header: the emoji, the event and what happened ("✅ winter-sale-2026: start succeeded in 4m");
//! - a section: the rest of the sentence;
//! - the fields the flow knows (stage, duration, run, runner);
//! - the code block of output, if any, cut to fit;
//! - the buttons, when the message offers any ([`super::Button`]);
//! - a context line: where to look next (the event's dashboard and log groups).
//!
//! Secrets never reach Slack: [`redact`] runs over the text and everything made from it, whatever
//! the flow put there (a private key, a Slack webhook or token, an AWS access key id).

use serde_json::{Value, json};

/// Slack's limits (Block Kit reference): a header's text, a section's text, a field's text.
const HEADER_MAX: usize = 150;
const SECTION_MAX: usize = 3000;
const FIELD_MAX: usize = 2000;
/// Slack shows at most 10 fields in a section and 10 elements in a context block.
const FIELDS_MAX: usize = 10;

/// The emoji codes of the messages, as the header shows them (plain text takes no `:codes:`).
const EMOJI: &[(&str, &str)] = &[
    (":white_check_mark:", "✅"),
    (":x:", "❌"),
    (":warning:", "⚠️"),
    (":information_source:", "ℹ️"),
    (":hourglass:", "⏳"),
    (":rotating_light:", "🚨"),
    (":alarm_clock:", "⏰"),
];

/// The blocks of a message whose plain text is `text`, with the flow's `fields` and `context`.
pub fn blocks(
    text: &str,
    fields: &[(&str, String)],
    context: &[String],
    buttons: &[super::Button],
) -> Value {
    let text = redact(text);
    let (sentence, code) = match text.split_once("\n```") {
        Some((s, rest)) => (
            s.to_owned(),
            Some(rest.trim_end().trim_end_matches("```").trim()),
        ),
        None => (text.clone(), None),
    };
    let (header, body) = header_and_body(&sentence);
    let mut out = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": cut(&header, HEADER_MAX), "emoji": true}
    })];
    if !body.is_empty() {
        out.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": cut(&body, SECTION_MAX)}
        }));
    }
    let fields: Vec<Value> = fields
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .take(FIELDS_MAX)
        .map(|(k, v)| {
            json!({"type": "mrkdwn", "text": cut(&format!("*{k}*\n{}", redact(v)), FIELD_MAX)})
        })
        .collect();
    if !fields.is_empty() {
        out.push(json!({"type": "section", "fields": fields}));
    }
    if let Some(code) = code.filter(|c| !c.is_empty()) {
        // The fence takes 8 characters of the section's 3000; the start of a long output is cut.
        out.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": format!("```\n{}\n```", cut_front(code, SECTION_MAX - 8))}
        }));
    }
    out.extend(super::buttons::actions(buttons));
    let context: Vec<Value> = context
        .iter()
        .take(FIELDS_MAX)
        .map(|c| json!({"type": "mrkdwn", "text": cut(&redact(c), FIELD_MAX)}))
        .collect();
    if !context.is_empty() {
        out.push(json!({"type": "context", "elements": context}));
    }
    Value::Array(out)
}

/// The header ("✅ winter-sale-2026: start succeeded in 4m") and the rest of the sentence. A text
/// not in the functions' form is all body, under a plain header.
fn header_and_body(sentence: &str) -> (String, String) {
    let mut emoji = "";
    let mut rest = sentence.trim();
    if let Some((code, glyph)) = EMOJI.iter().find(|(code, _)| rest.starts_with(code)) {
        emoji = glyph;
        rest = rest[code.len()..].trim_start();
    }
    let Some(after) = rest.strip_prefix("event-tier *") else {
        return (
            format!("{emoji} event-tier").trim().to_owned(),
            sentence.to_owned(),
        );
    };
    let Some((event, what)) = after.split_once("*: ") else {
        return (
            format!("{emoji} event-tier").trim().to_owned(),
            sentence.to_owned(),
        );
    };
    let (headline, details) = match what.split_once(": ") {
        Some((h, d)) => (h, d),
        None => (what, ""),
    };
    let header = format!("{emoji} {event}: {}", headline.replace('`', ""));
    (header.trim().to_owned(), details.trim().to_owned())
}

/// At most `max` characters, with an ellipsis when cut.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// The last `max` characters at most (the end of an output is what says why it failed).
fn cut_front(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_owned();
    }
    let mut out = String::from("…");
    out.extend(s.chars().skip(n - (max - 1)));
    out
}

/// `text` with what must never reach Slack replaced by a note saying what was there: PEM private
/// keys, Slack webhook URLs and tokens, AWS access key ids.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_key = false;
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 && !in_key {
            out.push('\n');
        }
        if in_key {
            if line.contains("-----END") {
                in_key = false;
                out.push_str("[private key removed]");
                if let Some((_, after)) = line.split_once("-----END")
                    && let Some(rest) = after.split_once("-----").map(|(_, r)| r)
                {
                    out.push_str(rest);
                }
            }
            continue;
        }
        if let Some((before, after)) = line.split_once("-----BEGIN")
            && after.contains("PRIVATE KEY")
        {
            out.push_str(before);
            if after.contains("-----END") {
                out.push_str("[private key removed]");
            } else {
                in_key = true;
            }
            continue;
        }
        out.push_str(&redact_words(line));
    }
    if in_key {
        out.push_str("[private key removed]");
    }
    out
}

/// One line, word by word: Slack webhooks and tokens, AWS access key ids.
fn redact_words(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while !rest.is_empty() {
        let start = rest.find(is_word_char).unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(|c: char| !is_word_char(c)).unwrap_or(rest.len());
        let word = &rest[..end];
        out.push_str(match secret_kind(word) {
            Some(kind) => kind,
            None => word,
        });
        rest = &rest[end..];
    }
    out
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_/:.%+".contains(c)
}

fn secret_kind(word: &str) -> Option<&'static str> {
    if word.contains("hooks.slack.com/") {
        return Some("[Slack webhook removed]");
    }
    if ["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xapp-"]
        .iter()
        .any(|p| word.contains(p))
    {
        return Some("[Slack token removed]");
    }
    let key_id = |w: &str| {
        w.len() == 20
            && (w.starts_with("AKIA") || w.starts_with("ASIA"))
            && w.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    };
    if word.split(['=', ':', '/']).any(key_id) {
        return Some("[AWS access key id removed]");
    }
    None
}

#[cfg(test)]
mod tests;
