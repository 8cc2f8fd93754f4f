//! Terraform on the runner: the files a run needs (module, variables, backend), and the detached-run
//! protocol of `runner-protocol.sh` (start, poll). A run survives the SSH session and the function.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::module::Module;
use crate::payload::EventId;
use crate::records::state_key;
use crate::runner::shell_quote;
use crate::ssh::Session;
use crate::timing;
use tracing::Instrument;

const PROTOCOL: &str = include_str!("runner-protocol.sh");
/// Largest log chunk one poll returns (the script's `head -c`).
const MAX_CHUNK: usize = 262_144;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Apply,
    Destroy,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Apply => "apply",
            Action::Destroy => "destroy",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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

/// A fresh run id: the action, the UTC time and a random suffix (`apply-20261124t211800-3fa9c1`).
pub fn new_run_id(action: Action) -> String {
    use std::hash::{BuildHasher, Hasher};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(now.as_nanos());
    h.write_u32(std::process::id());
    format!(
        "{}-{}-{:06x}",
        action,
        compact_utc(now.as_secs()),
        h.finish() & 0xff_ffff
    )
}

/// `20261124t211800` for a Unix time (civil-from-days, proleptic Gregorian).
pub(crate) fn compact_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}t{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    Started(String),
    /// Another run of this event holds the runner's lock.
    Busy(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunState {
    Running,
    Done {
        exit: i32,
        changes: bool,
    },
    /// The run stopped without an outcome (the runner rebooted, the process was killed).
    Lost,
    /// The runner knows no such run.
    Unknown,
}

#[derive(Debug, Clone)]
pub struct Poll {
    pub state: RunState,
    /// The step the run is in or ended in: init, plan, apply, destroy.
    pub stage: String,
    /// Log bytes from the requested offset on.
    pub chunk: Vec<u8>,
    /// How long a finished run took on the runner (Terraform's own time), when it says.
    pub took: Option<Duration>,
}

/// An event's work directory on the runner, reached through an SSH session.
pub struct Workspace<'a> {
    session: &'a dyn Session,
    root: String,
    dir: String,
}

impl<'a> Workspace<'a> {
    pub fn new(session: &'a dyn Session, workdir: &str, event: &EventId) -> Self {
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

    /// An upload, timed as `upload`.
    async fn upload(&self, path: &str, content: Vec<u8>, mode: i32) -> Result<()> {
        self.session
            .upload(path, content, mode)
            .instrument(tracing::debug_span!(target: timing::TARGET, "upload"))
            .await
    }

    async fn run(&self, what: &str, command: &str) -> Result<Vec<u8>> {
        let out = self.exec(command).await?;
        if out.status != 0 {
            return Err(Error::Terraform {
                action: what.to_owned(),
                outcome: format!(
                    "failed on the runner (exit {}): {}",
                    out.status,
                    out.stderr.trim()
                ),
            });
        }
        Ok(out.stdout)
    }

    /// True once the runner's user data has finished (it writes `<workdir>/.ready`).
    pub async fn ready(&self) -> Result<bool> {
        let out = self
            .exec(&format!(
                "test -e {} && command -v terraform >/dev/null && command -v flock >/dev/null",
                shell_quote(&format!("{}/.ready", self.root))
            ))
            .await?;
        Ok(out.status == 0)
    }

    fn run_dir(&self, run_id: &str) -> String {
        format!("{}/runs/{run_id}", self.dir)
    }

    /// Uploads the protocol script, the module, the variables and the backend settings into the run's
    /// own directory: a run's inputs never change under it, whatever later requests upload.
    pub async fn prepare(
        &self,
        run_id: &str,
        module: &Module,
        tfvars: Vec<u8>,
        backend_hcl: String,
    ) -> Result<()> {
        debug_assert!(crate::payload::is_run_id(run_id));
        let run_dir = self.run_dir(run_id);
        self.run(
            "prepare",
            &format!("mkdir -p {}/module", shell_quote(&run_dir)),
        )
        .await?;
        self.upload(
            &format!("{run_dir}/runner.sh"),
            PROTOCOL.as_bytes().to_vec(),
            0o755,
        )
        .await?;
        for (name, content) in &module.files {
            self.upload(&format!("{run_dir}/module/{name}"), content.clone(), 0o644)
                .await?;
        }
        self.upload(
            &format!("{run_dir}/module/zz-event.auto.tfvars.json"),
            tfvars,
            0o600,
        )
        .await?;
        self.upload(
            &format!("{run_dir}/module/backend.hcl"),
            backend_hcl.into_bytes(),
            0o600,
        )
        .await?;
        Ok(())
    }

    pub async fn start(&self, action: Action, run_id: &str) -> Result<Started> {
        debug_assert!(crate::payload::is_run_id(run_id));
        let out = self
            .run(
                "start",
                &format!(
                    "bash {} start {action} {run_id}",
                    shell_quote(&format!("{}/runner.sh", self.run_dir(run_id)))
                ),
            )
            .await?;
        let text = String::from_utf8_lossy(&out);
        let mut words = text.split_whitespace();
        match (words.next(), words.next()) {
            (Some("started"), Some(id)) => Ok(Started::Started(id.to_owned())),
            (Some("busy"), Some(id)) => Ok(Started::Busy(id.to_owned())),
            _ => Err(Error::Terraform {
                action: action.to_string(),
                outcome: format!("could not be started: runner answered {:?}", text.trim()),
            }),
        }
    }

    /// The run's state and its log from `offset`. With a non-zero `wait` (whole seconds, at most 60)
    /// the runner first waits up to that long for a running run to end: a long poll, so the end is
    /// seen within a fraction of a second instead of at the next poll.
    pub async fn poll(&self, run_id: &str, offset: u64, wait: Duration) -> Result<Poll> {
        if !crate::payload::is_run_id(run_id) {
            return Err(Error::Terraform {
                action: "poll".into(),
                outcome: format!("refused: {run_id:?} is not a run id"),
            });
        }
        let out = self
            .run(
                "poll",
                &format!(
                    "s={}; if [ -f \"$s\" ]; then bash \"$s\" poll {run_id} {offset} {}; else echo state=unknown; fi",
                    shell_quote(&format!("{}/runner.sh", self.run_dir(run_id))),
                    wait.as_secs().min(60)
                ),
            )
            .await?;
        parse_poll(&out)
    }
}

fn parse_poll(out: &[u8]) -> Result<Poll> {
    let nl = out.iter().position(|b| *b == b'\n').unwrap_or(out.len());
    let head = String::from_utf8_lossy(&out[..nl]).into_owned();
    let chunk = out.get(nl + 1..).unwrap_or_default();
    let chunk = chunk[..chunk.len().min(MAX_CHUNK)].to_vec();
    let fields: BTreeMap<&str, &str> = head
        .split_whitespace()
        .filter_map(|w| w.split_once('='))
        .collect();
    let stage = fields.get("stage").copied().unwrap_or("unknown").to_owned();
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
    Ok(Poll {
        state,
        stage,
        chunk,
        took,
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
        assert_eq!(p.stage, "apply");
        assert_eq!(p.chunk, b"Error: boom\n");
        assert_eq!(p.took, None);
        let p = parse_poll(b"state=done exit=0 stage=apply changes=no took_ms=61250\n").unwrap();
        assert_eq!(p.took, Some(Duration::from_millis(61_250)));
        let p = parse_poll(b"state=running stage=plan\n").unwrap();
        assert_eq!(p.state, RunState::Running);
        assert!(parse_poll(b"bash: no such file\n").is_err());
    }

    #[test]
    fn run_ids_are_valid_and_distinct() {
        let a = new_run_id(Action::Apply);
        let b = new_run_id(Action::Apply);
        assert!(crate::payload::is_run_id(&a), "{a}");
        assert_ne!(a, b);
        assert!(a.starts_with("apply-"));
    }

    #[test]
    fn utc_is_rendered_compactly() {
        assert_eq!(compact_utc(0), "19700101t000000");
        assert_eq!(compact_utc(1_795_555_080), "20261124t211800");
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
