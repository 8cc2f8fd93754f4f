//! Remote execution on the runner over SSH (ssh2, blocking, so every call runs in `spawn_blocking`).
//! The host key is checked against a pinned SHA-256 fingerprint before authenticating.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};
use crate::payload::EventId;
use crate::run::Host;
use crate::terraform::SshHost;

#[derive(Debug, Clone)]
pub struct SshTarget {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// `SHA256:<base64>`, as `ssh-keygen -lf` prints it.
    pub host_key_sha256: String,
    pub timeout: Duration,
}

impl SshTarget {
    pub fn address(&self) -> String {
        format!("{}@{}:{}", self.user, self.host, self.port)
    }
}

#[derive(Debug, Clone)]
pub struct Output {
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

/// Reaches an event's runner.
#[async_trait]
pub trait Remote: Send + Sync {
    async fn connect(
        &self,
        target: &SshTarget,
        key: &SecretString,
        event: &EventId,
    ) -> Result<Arc<dyn Host>>;
}

#[async_trait]
pub trait Session: Send + Sync {
    /// Runs one command line; its words must already be validated or quoted.
    async fn exec(&self, command: &str) -> Result<Output>;
    /// Runs one command line with `input` as its standard input (then end of file): a transfer and
    /// the command that takes it in one round trip.
    async fn exec_with_input(&self, command: &str, input: Vec<u8>) -> Result<Output>;
}

/// The OpenSSH fingerprint of a host key hash: `SHA256:` and unpadded base64.
pub fn fingerprint(sha256: &[u8]) -> String {
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(sha256)
    )
}

/// Runners over SSH (ssh2): the event's work directory under `workdir` on the runner.
pub struct Ssh2Remote {
    workdir: String,
}

impl Ssh2Remote {
    pub fn new(workdir: impl Into<String>) -> Self {
        Self {
            workdir: workdir.into(),
        }
    }

    /// An SSH session to the target, its host key checked against the pinned fingerprint.
    pub async fn session(&self, target: &SshTarget, key: &SecretString) -> Result<Ssh2Session> {
        let target = target.clone();
        let key = key.clone();
        let session = tokio::task::spawn_blocking(move || {
            connect_blocking(&target, &key).map(|s| (s, target))
        })
        .await
        .map_err(|e| Error::Ssh {
            target: "-".into(),
            reason: format!("connect task failed: {e}"),
        })??;
        Ok(Ssh2Session {
            session: Arc::new(Mutex::new(session.0)),
            target: session.1.address(),
            timeout: session.1.timeout,
            broken: Arc::new(AtomicBool::new(false)),
        })
    }
}

#[async_trait]
impl Remote for Ssh2Remote {
    async fn connect(
        &self,
        target: &SshTarget,
        key: &SecretString,
        event: &EventId,
    ) -> Result<Arc<dyn Host>> {
        let session = self.session(target, key).await?;
        Ok(Arc::new(SshHost::new(
            Arc::new(session),
            &self.workdir,
            event,
        )))
    }
}

fn connect_blocking(target: &SshTarget, key: &SecretString) -> Result<ssh2::Session> {
    let err = |reason: String| Error::Ssh {
        target: target.address(),
        reason,
    };
    let addr = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(|e| err(format!("cannot resolve: {e}")))?
        .next()
        .ok_or_else(|| err("resolves to no address".into()))?;
    let tcp = TcpStream::connect_timeout(&addr, target.timeout)
        .map_err(|e| err(format!("cannot connect: {e}")))?;
    let mut session = ssh2::Session::new().map_err(|e| err(e.to_string()))?;
    session.set_timeout(target.timeout.as_millis().min(u32::MAX as u128) as u32);
    session.set_tcp_stream(tcp);
    session.handshake().map_err(|e| {
        err(format!(
            "handshake failed: {}",
            describe(&e, target.timeout)
        ))
    })?;
    let seen = session
        .host_key_hash(ssh2::HashType::Sha256)
        .map(fingerprint)
        .ok_or_else(|| err("the server presented no host key".into()))?;
    if seen != target.host_key_sha256 {
        return Err(err(format!(
            "host key mismatch: expected {}, got {seen}; refusing to authenticate",
            target.host_key_sha256
        )));
    }
    session
        .userauth_pubkey_memory(&target.user, None, key.expose_secret(), None)
        .map_err(|e| err(format!("authentication failed: {}", e.message())))?;
    if !session.authenticated() {
        return Err(err("authentication failed".into()));
    }
    Ok(session)
}

/// An ssh2 error, saying the bound when it is libssh2's timeout (a peer that stopped answering).
fn describe(e: &ssh2::Error, timeout: Duration) -> String {
    if e.code() == ssh2::ErrorCode::Session(-9) {
        // LIBSSH2_ERROR_TIMEOUT
        format!("no answer within {}s", timeout.as_secs())
    } else {
        e.message().to_owned()
    }
}

fn describe_io(e: &std::io::Error, timeout: Duration) -> String {
    if e.kind() == std::io::ErrorKind::TimedOut {
        format!("no answer within {}s", timeout.as_secs())
    } else {
        e.to_string()
    }
}

pub struct Ssh2Session {
    session: Arc<Mutex<ssh2::Session>>,
    target: String,
    timeout: Duration,
    /// Set when an operation failed at the transport: the connection is not used again (a stalled
    /// peer would make every later call wait out the timeout), the caller reconnects.
    broken: Arc<AtomicBool>,
}

impl Ssh2Session {
    async fn blocking<T: Send + 'static>(
        &self,
        what: &'static str,
        f: impl FnOnce(&ssh2::Session, Duration) -> std::result::Result<T, String> + Send + 'static,
    ) -> Result<T> {
        let err = |reason: String| Error::Ssh {
            target: self.target.clone(),
            reason: format!("{what}: {reason}"),
        };
        if self.broken.load(Ordering::SeqCst) {
            return Err(err("the connection was lost earlier".into()));
        }
        let session = self.session.clone();
        let broken = self.broken.clone();
        let timeout = self.timeout;
        let res = tokio::task::spawn_blocking(move || {
            let guard = session
                .lock()
                .map_err(|_| "session lock poisoned".to_owned())?;
            let res = f(&guard, timeout);
            if res.is_err() {
                broken.store(true, Ordering::SeqCst);
                // Dropping the session later must not wait on a peer that is gone either.
                guard.set_blocking(false);
            }
            res
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
        res.map_err(err)
    }
}

#[async_trait]
impl Session for Ssh2Session {
    async fn exec(&self, command: &str) -> Result<Output> {
        self.exec_with_input(command, Vec::new()).await
    }

    async fn exec_with_input(&self, command: &str, input: Vec<u8>) -> Result<Output> {
        let command = command.to_owned();
        self.blocking("exec", move |s, timeout| {
            let e = |e: ssh2::Error| describe(&e, timeout);
            let mut ch = s.channel_session().map_err(e)?;
            let res = (|| {
                ch.exec(&command).map_err(e)?;
                if !input.is_empty() {
                    ch.write_all(&input).map_err(|e| describe_io(&e, timeout))?;
                }
                ch.send_eof().map_err(e)?;
                let mut stdout = Vec::new();
                ch.read_to_end(&mut stdout)
                    .map_err(|e| describe_io(&e, timeout))?;
                let mut stderr = String::new();
                ch.stderr()
                    .read_to_string(&mut stderr)
                    .map_err(|e| describe_io(&e, timeout))?;
                ch.wait_close().map_err(e)?;
                let status = ch.exit_status().map_err(e)?;
                Ok(Output {
                    status,
                    stdout,
                    stderr,
                })
            })();
            if res.is_err() {
                // Freeing the channel must not wait out the timeout again on a peer that is gone.
                s.set_blocking(false);
            }
            res
        })
        .await
    }
}
