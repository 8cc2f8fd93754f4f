//! A stop that fires while people have moved the event's end from Slack (`extend`, `hold`): it
//! destroys nothing and comes back at the new end, through a one-off schedule of its own payload.
//! The new end is read again then, so a later extension or a release moves it again.

use time::OffsetDateTime;
use tracing::info;

use super::run::{Flow, Step};
use super::{FlowError, Outcome, Stage, Status};
use crate::slack_app::{AtStop, rfc3339};

/// The stop's outcome when the end was moved: `Deferred`, with the one-off schedule that brings it
/// back. None when the stop goes ahead (or no Slack app is set up: no override to read). A record
/// or schedule that cannot be read fails the stop, at stage `validate`, rather than destroy a tier
/// people may have asked to keep: the schedule's retries (or a person) try again.
pub(super) async fn deferred(flow: &Flow<'_>) -> Step<Option<Outcome>> {
    let Some(ends) = flow.deps.ends.as_ref() else {
        return Ok(None);
    };
    let now = OffsetDateTime::now_utc();
    let validate = |e| FlowError::new(Stage::Validate, e);
    let Some((AtStop::Defer { until, reason }, stop)) =
        ends.at_stop(&flow.event, now).await.map_err(validate)?
    else {
        return Ok(None);
    };
    let why = reason.to_string();
    let schedule = ends
        .stop_at(&flow.event, &stop, until, &why)
        .await
        .map_err(validate)?;
    info!(event_id = %flow.event, until = %rfc3339(until), %schedule, "stop deferred");
    let text = format!(
        ":hourglass_flowing_sand: *{}*: the stop is moved to {} ({why}); the tier stays up until then.",
        flow.event,
        rfc3339(until)
    );
    let told = flow
        .notify_offering(&text, super::report::Offer::KeepOrStop)
        .await;
    let mut outcome = flow.outcome(
        Status::Deferred,
        None,
        None,
        format!("stop deferred to {} ({why})", rfc3339(until)),
        told,
    );
    outcome.follow_up = Some(schedule);
    Ok(Some(outcome))
}
