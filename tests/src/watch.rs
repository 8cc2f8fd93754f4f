//! `cargo lambda watch` (a local Lambda Runtime API that runs the real binaries) and
//! `cargo lambda invoke`, as the README shows them.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::root;

pub fn cargo_lambda() -> PathBuf {
    root().join(".local/venv/bin/cargo-lambda")
}

/// The functions a [`Watch`] serves.
pub const FUNCTIONS: [&str; 3] = ["event-start", "event-stop", "event-slack"];

/// Who builds and starts the functions behind `cargo lambda watch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Functions {
    /// `cargo lambda watch` itself, on the first invocation (`cargo run --bin <function>`), as at a
    /// terminal (`make demo`).
    ByWatch,
    /// The harness: the functions of the workspace's build (`cargo build --workspace
    /// --all-targets`, which `make test` has made; built again here only if stale), started against
    /// watch's Runtime API (`--only-lambda-apis`) with the environment cargo lambda gives them. A
    /// `cargo run --bin` of one function resolves the crates' features without the tests' and builds
    /// the AWS SDK crates a second time (7.5 of a clean `make test`'s minutes).
    Built,
}

/// A running `cargo lambda watch`. Dropping it stops the function processes it (or the harness)
/// started: the harness's by their pids, then the cargo-lambda process itself (it stops its own
/// function processes), then its process group if it has its own.
pub struct Watch {
    child: Child,
    functions: Vec<Child>,
    pub port: u16,
    own_group: bool,
}

impl Watch {
    /// Starts `cargo lambda watch` on a free loopback port with `env` added to the environment, its
    /// output going to `log`. `own_group`: run it in a process group of its own (tests), or in the
    /// caller's, so that a Ctrl-C at the terminal reaches it too (the demo).
    /// `functions`: who builds and starts the functions.
    pub fn start(env: &[(&str, &str)], log: &Path, own_group: bool, functions: Functions) -> Watch {
        use std::os::unix::process::CommandExt;
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::File::create(log).unwrap();
        let mut cmd = Command::new(cargo_lambda());
        cmd.args([
            "lambda",
            "watch",
            "--ignore-changes",
            "--timeout",
            "900",
            "-A",
            "127.0.0.1",
            "-P",
        ])
        .arg(port.to_string())
        .args((functions == Functions::Built).then_some("--only-lambda-apis"))
        .env(
            "PATH",
            format!(
                "{}:{}",
                root().join(".local/venv/bin").display(),
                std::env::var("PATH").unwrap()
            ),
        )
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log.try_clone().unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        if own_group {
            cmd.process_group(0);
        }
        let built = match functions {
            Functions::Built => built_functions(),
            Functions::ByWatch => Vec::new(),
        };
        let child = cmd.spawn().expect("cargo lambda watch starts");
        let mut watch = Watch {
            child,
            functions: Vec::new(),
            port,
            own_group,
        };
        let until = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < until,
                "cargo lambda watch did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        for (name, binary) in built {
            // What cargo lambda watch sets for a function it starts (its pre-spawn hook, 1.9.2).
            let mut cmd = Command::new(&binary);
            cmd.env("AWS_LAMBDA_FUNCTION_VERSION", "1")
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "4096")
                .env(
                    "AWS_LAMBDA_RUNTIME_API",
                    format!("http://127.0.0.1:{port}/.rt/{name}"),
                )
                .env("AWS_LAMBDA_FUNCTION_NAME", name)
                .current_dir(root())
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log.try_clone().unwrap());
            for (k, v) in env {
                cmd.env(k, v);
            }
            let child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("{} starts: {e}", binary.display()));
            watch.functions.push(child);
        }
        watch
    }

    /// `cargo lambda invoke <function> --data-file <file>`; the function's JSON result, or its error
    /// output.
    pub fn invoke(&self, function: &str, data_file: &str) -> Result<Value, String> {
        self.invoke_args(function, &["--data-file", data_file])
    }

    /// `cargo lambda invoke <function> --data-ascii <json>`.
    pub fn invoke_json(&self, function: &str, payload: &Value) -> Result<Value, String> {
        self.invoke_args(function, &["--data-ascii", &payload.to_string()])
    }

    fn invoke_args(&self, function: &str, args: &[&str]) -> Result<Value, String> {
        let out = Command::new(cargo_lambda())
            .args(["lambda", "invoke", function, "-A", "127.0.0.1", "-P"])
            .arg(self.port.to_string())
            .args(args)
            .current_dir(root())
            .output()
            .expect("cargo lambda invoke runs");
        let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !out.status.success() {
            return Err(format!(
                "{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        serde_json::from_str(&stdout)
            .map_err(|e| format!("invoke {function} printed no JSON ({e}): {stdout}"))
    }
}

/// The workspace's build of [`FUNCTIONS`]: `cargo build --workspace --all-targets` (a few seconds
/// when `make test` built it already), each function's executable from cargo's JSON messages.
fn built_functions() -> Vec<(&'static str, PathBuf)> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "build",
            "--workspace",
            "--all-targets",
            "--message-format=json",
        ])
        .current_dir(root())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("cargo build runs");
    assert!(out.status.success(), "cargo build of the functions failed");
    let built: Vec<(&'static str, PathBuf)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        // The binaries, not their unit-test harnesses (`profile.test`).
        .filter(|m| m["reason"] == "compiler-artifact" && m["profile"]["test"] == false)
        .filter_map(|m| {
            let name = FUNCTIONS
                .into_iter()
                .find(|f| m["target"]["name"] == *f && m["target"]["kind"][0] == "bin")?;
            Some((name, PathBuf::from(m["executable"].as_str()?)))
        })
        .collect();
    assert_eq!(
        built.len(),
        FUNCTIONS.len(),
        "cargo build named no executable for some function: {built:?}"
    );
    built
}

impl Drop for Watch {
    fn drop(&mut self) {
        // The functions this harness started: by their own pids (Child::kill is kill(2) with it).
        for f in &mut self.functions {
            let _ = f.kill();
            let _ = f.wait();
        }
        // Signals go through kill(2) itself, never the `kill` program: procps-ng 4.0.2 (Debian 12)
        // reads `kill -KILL -<pgid>` as `kill(-<first digit>, SIGKILL)`, and for a group id that
        // starts with 1 that is kill(-1): every process on the machine.
        // A child's pid is always above 1; checked rather than asserted (no panic in a Drop), as
        // killpg(1) would be kill(-1).
        let Some(pid) = libc::pid_t::try_from(self.child.id())
            .ok()
            .filter(|pid| *pid > 1)
        else {
            return;
        };
        // SAFETY: kill(2) with a positive pid (the child this Watch started) and a valid signal.
        unsafe { libc::kill(pid, libc::SIGINT) };
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if self.own_group {
            // The group the child leads (process_group(0)): its function processes too.
            // SAFETY: killpg(2) with a group id greater than 1 and a valid signal.
            unsafe { libc::killpg(pid, libc::SIGKILL) };
        } else {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
