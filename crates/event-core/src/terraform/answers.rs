//! Reading the runner's answers to the protocol's commands (`runner-protocol.sh`): one line of
//! words each, or a status line followed by the run's log.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::run::{LastRun, Poll, Readiness, RunId, RunStage, RunState, Started};

/// Largest log chunk one poll returns (the script's `head -c`).
const MAX_CHUNK: usize = 262_144;

pub(super) fn words(out: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(out)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

pub(super) fn readiness_from(words: &[String]) -> Readiness {
    match words.first().map(String::as_str) {
        Some("ready") => Readiness::Ready,
        _ => Readiness::NotReady {
            has_runs: words.get(1).is_some_and(|w| w == "has-runs"),
        },
    }
}

pub(super) fn last_from(words: &[String]) -> Result<Option<LastRun>> {
    match words.first() {
        None => Ok(None),
        w => Ok(Some(LastRun {
            run: run_id_in("status", w)?,
            running: words.get(1).is_some_and(|w| w == "running"),
        })),
    }
}

/// The runner's answer to `runner.sh start`.
pub(super) fn started_from(run: &RunId, words: &[String]) -> Result<Started> {
    match words.first().map(String::as_str) {
        Some("started") => Ok(Started::Started(run_id_in("start", words.get(1))?)),
        Some("busy") => Ok(Started::Busy(run_id_in("start", words.get(1))?)),
        Some("retired") => Ok(Started::Retired),
        _ => Err(Error::Terraform {
            action: run.action().to_string(),
            outcome: format!("could not be started: runner answered {words:?}"),
        }),
    }
}

pub(super) fn run_id_in(what: &str, word: Option<&String>) -> Result<RunId> {
    word.and_then(|w| RunId::parse(w))
        .ok_or_else(|| Error::Terraform {
            action: what.to_owned(),
            outcome: format!("got an answer it cannot read: {word:?}"),
        })
}

pub(super) fn parse_poll(out: &[u8]) -> Result<Poll> {
    let nl = out.iter().position(|b| *b == b'\n').unwrap_or(out.len());
    let head = String::from_utf8_lossy(&out[..nl]).into_owned();
    let chunk = out.get(nl + 1..).unwrap_or_default();
    let chunk = chunk[..chunk.len().min(MAX_CHUNK)].to_vec();
    let fields: BTreeMap<&str, &str> = head
        .split_whitespace()
        .filter_map(|w| w.split_once('='))
        .collect();
    let stage = RunStage::parse(fields.get("stage").copied().unwrap_or("unknown"));
    let state = match fields.get("state").copied() {
        Some("running") => RunState::Running,
        Some("done") => RunState::Done {
            exit: fields
                .get("exit")
                .and_then(|e| e.parse().ok())
                .unwrap_or(-1),
            changes: fields.get("changes").copied() != Some("no"),
        },
        Some("lost") => RunState::Lost,
        Some("unknown") => RunState::Unknown,
        _ => {
            return Err(Error::Terraform {
                action: "poll".into(),
                outcome: format!("got an answer it cannot read: {head:?}"),
            });
        }
    };
    let took = fields
        .get("took_ms")
        .and_then(|ms| ms.parse().ok())
        .map(Duration::from_millis);
    let ended = fields
        .get("ended_ms")
        .and_then(|ms| ms.parse().ok())
        .map(Duration::from_millis);
    let stages = fields
        .get("stages")
        .map(|s| {
            s.split(',')
                .filter_map(|p| p.split_once(':'))
                .filter(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_lowercase()))
                .filter_map(|(n, ms)| Some((n.to_owned(), Duration::from_millis(ms.parse().ok()?))))
                .collect()
        })
        .unwrap_or_default();
    Ok(Poll {
        state,
        stage,
        chunk,
        took,
        ended,
        stages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_lines_are_read() {
        let p = parse_poll(b"state=done exit=1 stage=apply changes=yes\nError: boom\n").unwrap();
        assert_eq!(
            p.state,
            RunState::Done {
                exit: 1,
                changes: true
            }
        );
        assert_eq!(p.stage, RunStage::Apply);
        assert_eq!(p.chunk, b"Error: boom\n");
        assert_eq!(p.took, None);
        let p = parse_poll(b"state=done exit=0 stage=apply changes=no took_ms=61250\n").unwrap();
        assert_eq!(p.took, Some(Duration::from_millis(61_250)));
        assert!(p.stages.is_empty());
        let p = parse_poll(
            b"state=done exit=0 stage=apply changes=yes took_ms=61250 stages=init:1250,plan:10000,apply:50000,Bad:1,x:y\n",
        )
        .unwrap();
        let ms = |n: &str, ms: u64| (n.to_owned(), Duration::from_millis(ms));
        assert_eq!(
            p.stages,
            [ms("init", 1250), ms("plan", 10_000), ms("apply", 50_000)],
            "in order; what is not a stage's name and milliseconds is left out"
        );
        let p = parse_poll(b"state=running stage=plan\n").unwrap();
        assert_eq!(p.state, RunState::Running);
        assert!(parse_poll(b"bash: no such file\n").is_err());
    }

    #[test]
    fn readiness_and_the_last_run_are_read() {
        let w = |s: &str| words(s.as_bytes());
        assert_eq!(readiness_from(&w("ready")), Readiness::Ready);
        assert_eq!(
            readiness_from(&w("not-ready has-runs")),
            Readiness::NotReady { has_runs: true }
        );
        assert_eq!(
            readiness_from(&w("")),
            Readiness::NotReady { has_runs: false }
        );
        assert_eq!(last_from(&w("")).unwrap(), None);
        let run = RunId::parse("apply-20261203t161817-b9e78a").unwrap();
        assert_eq!(
            last_from(&w(&format!("{run} running"))).unwrap(),
            Some(LastRun {
                run: run.clone(),
                running: true
            })
        );
        assert!(
            !last_from(&w(&format!("{run} ended")))
                .unwrap()
                .unwrap()
                .running
        );
        assert!(last_from(&w("bash: flock: not found")).is_err());
        assert_eq!(
            started_from(&run, &w(&format!("busy {run}"))).unwrap(),
            Started::Busy(run.clone())
        );
        assert!(started_from(&run, &w("")).is_err());
    }
}
