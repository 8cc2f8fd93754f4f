use super::*;

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const NOW: i64 = 1_531_420_618;

/// Slack's own example from "Verifying requests from Slack" (the values its SDKs test with).
const SLACK_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const SLACK_SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

fn secret() -> SecretString {
    SecretString::from(SECRET)
}

fn signed<'a>(stamp: &'a str, signature: &'a str, body: &'a [u8]) -> Signed<'a> {
    Signed {
        timestamp: Some(stamp),
        signature: Some(signature),
        body,
    }
}

/// A body signed at `at`, verified at `now`.
fn verify_at(at: i64, now: i64) -> Result<Verified, VerifyError> {
    let body = b"command=%2Fevent&text=status+winter-sale-2026";
    let signature = sign(&secret(), at, body);
    verify(&secret(), &signed(&at.to_string(), &signature, body), now)
}

#[test]
fn slacks_documented_example_verifies() {
    let request = signed("1531420618", SLACK_SIGNATURE, SLACK_BODY.as_bytes());
    let verified = verify(&secret(), &request, NOW).unwrap();
    assert_eq!(verified.timestamp, NOW);
    assert_eq!(sign(&secret(), NOW, SLACK_BODY.as_bytes()), SLACK_SIGNATURE);
}

#[test]
fn a_body_changed_by_one_byte_fails() {
    let body = SLACK_BODY.as_bytes();
    // Signed by Slack and by our own `sign`: the unchanged body passes with either.
    let ours = sign(&secret(), NOW, body);
    for signature in [SLACK_SIGNATURE, ours.as_str()] {
        assert!(verify(&secret(), &signed("1531420618", signature, body), NOW).is_ok());
        for i in 0..body.len() {
            let mut changed = body.to_vec();
            changed[i] ^= 0x01;
            let request = signed("1531420618", signature, &changed);
            assert_eq!(
                verify(&secret(), &request, NOW),
                Err(VerifyError::BadSignature),
                "byte {i}"
            );
        }
    }
    let mut longer = body.to_vec();
    longer.push(b'&');
    let request = signed("1531420618", SLACK_SIGNATURE, &longer);
    assert_eq!(
        verify(&secret(), &request, NOW),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn the_timestamp_is_part_of_what_is_signed() {
    // Same body and signature, the header moved by a second (or written with a leading zero).
    for stamp in ["1531420617", "01531420618"] {
        let request = signed(stamp, SLACK_SIGNATURE, SLACK_BODY.as_bytes());
        assert_eq!(
            verify(&secret(), &request, NOW),
            Err(VerifyError::BadSignature)
        );
    }
}

#[test]
fn the_window_is_five_minutes_either_way() {
    assert!(verify_at(NOW - 299, NOW).is_ok());
    assert!(verify_at(NOW - 300, NOW).is_ok());
    assert_eq!(
        verify_at(NOW - 301, NOW),
        Err(VerifyError::Stale { skew: 301 })
    );
    assert!(verify_at(NOW + 299, NOW).is_ok());
    assert!(verify_at(NOW + 300, NOW).is_ok());
    assert_eq!(
        verify_at(NOW + 301, NOW),
        Err(VerifyError::Stale { skew: -301 })
    );
    assert_eq!(
        VerifyError::Stale { skew: 301 }.to_string(),
        "request timestamp is 301 s old, outside the 300 s window"
    );
    assert_eq!(
        VerifyError::Stale { skew: -301 }.to_string(),
        "request timestamp is 301 s in the future, outside the 300 s window"
    );
}

#[test]
fn a_wrong_secret_fails() {
    let other = SecretString::from("8f742231b10e8888abcd99yyyzzz85a6");
    let request = signed("1531420618", SLACK_SIGNATURE, SLACK_BODY.as_bytes());
    assert_eq!(
        verify(&other, &request, NOW),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn an_empty_secret_trusts_nothing() {
    let empty = SecretString::from("");
    let request = signed("1531420618", SLACK_SIGNATURE, SLACK_BODY.as_bytes());
    assert_eq!(verify(&empty, &request, NOW), Err(VerifyError::EmptySecret));
    assert_eq!(sign(&empty, NOW, b"x"), "");
    assert_eq!(VerifyError::EmptySecret.status(), 500);
}

#[test]
fn signatures_of_the_wrong_shape_are_malformed() {
    let hex = &SLACK_SIGNATURE[3..];
    let cases = [
        format!("v0={}", &hex[..63]),
        format!("v0={}", &hex[..62]),
        format!("v0={hex}0"),
        format!("v0={hex}00"),
        format!("v1={hex}"),
        hex.to_owned(),
        format!("v0={}g", &hex[..63]),
        String::new(),
    ];
    for bad in &cases {
        let request = signed("1531420618", bad, SLACK_BODY.as_bytes());
        assert!(
            matches!(
                verify(&secret(), &request, NOW),
                Err(VerifyError::Malformed {
                    header: SIGNATURE_HEADER,
                    ..
                })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn timestamps_must_be_whole_unix_seconds() {
    for bad in [
        "",
        "abc",
        "+1531420618",
        "-1531420618",
        "1531420618.5",
        " 1531420618",
        "9".repeat(16).as_str(),
    ] {
        let request = signed(bad, SLACK_SIGNATURE, SLACK_BODY.as_bytes());
        assert_eq!(
            verify(&secret(), &request, NOW),
            Err(VerifyError::Malformed {
                header: TIMESTAMP_HEADER,
                reason: "must be a Unix time in whole seconds"
            }),
            "{bad:?}"
        );
    }
}

#[test]
fn missing_headers_are_named() {
    let body = SLACK_BODY.as_bytes();
    let no_stamp = Signed::from_headers([("x-slack-signature", SLACK_SIGNATURE)], body);
    let err = verify(&secret(), &no_stamp, NOW).unwrap_err();
    assert_eq!(err, VerifyError::MissingHeader(TIMESTAMP_HEADER));
    assert_eq!(err.to_string(), "missing header X-Slack-Request-Timestamp");
    let no_signature = Signed::from_headers([("x-slack-request-timestamp", "1531420618")], body);
    assert_eq!(
        verify(&secret(), &no_signature, NOW),
        Err(VerifyError::MissingHeader(SIGNATURE_HEADER))
    );
    assert_eq!(err.status(), 401);
}

#[test]
fn headers_are_found_whatever_their_case() {
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("X-SLACK-REQUEST-TIMESTAMP", "1531420618"),
        ("x-slack-signature", SLACK_SIGNATURE),
        ("X-Slack-Signature", "v0=ignored-the-first-counts"),
    ];
    let request = Signed::from_headers(headers, SLACK_BODY.as_bytes());
    assert_eq!(request.timestamp, Some("1531420618"));
    assert_eq!(request.signature, Some(SLACK_SIGNATURE));
    assert!(verify(&secret(), &request, NOW).is_ok());
}

#[test]
fn the_secret_never_appears_in_an_error() {
    let wrong_secret = SecretString::from("not-the-secret-but-also-private");
    let mut errors = vec![
        verify(
            &wrong_secret,
            &signed("1531420618", SLACK_SIGNATURE, SLACK_BODY.as_bytes()),
            NOW,
        )
        .unwrap_err(),
    ];
    for (stamp, signature, now) in [
        ("1531420618", SLACK_SIGNATURE, NOW + 10_000),
        ("x", SLACK_SIGNATURE, NOW),
        ("1531420618", "v0=zz", NOW),
        ("1531420618", &SLACK_SIGNATURE.replace('a', "b"), NOW),
    ] {
        let request = signed(stamp, signature, SLACK_BODY.as_bytes());
        errors.push(verify(&secret(), &request, now).unwrap_err());
    }
    errors.push(VerifyError::Replayed);
    errors.push(VerifyError::EmptySecret);
    for err in &errors {
        for shown in [format!("{err:?}"), err.to_string()] {
            assert!(!shown.contains(SECRET), "{shown}");
            assert!(!shown.contains("not-the-secret"), "{shown}");
        }
    }
    assert!(!format!("{:?}", secret()).contains(SECRET));
}

#[test]
fn a_request_is_keyed_by_its_signature() {
    let request = signed("1531420618", SLACK_SIGNATURE, SLACK_BODY.as_bytes());
    let verified = verify(&secret(), &request, NOW).unwrap();
    let key = replay_key(SLACK_SIGNATURE).unwrap();
    assert_eq!(verified.replay_key, key);
    let hash = key.strip_prefix(REPLAY_PREFIX).unwrap();
    assert_eq!(hash.len(), 32);
    assert!(
        hash.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    // The same signature in upper case is the same request (both verify).
    let upper = format!("v0={}", SLACK_SIGNATURE[3..].to_ascii_uppercase());
    assert_eq!(replay_key(&upper).unwrap(), key);
    assert!(
        verify(
            &secret(),
            &signed("1531420618", &upper, SLACK_BODY.as_bytes()),
            NOW
        )
        .is_ok()
    );
    // Another request, another key.
    let other = sign(&secret(), NOW, b"text=status+b");
    assert_ne!(replay_key(&other).unwrap(), key);
    assert!(replay_key("v0=short").is_err());
}
