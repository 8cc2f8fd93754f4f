//! Where an invocation's time goes. A `tracing` layer adds up the spans of one invocation: the AWS
//! SDK's operation spans (one per call, retries included) and the flow's own spans (`ssh_connect`,
//! `upload`, `remote`, `slack`, `boot_wait`, `follow`), plus Terraform's own time as the runner
//! measured it. The functions log the totals once per invocation (message `timings`); `make bench`
//! reads that line to split the function's own overhead from the waits it cannot shorten.
//!
//! Time inside a `boot_wait` or `follow` span (waiting for the runner to boot, following a Terraform
//! run) is not counted again in the finer categories, so the categories add up to the wall time.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tracing::span::{Attributes, Id};
use tracing::{Subscriber, field};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// The target of the flow's timing spans and events.
pub const TARGET: &str = "event_core::timing";

/// Totals of one invocation, in milliseconds.
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct Totals {
    pub aws_calls: u32,
    pub aws_ms: f64,
    pub ssh_connects: u32,
    pub ssh_connect_ms: f64,
    pub uploads: u32,
    pub upload_ms: f64,
    pub remote_commands: u32,
    pub remote_ms: f64,
    pub slack_posts: u32,
    pub slack_ms: f64,
    /// Waiting for a launched runner to boot and finish its user data.
    pub boot_wait_ms: f64,
    /// Following Terraform runs, from their start to the moment the function saw them end.
    pub follow_ms: f64,
    /// Terraform's own time on the runner (init to exit), as the runner measured it.
    pub terraform_ms: f64,
    /// The counted calls in the order they were made: the SDK's operation names
    /// (`S3.GetObject`), `ssh_connect`, `upload:<bytes>`, `remote` and `slack`. The benchmark's
    /// floor harness (`crates/event-floor`) replays exactly these, back to back.
    pub steps: Vec<String>,
    /// The milliseconds of each of `steps`, in the same order (a step inside another, such as the
    /// webhook's `GetSecretValue` inside `slack`, is also inside its parent's time).
    pub step_ms: Vec<f64>,
}

impl Totals {
    /// The calls the flow makes, in the time they took: what the same calls cost back to back. A
    /// call inside another (an AWS call inside `slack`) is counted once, in its parent.
    pub fn io_ms(&self) -> f64 {
        self.aws_ms + self.ssh_connect_ms + self.upload_ms + self.remote_ms + self.slack_ms
    }

    /// The function's own part of `wall_ms`: less the runner's boot and Terraform's own time (the
    /// follow's excess over Terraform's time, the moment it took to notice the end, stays in).
    pub fn own_ms(&self, wall_ms: f64) -> f64 {
        let follow_excess = (self.follow_ms - self.terraform_ms).max(0.0);
        (wall_ms - self.boot_wait_ms - self.follow_ms + follow_excess).max(0.0)
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Aws,
    SshConnect,
    Upload,
    Remote,
    Slack,
    BootWait,
    Follow,
}

impl Kind {
    fn of(meta: &tracing::Metadata<'_>) -> Option<Kind> {
        if meta.target() == TARGET {
            return Some(match meta.name() {
                "ssh_connect" => Kind::SshConnect,
                "upload" => Kind::Upload,
                "remote" => Kind::Remote,
                "slack" => Kind::Slack,
                "boot_wait" => Kind::BootWait,
                "follow" => Kind::Follow,
                _ => return None,
            });
        }
        // The SDK wraps each operation in a span with `rpc.system = "aws-api"`.
        (meta.target().starts_with("aws_sdk_") && meta.fields().field("rpc.system").is_some())
            .then_some(Kind::Aws)
    }

    /// Waits hide what happens inside them.
    fn is_wait(self) -> bool {
        matches!(self, Kind::BootWait | Kind::Follow)
    }
}

struct Timed {
    kind: Kind,
    /// The step's name in [`Totals::steps`].
    step: String,
    started: Instant,
    /// Inside a wait, or inside a span of the same kind: not counted on its own.
    nested: bool,
    /// Inside a counted span of another kind: a step of its own, its time in its parent's total.
    inner: bool,
}

/// The layer; [`Timings::take`] reads and clears the totals.
#[derive(Clone, Default)]
pub struct Timings(Arc<Mutex<Totals>>);

impl Timings {
    pub fn new() -> Self {
        Self::default()
    }

    /// The totals so far, cleared for the next invocation.
    pub fn take(&self) -> Totals {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn add(&self, kind: Kind, step: &str, d: Duration, inner: bool) {
        let ms = d.as_secs_f64() * 1000.0;
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let t = &mut *guard;
        if !kind.is_wait() {
            t.steps.push(step.to_owned());
            t.step_ms.push(ms);
        }
        if inner {
            return;
        }
        let (count, total) = match kind {
            Kind::Aws => (Some(&mut t.aws_calls), &mut t.aws_ms),
            Kind::SshConnect => (Some(&mut t.ssh_connects), &mut t.ssh_connect_ms),
            Kind::Upload => (Some(&mut t.uploads), &mut t.upload_ms),
            Kind::Remote => (Some(&mut t.remote_commands), &mut t.remote_ms),
            Kind::Slack => (Some(&mut t.slack_posts), &mut t.slack_ms),
            Kind::BootWait => (None, &mut t.boot_wait_ms),
            Kind::Follow => (None, &mut t.follow_ms),
        };
        if let Some(c) = count {
            *c += 1;
        }
        *total += ms;
    }

    /// Logs the totals of the invocation that just ended (message `timings`, one field each, with
    /// its wall time and the part that is the function's own: wall time less the runner's boot and
    /// the Terraform run it followed), and clears them.
    pub fn log_invocation(&self, wall: Duration) {
        let t = self.take();
        let wall_ms = wall.as_secs_f64() * 1000.0;
        let own_ms = t.own_ms(wall_ms);
        tracing::info!(
            wall_ms,
            own_ms,
            io_ms = t.io_ms(),
            aws_calls = t.aws_calls,
            aws_ms = t.aws_ms,
            ssh_connects = t.ssh_connects,
            ssh_connect_ms = t.ssh_connect_ms,
            uploads = t.uploads,
            upload_ms = t.upload_ms,
            remote_commands = t.remote_commands,
            remote_ms = t.remote_ms,
            slack_posts = t.slack_posts,
            slack_ms = t.slack_ms,
            boot_wait_ms = t.boot_wait_ms,
            follow_ms = t.follow_ms,
            terraform_ms = t.terraform_ms,
            steps = t.steps.join(","),
            step_ms = t
                .step_ms
                .iter()
                .map(|ms| format!("{ms:.1}"))
                .collect::<Vec<_>>()
                .join(","),
            "timings"
        );
    }

    /// The flow reports Terraform's own time of a run it followed.
    pub fn terraform(took: Duration) {
        tracing::trace!(target: TARGET, terraform_ms = took.as_millis() as u64, "terraform run time");
    }
}

impl<S> Layer<S> for Timings
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(kind) = Kind::of(attrs.metadata()) else {
            return;
        };
        let Some(span) = ctx.span(id) else { return };
        let (mut nested, mut inner) = (false, false);
        for parent in span.scope().skip(1) {
            if let Some(p) = parent.extensions().get::<Timed>() {
                nested |= p.kind.is_wait() || p.kind == kind;
                inner = true;
            }
        }
        let meta = attrs.metadata();
        let step = if kind == Kind::Upload {
            let mut bytes = Bytes(0);
            attrs.record(&mut bytes);
            format!("upload:{}", bytes.0)
        } else {
            meta.name().to_owned()
        };
        span.extensions_mut().insert(Timed {
            kind,
            step,
            started: Instant::now(),
            nested,
            inner,
        });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        if let Some(t) = span.extensions().get::<Timed>()
            && !t.nested
        {
            self.add(t.kind, &t.step, t.started.elapsed(), t.inner);
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != TARGET {
            return;
        }
        struct Ms(Option<u64>);
        impl field::Visit for Ms {
            fn record_u64(&mut self, f: &field::Field, v: u64) {
                if f.name() == "terraform_ms" {
                    self.0 = Some(v);
                }
            }
            fn record_debug(&mut self, _: &field::Field, _: &dyn std::fmt::Debug) {}
        }
        let mut ms = Ms(None);
        event.record(&mut ms);
        if let Some(ms) = ms.0 {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .terraform_ms += ms as f64;
        }
    }
}

/// The `bytes` field of an `upload` span.
struct Bytes(u64);

impl field::Visit for Bytes {
    fn record_u64(&mut self, f: &field::Field, v: u64) {
        if f.name() == "bytes" {
            self.0 = v;
        }
    }
    fn record_debug(&mut self, _: &field::Field, _: &dyn std::fmt::Debug) {}
}

/// The functions' logging: JSON when the function's log format is JSON (`AWS_LAMBDA_LOG_FORMAT`),
/// the level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG` (default INFO), as `lambda_runtime`'s default
/// subscriber does; plus the timing layer, whose totals the caller logs after each invocation.
pub fn init_logging() -> Timings {
    use tracing_subscriber::filter::{EnvFilter, LevelFilter, filter_fn};
    use tracing_subscriber::prelude::*;

    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into());
    let filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::INFO.into())
        .parse_lossy(level.to_lowercase());
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    // No colour codes: the output goes to CloudWatch Logs, not to a terminal.
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(false)
        .without_time();
    let fmt = if json {
        fmt.json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .boxed()
    } else {
        fmt.boxed()
    };
    let timings = Timings::new();
    let timing_filter = filter_fn(|m| Kind::of(m).is_some() || m.target() == TARGET);
    tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(timings.clone().with_filter(timing_filter))
        .init();
    timings
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Instrument;
    use tracing_subscriber::prelude::*;

    #[tokio::test]
    async fn spans_are_added_up_by_kind_and_waits_hide_what_is_inside() {
        let timings = Timings::new();
        let subscriber = tracing_subscriber::registry().with(timings.clone());
        let _guard = tracing::subscriber::set_default(subscriber);

        async { tokio::time::sleep(Duration::from_millis(20)).await }
            .instrument(tracing::info_span!(target: TARGET, "ssh_connect"))
            .await;
        async {}
            .instrument(tracing::info_span!(target: TARGET, "upload", bytes = 4096_u64))
            .await;
        for _ in 0..2 {
            async {}
                .instrument(tracing::info_span!(target: TARGET, "remote"))
                .await;
        }
        async {
            // A remote command while following a run is part of the follow, not of `remote`.
            async {}
                .instrument(tracing::info_span!(target: TARGET, "remote"))
                .await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        .instrument(tracing::info_span!(target: TARGET, "follow"))
        .await;
        Timings::terraform(Duration::from_millis(1500));

        let t = timings.take();
        assert_eq!(t.ssh_connects, 1);
        assert!(t.ssh_connect_ms >= 20.0, "{t:?}");
        assert_eq!(t.remote_commands, 2, "{t:?}");
        assert!(t.follow_ms >= 10.0, "{t:?}");
        assert_eq!(t.terraform_ms, 1500.0);
        assert_eq!(t.steps, ["ssh_connect", "upload:4096", "remote", "remote"]);
        assert_eq!(t.step_ms.len(), 4);
        assert!(t.step_ms[0] >= 20.0, "{t:?}");
        assert_eq!(timings.take(), Totals::default(), "take clears");
    }

    #[tokio::test]
    async fn a_call_inside_another_step_is_a_step_counted_once() {
        let timings = Timings::new();
        let subscriber = tracing_subscriber::registry().with(timings.clone());
        let _guard = tracing::subscriber::set_default(subscriber);

        async {
            async { tokio::time::sleep(Duration::from_millis(15)).await }
                .instrument(tracing::info_span!(
                    target: "aws_sdk_secretsmanager",
                    "Secrets Manager.GetSecretValue",
                    "rpc.system" = "aws-api"
                ))
                .await;
        }
        .instrument(tracing::info_span!(target: TARGET, "slack"))
        .await;

        let t = timings.take();
        assert_eq!(t.steps, ["Secrets Manager.GetSecretValue", "slack"]);
        assert_eq!((t.aws_calls, t.aws_ms), (0, 0.0), "{t:?}");
        assert_eq!(t.slack_posts, 1);
        assert!(
            t.step_ms[0] >= 15.0 && t.step_ms[1] >= t.step_ms[0],
            "{t:?}"
        );
        assert_eq!(
            t.io_ms(),
            t.slack_ms,
            "the inner call is in its parent's time only"
        );
    }
}
