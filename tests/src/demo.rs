//! A sales event's whole lifecycle on the local stack, through the real Lambda runtime path
//! (`cargo lambda watch` + `cargo lambda invoke` with `events/*.json`): what `make demo` shows and
//! what its test asserts.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::slack_client::{self, SlackApp};
use crate::watch::{Functions, Watch};
use crate::{SlackPost, Stack, root, sample};

/// The demo's Slack user, on event-slack's allow-lists.
const DEMO_USER: &str = "U0DEMO001";

#[derive(Debug, Default)]
pub struct Report {
    pub event_id: String,
    /// (stage, duration, ok)
    pub stages: Vec<(String, Duration, bool)>,
    /// Resource addresses in the event's Terraform state after the start.
    pub created: Vec<String>,
    /// Resources in the state after the stop (expected: none).
    pub left_in_state: Vec<String>,
    pub runners_launched: usize,
    pub runners_terminated: usize,
    pub live_runners: usize,
    /// What event-stop found still tagged with the event.
    pub leftovers: Vec<String>,
    pub slack: Vec<SlackPost>,
    /// Which secrets (by name, never the value) were found in the function logs or in Slack.
    pub leaked: Vec<String>,
    /// Which secrets were searched for (by name).
    pub searched: Vec<String>,
    /// The dress rehearsal's verdict (`go` or `no_go`) and its checks, as Slack got them.
    pub rehearsal_status: String,
    pub rehearsal: Vec<String>,
    pub start_status: String,
    pub stop_status: String,
    /// The hour a signed Slack request added to the event's end (its override record).
    pub extended_secs: u64,
    pub failure: Option<String>,
}

impl Report {
    /// The lifecycle succeeded and nothing was left behind.
    pub fn ok(&self) -> bool {
        self.failure.is_none()
            && (self.rehearsal_status == "go" || self.rehearsal_status == "no_go")
            && self.rehearsal.len() > 1
            && self.start_status == "applied"
            && self.stop_status == "destroyed"
            && !self.created.is_empty()
            && self.left_in_state.is_empty()
            && self.live_runners == 0
            && self.leftovers.is_empty()
            && self.leaked.is_empty()
            && self.extended_secs == 3600
    }

    pub fn summary(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!("\n== Summary of {} ==\n\n", self.event_id));
        s.push_str("| stage | duration | result |\n|---|---|---|\n");
        for (name, d, ok) in &self.stages {
            s.push_str(&format!(
                "| {name} | {:.1}s | {} |\n",
                d.as_secs_f64(),
                if *ok { "ok" } else { "FAILED" }
            ));
        }
        let total: Duration = self.stages.iter().map(|(_, d, _)| *d).sum();
        s.push_str(&format!("| total | {:.1}s | |\n\n", total.as_secs_f64()));
        s.push_str(&format!(
            "rehearsal: {}\n\n",
            self.rehearsal.first().map_or("none", String::as_str)
        ));
        s.push_str("| what | count |\n|---|---|\n");
        s.push_str(&format!(
            "| resources created by event-start | {} |\n",
            self.created.len()
        ));
        s.push_str(&format!(
            "| resources destroyed by event-stop | {} |\n",
            self.created.len() - self.left_in_state.len().min(self.created.len())
        ));
        s.push_str(&format!(
            "| runners launched | {} |\n",
            self.runners_launched
        ));
        s.push_str(&format!(
            "| runners terminated | {} |\n",
            self.runners_terminated
        ));
        s.push_str(&format!("| Slack messages sent | {} |\n", self.slack.len()));
        s.push_str(&format!(
            "| minutes added to the end from Slack | {} |\n",
            self.extended_secs / 60
        ));
        s.push_str(&format!(
            "| secrets found in function logs or Slack | {} |\n",
            self.leaked.len()
        ));
        s.push_str(&format!(
            "| left behind (state, live runners, tagged) | {} |\n\n",
            self.left_in_state.len() + self.live_runners + self.leftovers.len()
        ));
        if self.ok() {
            s.push_str(
                "RESULT: the event tier was created and destroyed; nothing was left behind.\n",
            );
        } else {
            let reason = self.failure.clone().unwrap_or_else(|| {
                format!(
                    "start {}, stop {}, {} created, left: {:?} in state, {} live runners, {:?} tagged, secrets out: {:?}",
                    self.start_status, self.stop_status, self.created.len(), self.left_in_state, self.live_runners, self.leftovers, self.leaked
                )
            });
            s.push_str(&format!("RESULT: FAILED: {reason}\n"));
        }
        s
    }
}

fn say(line: &str) {
    println!("{line}");
}

/// The event database's master password, which RDS keeps in Secrets Manager (moto too).
async fn event_database_password(stack: &Stack, event: &str) -> Option<String> {
    let state = stack.state(event).await?;
    let arn = state["resources"]
        .as_array()?
        .iter()
        .find(|r| r["mode"] == "managed" && r["type"] == "aws_db_instance")?["instances"][0]
        ["attributes"]["master_user_secret"][0]["secret_arn"]
        .as_str()?
        .to_owned();
    let value = aws_sdk_secretsmanager::Client::new(&stack.sdk)
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .ok()?;
    let v: Value = serde_json::from_str(value.secret_string()?).ok()?;
    v["password"].as_str().map(str::to_owned)
}

/// Resource addresses of the event's state, with a telling attribute each.
async fn state_listing(stack: &Stack, event: &str) -> Vec<(String, String)> {
    let Some(state) = stack.state(event).await else {
        return vec![];
    };
    let mut out = Vec::new();
    for r in state["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["mode"] == "managed")
    {
        for (i, inst) in r["instances"].as_array().into_iter().flatten().enumerate() {
            let a = &inst["attributes"];
            let shown = [
                "dns_name",
                "endpoint",
                "replication_task_id",
                "schedule_expression",
                "name",
                "id",
            ]
            .iter()
            .find_map(|k| {
                a[*k]
                    .as_str()
                    .filter(|v| !v.is_empty())
                    .map(|v| format!("{k}={v}"))
            })
            .unwrap_or_default();
            let idx = if r["instances"].as_array().map_or(0, Vec::len) > 1 {
                format!("[{i}]")
            } else {
                String::new()
            };
            out.push((
                format!(
                    "{}.{}{idx}",
                    r["type"].as_str().unwrap_or("?"),
                    r["name"].as_str().unwrap_or("?")
                ),
                shown,
            ));
        }
    }
    out
}

/// Invokes with the sample file, or with its payload under another event id, and follows up while
/// the function hands over (the emulator fires no schedules).
fn invoke_until_done(
    watch: &Watch,
    function: &str,
    file: &str,
    event: Option<&str>,
) -> Result<Value, String> {
    let mut out = match event {
        None => watch.invoke(function, file)?,
        Some(id) => {
            let mut payload = sample(file.trim_start_matches("events/"));
            payload["event_id"] = json!(id);
            watch.invoke_json(function, &payload)?
        }
    };
    let rehearsal = sample(file.trim_start_matches("events/"))["rehearsal"].clone();
    while out["status"] == "in_progress" {
        let mut follow = match out["run_id"].as_str() {
            Some(run) => json!({ "event_id": out["event_id"], "follow": { "run_id": run } }),
            None => json!({ "event_id": out["event_id"] }),
        };
        // A rehearsal's follow-up carries it on, as the function's own follow-up does.
        if !rehearsal.is_null() {
            follow["rehearsal"] = rehearsal.clone();
        }
        say(&format!(
            "    {function} handed over ({}); following up with {follow}",
            out["message"].as_str().unwrap_or("")
        ));
        out = watch.invoke_json(function, &follow)?;
    }
    Ok(out)
}

struct Stages<'a>(&'a mut Report);

impl Stages<'_> {
    fn begin(&self, name: &str) -> Instant {
        say(&format!("\n▶ {name}"));
        Instant::now()
    }

    fn end(&mut self, name: &str, started: Instant, ok: bool) {
        let d = started.elapsed();
        say(&format!(
            "{} {name} ({:.1}s)",
            if ok { "✔" } else { "✘" },
            d.as_secs_f64()
        ));
        self.0.stages.push((name.to_owned(), d, ok));
    }
}

/// Runs the lifecycle of the sample event, or of the same payloads under `event_id` (tests, which
/// share the stack). `own_group`: run `cargo lambda watch` in its own process group (tests).
pub async fn lifecycle(stack: &Stack, own_group: bool, event_id: Option<&str>) -> Report {
    let event = event_id.map(str::to_owned).unwrap_or_else(|| {
        sample("start.json")["event_id"]
            .as_str()
            .unwrap()
            .to_owned()
    });
    let mut report = Report {
        event_id: event.clone(),
        ..Report::default()
    };
    // On a stack kept up (make local-up), earlier runs of the same event left runners and messages:
    // the summary counts this run's only.
    let earlier_runners: Vec<String> = stack
        .instances(&event)
        .await
        .into_iter()
        .map(|r| r.id)
        .collect();
    let earlier_posts = stack.slack(&event).len();
    let mut st = Stages(&mut report);
    std::fs::create_dir_all(root().join(".local/logs")).unwrap();
    let log = root().join(format!(".local/logs/demo-cargo-lambda-watch-{event}.log"));

    let t = st.begin("cargo lambda watch (the Lambda runtime, on 127.0.0.1)");
    // Under the tests, the workspace's build of the functions; at a terminal, cargo lambda's own.
    let functions = if own_group {
        Functions::Built
    } else {
        Functions::ByWatch
    };
    // The Slack app: a signing secret made for this run, the event's stop schedule two hours out.
    let end = time::OffsetDateTime::now_utc() + time::Duration::hours(2);
    let slack = SlackApp::prepare(stack, &event, end.replace_nanosecond(0).unwrap()).await;
    let allow = format!("extend={DEMO_USER};hold={DEMO_USER};release={DEMO_USER}");
    let watch = Watch::start(&slack.env(&allow, "240"), &log, own_group, functions);
    say(&format!(
        "    listening on 127.0.0.1:{}; function logs in {}",
        watch.port,
        log.display()
    ));
    st.end("cargo lambda watch", t, true);

    // The dress rehearsal, as its schedule sends it two days before the opening.
    let t = st.begin(
        "rehearsal: cargo lambda invoke event-start --data-file events/rehearsal.json (its schedule fires 2 days before the opening)",
    );
    let posted = stack.slack(&event).len();
    let rehearsed = invoke_until_done(&watch, "event-start", "events/rehearsal.json", event_id);
    match &rehearsed {
        Ok(o) => {
            st.0.rehearsal_status = o["status"].as_str().unwrap_or("?").to_owned();
            st.0.rehearsal = stack
                .slack(&event)
                .iter()
                .skip(posted)
                .find(|p| p.text.contains("rehearsal: *"))
                .map(|p| p.text.lines().map(str::to_owned).collect())
                .unwrap_or_default();
            say("    Slack got the report:");
            for line in &st.0.rehearsal {
                say(&format!("      | {line}"));
            }
            if st.0.rehearsal_status == "no_go" {
                say(
                    "    [emulator] the account's quotas are AWS's defaults for a new account; a NO-GO two days ahead is the time to ask AWS for more (Service Quotas). The demo goes on: a start does not wait for its rehearsal.",
                );
            }
        }
        Err(e) => {
            say(&format!("    error: {e}"));
            st.0.failure = Some(format!("the rehearsal failed: {e}"));
        }
    }
    let ok = rehearsed
        .as_ref()
        .is_ok_and(|o| o["status"] == "go" || o["status"] == "no_go");
    st.end("rehearsal", t, ok);

    // event-start
    let t = st.begin("event-start: cargo lambda invoke event-start --data-file events/start.json");
    let start = invoke_until_done(&watch, "event-start", "events/start.json", event_id);
    match &start {
        Ok(o) => {
            say(&format!("    {o}"));
            st.0.start_status = o["status"].as_str().unwrap_or("?").to_owned();
        }
        Err(e) => {
            say(&format!("    error: {e}"));
            st.0.failure = Some(format!("event-start failed: {e}"));
        }
    }
    let ok = start.as_ref().is_ok_and(|o| o["status"] == "applied");
    st.end("event-start", t, ok);

    let t =
        st.begin("what exists now (Terraform state in the local S3, resources in the local AWS)");
    let listing = state_listing(stack, &event).await;
    let mut by_type: BTreeMap<String, usize> = BTreeMap::new();
    for (address, shown) in &listing {
        say(&format!("    {address:<55} {shown}"));
        *by_type
            .entry(address.split('.').next().unwrap_or("?").to_owned())
            .or_default() += 1;
    }
    say(&format!(
        "    {} resources, {} kinds",
        listing.len(),
        by_type.len()
    ));
    st.0.created = listing.iter().map(|(a, _)| a.clone()).collect();
    let mut runners = stack.instances(&event).await;
    runners.retain(|r| !earlier_runners.contains(&r.id));
    for r in &runners {
        say(&format!(
            "    runner {} ({}), tags event-tier:event={}",
            r.id,
            r.state,
            r.tags.get("event-tier:event").map_or("-", String::as_str)
        ));
    }
    st.0.runners_launched = runners.len();
    st.end("inspect", t, !listing.is_empty());
    let mut secrets = stack.secrets().await;
    if let Some(password) = event_database_password(stack, &event).await {
        secrets.push(("the event database's password", password));
    }

    // A Slack command, as Slack sends it: signed with the app's signing secret, to the function URL.
    let t =
        st.begin("Slack: /event extend <id> 1h, signed as Slack signs it, to event-slack's URL");
    let body = slack_client::form(DEMO_USER, "demo", &format!("extend {event} 1h"));
    let (status, answer) = slack.send(&slack_client::url(watch.port), &body).await;
    say(&format!(
        "    HTTP {status}: {}",
        answer["text"].as_str().unwrap_or("?")
    ));
    let record = slack_client::override_record(stack, &event).await;
    if let Some(r) = &record {
        st.0.extended_secs = r.extended_secs;
        for e in &r.entries {
            say(&format!(
                "    override record: {} ({}) asked `{}` at {}: ends {}",
                e.who.user_name,
                e.who.user_id,
                e.why,
                event_core::slack_app::rfc3339(e.at),
                event_core::slack_app::rfc3339(e.end)
            ));
        }
    }
    say("    the event's messages in the channel so far, as Slack shows them:");
    for p in stack.slack(&event).iter().skip(earlier_posts) {
        say(&format!(
            "      | {}",
            p.text.lines().next().unwrap_or_default()
        ));
    }
    st.end(
        "slack extend",
        t,
        status == 200 && st.0.extended_secs == 3600,
    );

    // event-stop, with the emulator's DMS task driven to a finished load.
    let t = st.begin("event-stop: cargo lambda invoke event-stop --data-file events/stop.json");
    let stop = std::thread::scope(|scope| {
        let handle =
            scope.spawn(|| invoke_until_done(&watch, "event-stop", "events/stop.json", event_id));
        let task_id = format!("event-tier-{event}");
        let until = Instant::now() + Duration::from_secs(600);
        let rt = tokio::runtime::Handle::current();
        while !handle.is_finished() && Instant::now() < until {
            let task = tokio::task::block_in_place(|| rt.block_on(stack.try_dms_task(&task_id)))
                .unwrap_or_default();
            if task["status"] == "running" && !task["start_type"].is_null() {
                say(&format!(
                    "    [emulator] the final migration ({}) is running; moto moves no data, so the demo marks the load finished",
                    task["start_type"].as_str().unwrap_or("?")
                ));
                let arn = task["arn"].as_str().unwrap_or_default().to_owned();
                tokio::task::block_in_place(|| rt.block_on(stack.finish_dms_load(&arn)));
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        handle.join().unwrap()
    });
    match &stop {
        Ok(o) => {
            say(&format!("    {o}"));
            st.0.stop_status = o["status"].as_str().unwrap_or("?").to_owned();
            st.0.leftovers = o["leftovers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
        }
        Err(e) => {
            say(&format!("    error: {e}"));
            st.0.failure
                .get_or_insert(format!("event-stop failed: {e}"));
        }
    }
    let ok = stop.as_ref().is_ok_and(|o| o["status"] == "destroyed");
    st.end("event-stop", t, ok);

    let t = st.begin("what is left");
    st.0.left_in_state = state_listing(stack, &event)
        .await
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    let mut runners = stack.instances(&event).await;
    runners.retain(|r| !earlier_runners.contains(&r.id));
    st.0.runners_launched = st.0.runners_launched.max(runners.len());
    st.0.runners_terminated = runners.iter().filter(|r| r.state == "terminated").count();
    st.0.live_runners = runners
        .iter()
        .filter(|r| r.state == "pending" || r.state == "running")
        .count();
    say(&format!(
        "    state: {} resources; runners: {} terminated, {} live; tagged leftovers: {:?}",
        st.0.left_in_state.len(),
        st.0.runners_terminated,
        st.0.live_runners,
        st.0.leftovers
    ));
    let clean =
        st.0.left_in_state.is_empty() && st.0.live_runners == 0 && st.0.leftovers.is_empty();
    st.end("verify", t, clean);

    let t = st.begin("no secret in the function logs or in Slack");
    let logs = std::fs::read_to_string(&log).unwrap_or_default();
    let posts: Vec<String> = stack.slack(&event).into_iter().map(|p| p.text).collect();
    for (what, _) in &secrets {
        if !st.0.searched.iter().any(|w| w == what) {
            st.0.searched.push((*what).to_owned());
        }
    }
    for (what, secret) in &secrets {
        let found =
            logs.contains(secret.as_str()) || posts.iter().any(|p| p.contains(secret.as_str()));
        if found && !st.0.leaked.iter().any(|w| w == what) {
            st.0.leaked.push((*what).to_owned());
        }
    }
    say(&format!(
        "    searched {} bytes of function logs and {} Slack messages for {} secret values: {}",
        logs.len(),
        posts.len(),
        secrets.len(),
        if st.0.leaked.is_empty() {
            "none found".to_owned()
        } else {
            format!("FOUND {:?}", st.0.leaked)
        }
    ));
    let clean = st.0.leaked.is_empty() && !logs.is_empty();
    st.end("secrets", t, clean);

    report.slack = stack.slack(&event).split_off(earlier_posts);
    say("\n== What Slack received ==");
    for p in &report.slack {
        say(&format!("\n[{}] {}", p.status, p.text));
    }
    drop(watch);
    report
}
