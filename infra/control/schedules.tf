# The events' schedules: for each event in var.events, one schedule that invokes event-start and
# one that invokes event-stop, with the payload {"event_id": <key>, "vars": {...}}.
#
# Time zones. A dated event's start and end are wall-clock times in its `timezone`, written
# 2026-12-19T09:00:00, and the schedules are `at(...)` expressions evaluated by EventBridge Scheduler
# in that zone (schedule_expression_timezone), so Terraform never converts between zones. The lead
# time is subtracted from the wall-clock start: the time is read as if it were UTC (an RFC3339 time
# with "Z" appended), timeadd() takes the minutes off (crossing midnight or a month as needed), and
# the result is written back without a zone. Only when a daylight-saving change falls inside the
# lead time does the real lead differ from lead_time_minutes, by that change (an hour at most).
# A recurring event gives cron(...) expressions directly, in its timezone, lead time included.

locals {
  events = {
    for id, e in var.events : id => {
      start             = e.start
      end               = e.end
      timezone          = try(e.timezone, "UTC")
      lead_time_minutes = try(e.lead_time_minutes, local.default_lead_time_minutes)
      recurring         = try(e.recurring, false)
      reminder_minutes  = tonumber(try(e.reminder_minutes, 60))
      vars              = try(e.vars, {})
      watchdogs         = tobool(try(e.watchdogs, true))
      # rehearsals.tf; 0: none.
      rehearsal_days_before = tonumber(try(e.rehearsal_days_before, var.rehearsal_days_before))
    }
  }

  # The reminders before the end (event-slack posts them, with its buttons): dated events, with the
  # Slack app, unless reminder_minutes = 0. The minutes come off the wall-clock end as the lead time
  # comes off the start.
  reminders = var.slack_app == null ? {} : {
    for id, e in local.events : id => {
      at    = "at(${formatdate("YYYY-MM-DD'T'hh:mm:ss", timeadd("${e.end}Z", "-${e.reminder_minutes}m"))})"
      input = jsonencode({ remind = { event_id = id, before_end_minutes = e.reminder_minutes } })
    } if !e.recurring && e.reminder_minutes > 0
  }

  schedules = {
    for id, e in local.events : id => {
      start = (
        e.recurring ? e.start :
        "at(${formatdate("YYYY-MM-DD'T'hh:mm:ss", timeadd("${e.start}Z", "-${e.lead_time_minutes}m"))})"
      )
      end   = e.recurring ? e.end : "at(${e.end})"
      input = jsonencode({ event_id = id, vars = e.vars })
    }
  }
}

resource "aws_scheduler_schedule_group" "events" {
  name = "${var.name}-events"
}

# Where the functions put the one-off schedules that follow a long run up (they delete themselves).
resource "aws_scheduler_schedule_group" "follow_ups" {
  name = "${var.name}-follow-ups"
}

resource "aws_scheduler_schedule" "start" {
  #checkov:skip=CKV_AWS_297:The payload is an event id and the tier's sizing variables, no secret; an AWS-owned key encrypts it.
  for_each = local.events

  name        = "${each.key}-start"
  group_name  = aws_scheduler_schedule_group.events.name
  description = each.value.recurring ? "event-tier: start ${each.key}" : "event-tier: start ${each.key}, ${each.value.lead_time_minutes} min before ${each.value.start} ${each.value.timezone}"

  schedule_expression          = local.schedules[each.key].start
  schedule_expression_timezone = each.value.timezone

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.start.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = local.schedules[each.key].input

    retry_policy {
      maximum_retry_attempts       = var.schedule_retry_attempts
      maximum_event_age_in_seconds = var.schedule_max_event_age_seconds
    }

    dead_letter_config {
      arn = aws_sqs_queue.dead_letters.arn
    }
  }
}

resource "aws_scheduler_schedule" "stop" {
  #checkov:skip=CKV_AWS_297:The payload is an event id and the tier's sizing variables, no secret; an AWS-owned key encrypts it.
  for_each = local.events

  name        = "${each.key}-stop"
  group_name  = aws_scheduler_schedule_group.events.name
  description = each.value.recurring ? "event-tier: stop ${each.key}" : "event-tier: stop ${each.key} at ${each.value.end} ${each.value.timezone}"

  schedule_expression          = local.schedules[each.key].end
  schedule_expression_timezone = each.value.timezone

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.stop.arn
    role_arn = aws_iam_role.scheduler.arn
    # The stop gets the vars too: `terraform destroy` evaluates the same variables.
    input = local.schedules[each.key].input

    retry_policy {
      maximum_retry_attempts       = var.schedule_retry_attempts
      maximum_event_age_in_seconds = var.schedule_max_event_age_seconds
    }

    dead_letter_config {
      arn = aws_sqs_queue.dead_letters.arn
    }
  }
}

resource "aws_scheduler_schedule" "remind" {
  #checkov:skip=CKV_AWS_297:The payload is an event id and a number of minutes, no secret; an AWS-owned key encrypts it.
  for_each = local.reminders

  name        = "${each.key}-remind"
  group_name  = aws_scheduler_schedule_group.events.name
  description = "event-tier: remind Slack of the end of ${each.key}, ${local.events[each.key].reminder_minutes} min before ${local.events[each.key].end} ${local.events[each.key].timezone}"

  schedule_expression          = each.value.at
  schedule_expression_timezone = local.events[each.key].timezone

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.slack["app"].arn
    role_arn = aws_iam_role.scheduler.arn
    input    = each.value.input

    retry_policy {
      maximum_retry_attempts       = var.schedule_retry_attempts
      maximum_event_age_in_seconds = var.schedule_max_event_age_seconds
    }

    dead_letter_config {
      arn = aws_sqs_queue.dead_letters.arn
    }
  }
}

# The scheduler's role: invoke the event functions (the Slack app, for the reminders; event-alarm,
# for the watchdogs) and nothing else; dead letters to the queue.

resource "aws_iam_role" "scheduler" {
  name               = "${var.name}-scheduler"
  description        = "EventBridge Scheduler: invoke ${var.name}-start, ${var.name}-stop, the Slack app's reminders and the watchdogs (${var.name}-alarm)"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
}

data "aws_iam_policy_document" "scheduler_assume" {
  #parliament:skip=MALFORMED:a trust policy: it names who may assume the role, and IAM takes no Resource in it
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "invoke-event-functions"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "InvokeTheEventFunctions"
    actions   = ["lambda:InvokeFunction"]
    resources = concat([aws_lambda_function.start.arn, aws_lambda_function.stop.arn, aws_lambda_function.alarm.arn], [for f in aws_lambda_function.slack : f.arn])
  }

  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters.arn]
  }
}

# Dead letters: invocations Scheduler could not deliver after its retries, and invocations whose
# function failed after Lambda's retries. Kept 14 days; any message raises an alarm.

resource "aws_sqs_queue" "dead_letters" {
  name                      = "${var.name}-dead-letters"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  alarm_name        = "${var.name}-dead-letters"
  alarm_description = "A scheduled event-tier invocation failed for good: read it from ${aws_sqs_queue.dead_letters.name}, fix the cause, invoke the function again with its payload."

  namespace   = "AWS/SQS"
  metric_name = "ApproximateNumberOfMessagesVisible"
  dimensions = {
    QueueName = aws_sqs_queue.dead_letters.name
  }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"

  alarm_actions = [local.alarm_topic_arn]
  ok_actions    = [local.alarm_topic_arn]
}
