# The watchdogs (docs/readiness.md, "Watchdogs"): for each dated event of var.events, unless it sets
# watchdogs = false, two schedules that invoke event-alarm, not the functions they watch, so a
# start or stop that failed, hung or never ran is still noticed:
#   <id>-watch-ready  at the opening (`start`, in the event's time zone): pages unless every
#                     readiness check of the tier passes;
#   <id>-watch-down   at the end plus var.watchdog_grace_minutes: pages unless the event is down
#                     (nothing in its state, no runner, no resource tagged with it). An end moved
#                     later from Slack moves this look with it (a one-off `event-tier-wdg-*`).
# Quiet when all is well. A page goes to Slack, and to the alarm topic when Slack cannot be
# reached. A recurring event has none: its cron expressions name no single opening.

locals {
  # By schedule name: when it fires, what it expects, what it says.
  watchdogs = merge([
    for id, e in local.events : {
      "${id}-watch-ready" = {
        event = id
        at    = "at(${e.start})"
        watch = { event_id = id, expect = "ready" }
        about = "ready at its opening, ${e.start} ${e.timezone}"
      }
      "${id}-watch-down" = {
        event = id
        at    = "at(${formatdate("YYYY-MM-DD'T'hh:mm:ss", timeadd("${e.end}Z", "${var.watchdog_grace_minutes}m"))})"
        watch = { event_id = id, expect = "down", grace_minutes = var.watchdog_grace_minutes }
        about = "down ${var.watchdog_grace_minutes} min after its end, ${e.end} ${e.timezone}"
      }
    } if !e.recurring && e.watchdogs
  ]...)
}

resource "aws_scheduler_schedule" "watch" {
  #checkov:skip=CKV_AWS_297:The payload is an event id, what to expect and a number of minutes, no secret; an AWS-owned key encrypts it.
  for_each = local.watchdogs

  name        = each.key
  group_name  = aws_scheduler_schedule_group.events.name
  description = "event-tier watchdog: page unless ${each.value.event} is ${each.value.about}"

  schedule_expression          = each.value.at
  schedule_expression_timezone = local.events[each.value.event].timezone

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.alarm.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({ watch = each.value.watch })

    retry_policy {
      maximum_retry_attempts       = var.schedule_retry_attempts
      maximum_event_age_in_seconds = var.schedule_max_event_age_seconds
    }

    dead_letter_config {
      arn = aws_sqs_queue.dead_letters.arn
    }
  }
}

# What the watchdogs may do, as event-alarm: look (the state, the tier's readiness, runners,
# tagged resources, the events' schedules and Slack overrides), page (the alarm topic; Slack through
# the webhook, event_alarm.tf), and make the one-off look of an end moved later. Nothing that
# creates, changes or deletes a tier; no secret but the webhook's.
resource "aws_iam_role_policy" "alarm_watchdogs" {
  name   = "event-alarm-watchdogs"
  role   = aws_iam_role.alarm.id
  policy = data.aws_iam_policy_document.alarm_watchdogs.json
}

data "aws_iam_policy_document" "alarm_watchdogs" {
  #checkov:skip=CKV_AWS_356:"*" only for DescribeInstances, GetResources, DescribeTargetHealth and DescribeConnections, which take no other resource.
  source_policy_documents = [data.aws_iam_policy_document.tier_readiness.json]

  statement {
    sid       = "WatchRunners"
    actions   = ["ec2:DescribeInstances"]
    resources = ["*"]
  }

  statement {
    sid = "WatchLeftovers"
    # The Resource Groups Tagging API accepts no resource but "*" (the function filters on the event tag).
    actions   = ["tag:GetResources"]
    resources = ["*"]
  }

  statement {
    sid       = "WatchStatesAndOverrides"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.state.arn}/events/*"]
  }

  statement {
    sid = "WatchMissingIsNotFound"
    # Without it S3 answers 403 for a key that does not exist (an event never started).
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.state.arn]
  }

  statement {
    sid       = "ControlKeyThroughS3AndSns"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.control.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com", "sns.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "PageWithoutSlack"
    actions   = ["sns:Publish"]
    resources = [local.alarm_topic_arn]
  }

  statement {
    sid       = "ReadTheEventsSchedules"
    actions   = ["scheduler:GetSchedule"]
    resources = ["arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule/${aws_scheduler_schedule_group.events.name}/*"]
  }

  statement {
    sid       = "LookAgainAtAMovedEnd"
    actions   = ["scheduler:CreateSchedule"]
    resources = ["arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule/${aws_scheduler_schedule_group.follow_ups.name}/event-tier-wdg-*"]
  }

  statement {
    sid       = "PassTheSchedulerRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.scheduler.arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["scheduler.amazonaws.com"]
    }
  }
}
