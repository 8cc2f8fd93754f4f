//! Terraform on the runner: the files a run needs (module, variables, backend), and the detached-run
//! protocol of `runner-protocol.sh` (start, poll). A run survives the SSH session and the function.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value};

use std::sync::Arc;

use async_trait::async_trait;
use tracing::Instrument;

use crate::error::{Error, Result};
use crate::module::Module;
use crate::payload::EventId;
use crate::records::state_key;
use crate::run::{Host, LastRun, LaunchFailure, Poll, Readiness, Retire, RunFiles, RunId, Started};
use crate::runner::shell_quote;
use crate::ssh::Session;
use crate::timing;

mod answers;
use answers::{last_from, parse_poll, readiness_from, run_id_in, started_from, words};

const PROTOCOL: &str = include_str!("runner-protocol.sh");

/// Where the state lives; rendered into `backend.hcl` for `terraform init -backend-config`.
#[derive(Debug, Clone)]
pub struct Backend {
    pub bucket: String,
    pub region: String,
    /// The local stack's AWS endpoint, when not AWS itself.
    pub endpoint_url: Option<String>,
}

impl Backend {
    pub fn render(&self, event: &EventId) -> Result<String> {
        let q = |s: &str| -> Result<String> {
            if s.contains("${") || s.contains("%{") {
                return Err(Error::Config(format!(
                    "backend setting {s:?} holds a template sequence"
                )));
            }
            Ok(serde_json::to_string(s).expect("strings serialize"))
        };
        let mut out = format!(
            "bucket       = {}\nkey          = {}\nregion       = {}\nencrypt      = true\nuse_lockfile = true\n",
            q(&self.bucket)?,
            q(&state_key(event))?,
            q(&self.region)?,
        );
        if let Some(url) = &self.endpoint_url {
            let u = q(url)?;
            out.push_str(&format!(
                "endpoints = {{\n  s3  = {u}\n  sts = {u}\n  iam = {u}\n}}\nuse_path_style              = true\nskip_credentials_validation = true\nskip_metadata_api_check     = true\nskip_region_validation      = true\nskip_requesting_account_id  = true\n"
            ));
        }
        Ok(out)
    }
}

/// The `*.auto.tfvars.json` of a run: the payload's variables plus those the functions set.
pub fn tfvars(
    event: &EventId,
    vars: &BTreeMap<String, Value>,
    module: &Module,
    backend: &Backend,
) -> Vec<u8> {
    let mut m: Map<String, Value> = vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut set = |name: &str, v: Value| {
        if module.reserved.contains(name) {
            m.insert(name.to_owned(), v);
        }
    };
    set("event_id", Value::String(event.to_string()));
    set("aws_region", Value::String(backend.region.clone()));
    if let Some(url) = &backend.endpoint_url {
        set("aws_endpoint_url", Value::String(url.clone()));
    }
    serde_json::to_vec_pretty(&Value::Object(m)).expect("json values serialize")
}

/// An event's work directory on a runner reached over SSH: the detached-run protocol of
/// `runner-protocol.sh`, one remote command per step.
pub struct SshHost {
    session: Arc<dyn Session>,
    root: String,
    dir: String,
}

impl SshHost {
    pub fn new(session: Arc<dyn Session>, workdir: &str, event: &EventId) -> Self {
        let root = workdir.trim_end_matches('/').to_owned();
        let dir = format!("{root}/{event}");
        Self { session, root, dir }
    }

    /// A remote command, timed as `remote` (see [`crate::timing`]).
    async fn exec(&self, command: &str) -> Result<crate::ssh::Output> {
        self.session
            .exec(command)
            .instrument(tracing::debug_span!(target: timing::TARGET, "remote"))
            .await
    }

    /// A command with standard input (a transfer), timed as `upload`.
    async fn send(&self, command: &str, input: Vec<u8>) -> Result<crate::ssh::Output> {
        let bytes = input.len() as u64;
        self.session
            .exec_with_input(command, input)
            .instrument(tracing::debug_span!(target: timing::TARGET, "upload", bytes))
            .await
    }

    async fn run(&self, what: &str, command: &str) -> Result<Vec<u8>> {
        let out = self.exec(command).await?;
        if out.status != 0 {
            return Err(failed_on_runner(what, &out));
        }
        Ok(out.stdout)
    }

    /// A one-line answer of the runner, as words.
    async fn answer(&self, what: &str, command: &str) -> Result<Vec<String>> {
        Ok(words(&self.run(what, command).await?))
    }

    fn run_dir(&self, run: &RunId) -> String {
        format!("{}/runs/{run}", self.dir)
    }

    fn script(&self, run: &RunId) -> String {
        shell_quote(&format!("{}/runner.sh", self.run_dir(run)))
    }
}

/// A command that exited non-zero, with what it said on standard error.
fn failed_on_runner(action: &str, out: &crate::ssh::Output) -> Error {
    Error::Terraform {
        action: action.to_owned(),
        outcome: format!(
            "failed on the runner (exit {}): {}",
            out.status,
            out.stderr.trim()
        ),
    }
}

/// The exit status of [`Host::prepare_and_start`]'s command when the archive could not be unpacked
/// (`runner.sh start` answers with exit status 0; any other status is its failure to start).
const UNPACK_FAILED: i32 = 86;

impl SshHost {
    /// Unpacks the archive on standard input into the run's own directory.
    fn unpack_command(&self, run: &RunId) -> String {
        let d = shell_quote(&self.run_dir(run));
        format!("mkdir -p {d} && tar -x --no-same-owner -C {d} -f -")
    }

    fn start_command(&self, run: &RunId) -> String {
        format!("bash {} start {} {run}", self.script(run), run.action())
    }

    /// Prints `ready`, `not-ready has-runs` or `not-ready`.
    fn ready_command(&self) -> String {
        format!(
            "if test -e {} && command -v terraform >/dev/null && command -v flock >/dev/null; then echo ready; \
             elif [ -n \"$(ls -A {} 2>/dev/null)\" ]; then echo not-ready has-runs; else echo not-ready; fi",
            shell_quote(&format!("{}/.ready", self.root)),
            shell_quote(&format!("{}/runs", self.dir)),
        )
    }

    /// Prints `<run-id> running`, `<run-id> ended`, or nothing when no run was started.
    fn last_command(&self) -> String {
        let d = shell_quote(&self.dir);
        format!(
            "if [ -f {d}/current ]; then r=$(cat {d}/current); \
             if [ -f {d}/lock ] && ! flock -n {d}/lock true 2>/dev/null; then echo \"$r running\"; else echo \"$r ended\"; fi; fi"
        )
    }
}

#[async_trait]
impl Host for SshHost {
    /// Ready once the runner's user data has finished (it writes `<workdir>/.ready`).
    async fn ready(&self) -> Result<Readiness> {
        Ok(readiness_from(
            &self.answer("ready", &self.ready_command()).await?,
        ))
    }

    /// One command: the readiness line, then (when ready) the last-run line.
    async fn ready_and_last(&self) -> Result<(Readiness, Option<LastRun>)> {
        let command = format!(
            "{}; if [ -e {} ]; then {}; fi",
            self.ready_command(),
            shell_quote(&format!("{}/.ready", self.root)),
            self.last_command()
        );
        let out = self.run("ready", &command).await?;
        let text = String::from_utf8_lossy(&out);
        let mut lines = text.lines();
        let ready = readiness_from(&words(lines.next().unwrap_or("").as_bytes()));
        let last = match ready {
            Readiness::Ready => last_from(&words(lines.next().unwrap_or("").as_bytes()))?,
            Readiness::NotReady { .. } => None,
        };
        Ok((ready, last))
    }

    /// Sends the protocol script, the module, the variables and the backend settings into the run's
    /// own directory as one archive, unpacked by the one command that receives it: a run's inputs
    /// never change under it, whatever later requests send.
    async fn prepare(&self, run: &RunId, files: &RunFiles<'_>) -> Result<()> {
        let out = self
            .send(&self.unpack_command(run), archive(files)?)
            .await?;
        if out.status != 0 {
            return Err(failed_on_runner("prepare", &out));
        }
        Ok(())
    }

    async fn start(&self, run: &RunId) -> Result<Started> {
        let words = self.answer("start", &self.start_command(run)).await?;
        started_from(run, &words)
    }

    /// The archive goes on the standard input of the one command that unpacks it and then starts
    /// the run: one round trip instead of two. An unpacking that fails exits with
    /// [`UNPACK_FAILED`] before anything is started.
    async fn prepare_and_start(
        &self,
        run: &RunId,
        files: &RunFiles<'_>,
    ) -> std::result::Result<Started, LaunchFailure> {
        let archive = archive(files).map_err(LaunchFailure::Prepare)?;
        let command = format!(
            "{{ {}; }} || exit {UNPACK_FAILED}; {}",
            self.unpack_command(run),
            self.start_command(run)
        );
        let out = self
            .send(&command, archive)
            .await
            .map_err(LaunchFailure::Prepare)?;
        match out.status {
            0 => started_from(run, &words(&out.stdout)).map_err(LaunchFailure::Start),
            UNPACK_FAILED => Err(LaunchFailure::Prepare(failed_on_runner("prepare", &out))),
            _ => Err(LaunchFailure::Start(failed_on_runner("start", &out))),
        }
    }

    async fn last(&self) -> Result<Option<LastRun>> {
        last_from(&self.answer("status", &self.last_command()).await?)
    }

    /// The run's state and its log from `offset`. With a non-zero `wait` (whole seconds, at most 60)
    /// the runner first waits up to that long for a running run to end: a long poll, so the end is
    /// seen within a fraction of a second instead of at the next poll.
    async fn poll(&self, run: &RunId, offset: u64, wait: Duration) -> Result<Poll> {
        let out = self
            .run(
                "poll",
                &format!(
                    "s={}; if [ -f \"$s\" ]; then bash \"$s\" poll {run} {offset} {}; else echo state=unknown; fi",
                    self.script(run),
                    wait.as_secs().min(60)
                ),
            )
            .await?;
        parse_poll(&out)
    }

    async fn plan_json(&self, run: &RunId) -> Result<Vec<u8>> {
        let path = shell_quote(&format!("{}/plan.json", self.run_dir(run)));
        self.run("plan", &format!("cat {path}")).await
    }

    async fn retire(&self) -> Result<Retire> {
        let d = shell_quote(&self.dir);
        let words = self
            .answer(
                "retire",
                &format!(
                    "mkdir -p {d} && exec 9>>{d}/lock && if flock -n 9; then touch {d}/retired && echo retired; \
                     else echo busy \"$(cat {d}/current 2>/dev/null || echo unknown)\"; fi"
                ),
            )
            .await?;
        match words.first().map(String::as_str) {
            Some("retired") => Ok(Retire::Retired),
            _ => Ok(Retire::Busy(run_id_in("retire", words.get(1))?)),
        }
    }
}

/// A run's inputs as one tar archive: `runner.sh` (the protocol) and `module/` with the event's
/// variables and backend settings (owner-only: they may name the state bucket and endpoints).
fn archive(files: &RunFiles<'_>) -> Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut add = |path: &str, content: &[u8], mode: u32| {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(mode);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, path, content)
    };
    let err = |e: std::io::Error| Error::Terraform {
        action: "prepare".to_owned(),
        outcome: format!("could not pack the run's files: {e}"),
    };
    add("runner.sh", PROTOCOL.as_bytes(), 0o755).map_err(err)?;
    for (name, content) in &files.module.files {
        add(&format!("module/{name}"), content, 0o644).map_err(err)?;
    }
    add("module/zz-event.auto.tfvars.json", &files.tfvars, 0o600).map_err(err)?;
    add("module/backend.hcl", files.backend_hcl.as_bytes(), 0o600).map_err(err)?;
    tar.into_inner().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runs_files_travel_as_one_archive_with_their_modes() {
        let module = Module::embedded().unwrap();
        let files = RunFiles {
            module: &module,
            tfvars: b"{}".to_vec(),
            backend_hcl: "bucket = \"b\"\n".into(),
        };
        let bytes = archive(&files).unwrap();
        let mut seen = BTreeMap::new();
        for entry in tar::Archive::new(bytes.as_slice()).entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let mode = entry.header().mode().unwrap();
            let mut content = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut content).unwrap();
            seen.insert(path, (mode, content));
        }
        assert_eq!(seen.len(), module.files.len() + 3, "{:?}", seen.keys());
        assert_eq!(seen["runner.sh"], (0o755, PROTOCOL.as_bytes().to_vec()));
        assert_eq!(
            seen["module/zz-event.auto.tfvars.json"],
            (0o600, b"{}".to_vec())
        );
        assert_eq!(seen["module/backend.hcl"].0, 0o600);
        for (name, content) in &module.files {
            assert_eq!(seen[&format!("module/{name}")], (0o644, content.clone()));
        }
    }

    #[test]
    fn backend_points_at_the_event_key() {
        let b = Backend {
            bucket: "state".into(),
            region: "ap-northeast-2".into(),
            endpoint_url: Some("http://127.0.0.1:5000".into()),
        };
        let hcl = b.render(&EventId::parse("flash-1").unwrap()).unwrap();
        assert!(
            hcl.contains("key          = \"events/flash-1/terraform.tfstate\""),
            "{hcl}"
        );
        assert!(hcl.contains("use_lockfile = true"));
        assert!(hcl.contains("s3  = \"http://127.0.0.1:5000\""));
    }
}
