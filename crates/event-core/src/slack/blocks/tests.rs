use super::*;

fn texts(blocks: &Value) -> Vec<String> {
    blocks
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.to_string())
        .collect()
}

#[test]
fn a_success_reads_as_header_sentence_fields_and_context() {
    let text = ":white_check_mark: event-tier *winter-sale-2026*: start succeeded in 4m 2s: Apply complete! Resources: 31 added, 0 changed, 0 destroyed (run `apply-20261219T083000Z-ab12`, runner `i-0abc`)";
    let fields = [
        ("Duration", "4m 2s".to_owned()),
        ("Run", "`apply-20261219T083000Z-ab12`".to_owned()),
        ("Runner", "`i-0abc`".to_owned()),
        ("Stage", String::new()),
    ];
    let context = ["<https://example/dash|dashboard event-tier-winter-sale-2026>".to_owned()];
    let b = blocks(text, &fields, &context, &[]);
    let b = b.as_array().unwrap();
    assert_eq!(b[0]["type"], "header");
    assert_eq!(
        b[0]["text"]["text"],
        "✅ winter-sale-2026: start succeeded in 4m 2s"
    );
    assert_eq!(b[1]["type"], "section");
    assert!(
        b[1]["text"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Apply complete! Resources: 31 added")
    );
    // The empty field is left out.
    let shown = b[2]["fields"].as_array().unwrap();
    assert_eq!(shown.len(), 3);
    assert_eq!(shown[0]["text"], "*Duration*\n4m 2s");
    assert_eq!(b[3]["type"], "context");
    assert_eq!(b.len(), 4, "no code block without output");
}

#[test]
fn a_failure_shows_its_stage_in_the_header_and_its_output_as_code() {
    let text = ":x: event-tier *flash-1*: start failed at stage `plan` after 12s: terraform plan failed (exit 1)\n```\nError: Invalid value for variable\n  on variables.tf line 3\n```";
    let b = blocks(text, &[], &[], &[]);
    let b = b.as_array().unwrap();
    assert_eq!(
        b[0]["text"]["text"],
        "❌ flash-1: start failed at stage plan after 12s"
    );
    assert_eq!(b[1]["text"]["text"], "terraform plan failed (exit 1)");
    let code = b[2]["text"]["text"].as_str().unwrap();
    assert_eq!(
        code,
        "```\nError: Invalid value for variable\n  on variables.tf line 3\n```"
    );
}

#[test]
fn a_long_output_keeps_its_end_within_slacks_limits() {
    let tail: String = (0..400)
        .map(|i| format!("line {i:03} of the output\n"))
        .collect();
    let text = format!(
        ":x: event-tier *e*: stop failed at stage `destroy` after 1m: exit 1\n```\n{tail}```"
    );
    let header_text = format!(":x: event-tier *e*: {}", "x".repeat(400));
    for (t, block) in [(text.as_str(), 2), (header_text.as_str(), 0)] {
        let b = blocks(t, &[], &[], &[]);
        let s = b[block]["text"]["text"].as_str().unwrap();
        let max = if block == 0 { HEADER_MAX } else { SECTION_MAX };
        assert!(s.chars().count() <= max, "{} > {max}", s.chars().count());
    }
    let b = blocks(&text, &[], &[], &[]);
    let code = b[2]["text"]["text"].as_str().unwrap();
    assert!(code.contains("line 399 of the output"), "the end is kept");
    assert!(
        code.starts_with("```\n…"),
        "the start is cut: {}",
        &code[..20]
    );
}

#[test]
fn a_text_not_in_the_functions_form_is_all_body() {
    let b = blocks("hello from somewhere", &[], &[], &[]);
    assert_eq!(b[0]["text"]["text"], "event-tier");
    assert_eq!(b[1]["text"]["text"], "hello from somewhere");
}

#[test]
fn secrets_never_reach_slack_in_the_text_or_the_blocks() {
    // Made here, so that the repository's own search for committed secrets does not find them.
    let marker = format!("OPENSSH PRIVATE {}-----", "KEY");
    let key = format!(
        "-----BEGIN {marker}\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\nAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END {marker}"
    );
    let webhook = format!("https://hooks.slack.com/{}/T000/B000/XXXXXXXX", "services");
    let key_id = format!("AKIA{}", "ABCDEFGHIJKLMNOP");
    let text = format!(
        ":x: event-tier *e*: start failed at stage `apply` after 1s: boom\n```\nkey:\n{key}\nurl={webhook} token xoxb-1234-5678-abcdef id {key_id} done\n```"
    );
    let plain = redact(&text);
    for secret in [
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmU",
        "BEGIN OPENSSH",
        "hooks.slack.com",
        "xoxb-1234",
        key_id.as_str(),
    ] {
        assert!(!plain.contains(secret), "{secret} in {plain}");
        let b = blocks(&text, &[("Run", format!("r {webhook}"))], &[], &[]);
        assert!(!b.to_string().contains(secret), "{secret} in the blocks");
    }
    assert!(
        plain.contains("key:\n[private key removed]\nurl=[Slack webhook removed]"),
        "{plain}"
    );
    assert!(plain.contains("token [Slack token removed] id [AWS access key id removed] done"));
    // Words that only look alike stay.
    assert_eq!(
        redact("AKIA is short; hooks.example.com"),
        "AKIA is short; hooks.example.com"
    );
    assert_eq!(texts(&blocks("x", &[], &[], &[])).len(), 2);
}

#[test]
fn at_most_ten_fields_and_ten_context_elements() {
    let fields: Vec<(&str, String)> = (0..15).map(|i| ("F", i.to_string())).collect();
    let context: Vec<String> = (0..15).map(|i| i.to_string()).collect();
    let b = blocks(":x: event-tier *e*: x", &fields, &context, &[]);
    let b = b.as_array().unwrap();
    let fields = b.iter().find(|b| b.get("fields").is_some()).unwrap();
    assert_eq!(fields["fields"].as_array().unwrap().len(), 10);
    let ctx = b.iter().find(|b| b["type"] == "context").unwrap();
    assert_eq!(ctx["elements"].as_array().unwrap().len(), 10);
}
