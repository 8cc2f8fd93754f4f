//! The posts the Slack sink received (`local/slack_sink.py`), as a test reads them.

use serde_json::Value;

#[derive(Debug, Clone)]
pub struct SlackPost {
    pub status: u16,
    pub text: String,
    /// The Block Kit blocks posted with the text (Null when there were none).
    pub blocks: Value,
    /// Where it went: the webhook's path, or `/api/chat.postMessage`.
    pub path: String,
    /// chat.postMessage only: the message's `ts` (when Slack took it), the thread it replies in,
    /// whether it is also shown in the channel, the channel, the sha256 of the bearer token, and
    /// the error Slack answered.
    pub ts: Option<String>,
    pub thread_ts: Option<String>,
    pub broadcast: bool,
    pub channel: Option<String>,
    pub token_sha256: Option<String>,
    pub error: Option<String>,
}

impl SlackPost {
    /// A post as the sink recorded it.
    pub fn from_record(v: &Value, text: String) -> Self {
        let s = |x: &Value| x.as_str().map(str::to_owned);
        SlackPost {
            status: v["status"].as_u64().unwrap_or(0) as u16,
            text,
            blocks: v["body"]["blocks"].clone(),
            path: v["path"].as_str().unwrap_or_default().to_owned(),
            ts: s(&v["ts"]),
            thread_ts: s(&v["thread_ts"]),
            broadcast: v["body"]["reply_broadcast"] == Value::Bool(true),
            channel: s(&v["body"]["channel"]),
            token_sha256: s(&v["token_sha256"]),
            error: s(&v["error"]),
        }
    }

    /// The header block's text ("✅ winter-sale-2026: start succeeded in 41s").
    pub fn header(&self) -> &str {
        self.blocks[0]["text"]["text"].as_str().unwrap_or_default()
    }

    /// The value of the field named `name` ("Run", "Runner", "Stage", "Duration"), if shown.
    pub fn field(&self, name: &str) -> Option<String> {
        let prefix = format!("*{name}*\n");
        self.blocks.as_array()?.iter().find_map(|b| {
            b["fields"].as_array()?.iter().find_map(|f| {
                f["text"]
                    .as_str()?
                    .strip_prefix(&prefix)
                    .map(|v| v.trim_matches('`').to_owned())
            })
        })
    }

    /// The code block of output, if any, without its fence.
    pub fn code(&self) -> Option<String> {
        self.blocks.as_array()?.iter().find_map(|b| {
            let t = b["text"]["text"].as_str()?;
            t.strip_prefix("```\n")
                .and_then(|c| c.strip_suffix("\n```"))
                .map(str::to_owned)
        })
    }

    /// The buttons, as (label, action_id, value), in order.
    pub fn buttons(&self) -> Vec<(String, String, String)> {
        let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        self.blocks
            .as_array()
            .and_then(|bs| bs.iter().find(|b| b["type"] == "actions"))
            .and_then(|a| a["elements"].as_array())
            .map(|es| {
                es.iter()
                    .map(|e| (s(&e["text"]["text"]), s(&e["action_id"]), s(&e["value"])))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The context line's elements, joined.
    pub fn context(&self) -> String {
        self.blocks
            .as_array()
            .and_then(|bs| bs.iter().find(|b| b["type"] == "context"))
            .and_then(|c| c["elements"].as_array())
            .map(|es| {
                es.iter()
                    .filter_map(|e| e["text"].as_str())
                    .collect::<Vec<_>>()
                    .join(" · ")
            })
            .unwrap_or_default()
    }
}
