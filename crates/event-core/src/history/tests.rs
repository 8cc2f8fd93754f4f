use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::*;
use crate::records::Create;

fn sample(run: &str, action: Action, ms: u64) -> Sample {
    Sample {
        event: "winter-sale-2026".into(),
        run: run.into(),
        action: action.as_str().into(),
        terraform_ms: ms,
        at: "2026-12-19T08:30:00Z".into(),
        stages: BTreeMap::new(),
    }
}

#[test]
fn p50_and_p95_are_nearest_ranks_of_the_actions_own_runs() {
    let mut h = History::default();
    for i in 1..=20u64 {
        h.add(sample(&format!("apply-{i}"), Action::Apply, i * 1000));
    }
    h.add(sample("destroy-1", Action::Destroy, 99_000));
    let l = h.learned(Action::Apply).unwrap();
    assert_eq!(l.runs, 20);
    // Nearest rank: the 10th and the 19th of 20.
    assert_eq!(l.p50, Duration::from_secs(10));
    assert_eq!(l.p95, Duration::from_secs(19));
    let d = h.learned(Action::Destroy).unwrap();
    assert_eq!(
        (d.runs, d.p50, d.p95),
        (1, Duration::from_secs(99), Duration::from_secs(99))
    );
    assert_eq!(History::default().learned(Action::Apply), None);
}

#[test]
fn a_run_counts_once_and_the_newest_are_kept() {
    let mut h = History::default();
    h.add(sample("apply-a", Action::Apply, 1000));
    h.add(sample("apply-a", Action::Apply, 1000));
    assert_eq!(
        h.runs.len(),
        1,
        "a run recorded by two invocations counts once"
    );
    for i in 0..(KEEP + 5) {
        h.add(sample(&format!("apply-{i}"), Action::Apply, 1000));
    }
    assert_eq!(h.runs.len(), KEEP);
    assert_eq!(h.runs.last().unwrap().run, format!("apply-{}", KEEP + 4));
    assert!(
        h.runs.iter().all(|s| s.run != "apply-a"),
        "the oldest went first"
    );
}

#[test]
fn a_runs_time_is_told_against_the_history() {
    let l = Learned {
        runs: 12,
        p50: Duration::from_secs(39),
        p95: Duration::from_secs(55),
    };
    assert_eq!(
        against(Duration::from_secs(41), Some(l), Action::Apply),
        "41.0s (p50 39.0s, p95 55.0s over 12 applies of this module)"
    );
    assert_eq!(
        against(Duration::from_secs(41), None, Action::Destroy),
        "41.0s (the first destroy of this module)"
    );
}

/// A bucket whose first conditional write loses to another run's.
#[derive(Default)]
struct Racy {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
    overtaken: Mutex<bool>,
}

#[async_trait]
impl Objects for Racy {
    async fn create(&self, _: &str, _: &[u8]) -> Result<Create> {
        unreachable!()
    }
    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.objects.lock().unwrap().get(key).cloned())
    }
    async fn put(&self, key: &str, body: &[u8]) -> Result<()> {
        self.objects
            .lock()
            .unwrap()
            .insert(key.into(), body.to_vec());
        Ok(())
    }
    async fn delete(&self, _: &str) -> Result<()> {
        unreachable!()
    }
    async fn read_versioned(&self, key: &str) -> Result<Option<(Vec<u8>, String)>> {
        Ok(self
            .read(key)
            .await?
            .map(|b| (b.clone(), b.len().to_string())))
    }
    async fn replace(&self, key: &str, body: &[u8], version: Option<&str>) -> Result<bool> {
        let mut overtaken = self.overtaken.lock().unwrap();
        let mut o = self.objects.lock().unwrap();
        if !*overtaken {
            // Another event's run lands first.
            *overtaken = true;
            let other = History {
                runs: vec![sample("apply-other", Action::Apply, 5000)],
            };
            o.insert(key.into(), serde_json::to_vec(&other).unwrap());
            return Ok(false);
        }
        if o.get(key).map(|b| b.len().to_string()).as_deref() != version {
            return Ok(false);
        }
        o.insert(key.into(), body.to_vec());
        Ok(true)
    }
}

#[tokio::test]
async fn a_sample_overtaken_by_another_run_is_added_again_and_neither_is_lost() {
    let bucket = Arc::new(Racy::default());
    let event = EventId::parse("winter-sale-2026").unwrap();
    let run = RunId::parse("apply-20261219t083000-0000ab").unwrap();
    let h = record(
        bucket.as_ref(),
        "abc",
        &event,
        &run,
        Duration::from_millis(41_250),
        &[
            ("init".to_owned(), Duration::from_millis(1_250)),
            ("plan".to_owned(), Duration::from_secs(10)),
            ("apply".to_owned(), Duration::from_secs(30)),
        ],
    )
    .await
    .unwrap();
    let mine = h.runs.iter().find(|s| s.run == run.as_str()).unwrap();
    assert_eq!(
        mine.stages,
        BTreeMap::from([
            ("init".to_owned(), 1_250),
            ("plan".to_owned(), 10_000),
            ("apply".to_owned(), 30_000)
        ]),
        "a run's stages are kept with it"
    );
    let runs: Vec<(&str, u64)> = h
        .runs
        .iter()
        .map(|s| (s.run.as_str(), s.terraform_ms))
        .collect();
    assert_eq!(
        runs,
        [
            ("apply-other", 5000),
            ("apply-20261219t083000-0000ab", 41_250)
        ]
    );
    let stored: History =
        serde_json::from_slice(&bucket.read(&key("abc")).await.unwrap().unwrap()).unwrap();
    assert_eq!(stored, h);
}

#[tokio::test]
async fn a_runners_boot_is_recorded_once_per_instance_and_learned_apart_from_the_runs() {
    let bucket = Racy::default();
    let event = EventId::parse("winter-sale-2026").unwrap();
    for (instance, secs) in [("i-1", 150), ("i-2", 210), ("i-1", 999)] {
        record_boot(&bucket, "abc", &event, instance, Duration::from_secs(secs)).await;
    }
    let run = RunId::parse("apply-20261219t083000-0000ab").unwrap();
    let h = record(&bucket, "abc", &event, &run, Duration::from_secs(600), &[])
        .await
        .expect("recorded");
    let boot = h.learned_boot().expect("boots");
    assert_eq!(
        (boot.runs, boot.p95),
        (2, Duration::from_secs(210)),
        "a runner boots once: {h:?}"
    );
    // The bucket's own overtaking run (5 s) and this one; no boot among them.
    let apply = h.learned(Action::Apply).unwrap();
    assert_eq!((apply.runs, apply.p95), (2, Duration::from_secs(600)));
    // For infra/control's default: (600 s + 210 s) × 1.25 = 16.875 min, up to a tenth.
    let lead = bucket
        .read(LEAD_KEY)
        .await
        .unwrap()
        .expect("the learned lead time");
    let lead: serde_json::Value = serde_json::from_slice(&lead).unwrap();
    assert_eq!(lead["lead_time_minutes"], 16.9, "{lead}");
    assert_eq!(
        (lead["applies"].as_u64(), lead["boots"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(lead["module"], "abc");
}
