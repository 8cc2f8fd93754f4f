//! No secret is committed: test keys are generated at test time, the webhook is the local sink's.
//! Every file git tracks is searched for a private key, a Slack webhook and an AWS access key id.

use std::path::Path;
use std::process::Command;

/// What a committed secret looks like, built here so that this file does not match itself.
fn findings(text: &str) -> Vec<&'static str> {
    let private_key = format!("PRIVATE {}-----", "KEY");
    let webhook = format!("hooks.slack.com/{}/", "services");
    let mut found = Vec::new();
    if text.contains(&private_key) {
        found.push("a private key");
    }
    if text.contains(&webhook) {
        found.push("a Slack webhook");
    }
    let access_key = text.match_indices("AKIA").any(|(i, _)| {
        let rest = &text.as_bytes()[i + 4..];
        rest.len() >= 16
            && rest[..16]
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    });
    if access_key {
        found.push("an AWS access key id");
    }
    found
}

#[test]
fn the_search_finds_what_it_looks_for() {
    let pem = format!("-----BEGIN OPENSSH PRIVATE {}-----\nb3Blbn==\n", "KEY");
    assert_eq!(findings(&pem), ["a private key"]);
    let hook = format!("https://hooks.slack.com/{}/T000/B000/xyz", "services");
    assert_eq!(findings(&hook), ["a Slack webhook"]);
    let key = format!("aws_access_key_id = AKIA{}", "IOSFODNN7EXAMPLE");
    assert_eq!(findings(&key), ["an AWS access key id"]);
    assert!(findings("AKIA is a prefix; AKIAshort").is_empty());
}

#[test]
fn no_tracked_file_holds_a_private_key_a_webhook_or_an_access_key() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(&root)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git ls-files failed");
    let files: Vec<String> = out
        .stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    assert!(files.len() > 50, "tracked files: {}", files.len());
    let mut hits = Vec::new();
    for file in &files {
        let Ok(bytes) = std::fs::read(root.join(file)) else {
            continue; // deleted in the work tree
        };
        for what in findings(&String::from_utf8_lossy(&bytes)) {
            hits.push(format!("{file}: {what}"));
        }
    }
    assert!(
        hits.is_empty(),
        "secrets in tracked files:\n{}",
        hits.join("\n")
    );
}
