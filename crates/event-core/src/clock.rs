//! The one clock of the library. Every wait and deadline uses tokio's clock, so that the simulation
//! (tokio's paused time) moves the whole library through hours in microseconds; wall-clock times
//! (launch times, schedules) are derived from the same clock.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use tokio::time::Instant;

/// The wall clock and tokio's clock read together once; later wall-clock times are derived from
/// tokio's clock, so they move with it (also when it is paused and advanced).
fn anchor() -> &'static (Duration, Instant) {
    static ANCHOR: OnceLock<(Duration, Instant)> = OnceLock::new();
    ANCHOR.get_or_init(|| {
        (
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
            Instant::now(),
        )
    })
}

thread_local! {
    /// A wall-clock time pinned to tokio's clock in this thread (the simulation: every seed starts
    /// at the same wall-clock time, so that it replays exactly).
    static PINNED: std::cell::Cell<Option<(Duration, Instant)>> = const { std::cell::Cell::new(None) };
}

/// Pins this thread's wall clock: `wall` since the epoch now, moving with tokio's clock from here.
pub fn pin(wall: Duration) {
    PINNED.with(|p| p.set(Some((wall, Instant::now()))));
}

/// Time since the Unix epoch, on the library's clock.
pub fn since_epoch() -> Duration {
    let pinned = PINNED.with(|p| p.get());
    let (wall, at) = match &pinned {
        Some(p) => p,
        None => anchor(),
    };
    let now = Instant::now();
    if now >= *at {
        *wall + (now - *at)
    } else {
        wall.saturating_sub(*at - now)
    }
}

/// Unix time in whole seconds.
pub fn unix_now() -> i64 {
    since_epoch().as_secs() as i64
}

/// `4.2s`, `3m 05s`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}m {:02}s", s / 60, s % 60)
    }
}

/// `20261124t211800` for a Unix time (civil-from-days, proleptic Gregorian).
pub fn compact_utc(secs: u64) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_is_rendered_compactly() {
        assert_eq!(compact_utc(0), "19700101t000000");
        assert_eq!(compact_utc(1_795_555_080), "20261124t211800");
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human(Duration::from_millis(4200)), "4.2s");
        assert_eq!(human(Duration::from_secs(185)), "3m 05s");
    }

    #[tokio::test(start_paused = true)]
    async fn wall_clock_moves_with_tokios_clock() {
        let before = since_epoch();
        tokio::time::sleep(Duration::from_secs(3600)).await;
        let moved = since_epoch() - before;
        assert!(moved >= Duration::from_secs(3600), "{moved:?}");
    }
}
