# The events map becomes one start and one stop schedule per event: when they fire, in which time
# zone, with which payload, and what happens when an invocation cannot be delivered.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  aws_region             = "ap-northeast-2"
  vpc_id                 = "vpc-0a1b2c3d4e5f60718"
  public_subnet_ids      = ["subnet-0a000000000000001", "subnet-0a000000000000002"]
  private_subnet_ids     = ["subnet-0b000000000000001", "subnet-0b000000000000002"]
  start_zip_path         = "tests/fixtures/placeholder.zip"
  stop_zip_path          = "tests/fixtures/placeholder.zip"
  alarm_zip_path         = "tests/fixtures/placeholder.zip"
  runner_artifacts_dir   = "tests/fixtures/artifacts"
  runner_public_key      = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlaceholderPlaceholderPlaceholderPlaceholde test-only"
  runner_host_key_sha256 = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
  container_image        = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/shop:1.2.3"
  ops_db_secret_arn      = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:shop/ops-db-AbCdEf"
  ops_db_server_name     = "ops-db.shop.internal"
  ops_db_name            = "shop"

  events = {
    winter-sale-2026 = {
      start             = "2026-12-19T09:00:00"
      end               = "2026-12-21T23:00:00"
      timezone          = "Asia/Seoul"
      lead_time_minutes = 45
      vars              = { desired_count = 4, max_count = 20 }
    }
    new-year-flash = {
      start = "2027-01-01T00:10:00"
      end   = "2027-01-01T02:00:00"
      vars  = { container_tag = "2027.1", scale_in = false }
    }
    saturday-deals = {
      start     = "cron(0 8 ? * SAT *)"
      end       = "cron(0 22 ? * SAT *)"
      timezone  = "Asia/Seoul"
      recurring = true
    }
  }
}

override_resource {
  target = aws_lambda_function.start
  values = {
    arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:event-start"
  }
}

override_resource {
  target = aws_lambda_function.stop
  values = {
    arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:event-stop"
  }
}

override_resource {
  target = aws_lambda_function.alarm
  values = {
    arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:event-alarm"
  }
}

override_resource {
  target = aws_sqs_queue.dead_letters
  values = {
    arn = "arn:aws:sqs:ap-northeast-2:123456789012:event-dead-letters"
  }
}

run "dated_event_starts_its_lead_time_early_in_its_own_timezone" {
  assert {
    condition     = aws_scheduler_schedule.start["winter-sale-2026"].schedule_expression == "at(2026-12-19T08:15:00)"
    error_message = "the start must fire 45 minutes before 09:00: ${aws_scheduler_schedule.start["winter-sale-2026"].schedule_expression}"
  }
  assert {
    condition     = aws_scheduler_schedule.start["winter-sale-2026"].schedule_expression_timezone == "Asia/Seoul"
    error_message = "the start must be evaluated in the event's timezone"
  }
  assert {
    condition     = aws_scheduler_schedule.stop["winter-sale-2026"].schedule_expression == "at(2026-12-21T23:00:00)"
    error_message = "the stop must fire at the event's end, without lead time: ${aws_scheduler_schedule.stop["winter-sale-2026"].schedule_expression}"
  }
  assert {
    condition     = aws_scheduler_schedule.stop["winter-sale-2026"].schedule_expression_timezone == "Asia/Seoul"
    error_message = "the stop must be evaluated in the event's timezone"
  }
}

run "lead_time_crosses_midnight_and_the_year_with_defaults_utc_and_30_minutes" {
  assert {
    condition     = aws_scheduler_schedule.start["new-year-flash"].schedule_expression == "at(2026-12-31T23:40:00)"
    error_message = "30 minutes before 2027-01-01T00:10 is 2026-12-31T23:40: ${aws_scheduler_schedule.start["new-year-flash"].schedule_expression}"
  }
  assert {
    condition     = aws_scheduler_schedule.start["new-year-flash"].schedule_expression_timezone == "UTC"
    error_message = "the default timezone is UTC"
  }
}

run "recurring_event_uses_its_cron_expressions_as_given" {
  assert {
    condition     = aws_scheduler_schedule.start["saturday-deals"].schedule_expression == "cron(0 8 ? * SAT *)"
    error_message = "a recurring start is the cron expression given, no lead time applied"
  }
  assert {
    condition     = aws_scheduler_schedule.stop["saturday-deals"].schedule_expression == "cron(0 22 ? * SAT *)"
    error_message = "a recurring stop is the cron expression given"
  }
  assert {
    condition     = aws_scheduler_schedule.start["saturday-deals"].schedule_expression_timezone == "Asia/Seoul"
    error_message = "a recurring schedule is evaluated in its timezone"
  }
}

run "payload_carries_the_event_id_and_vars_with_their_json_types" {
  assert {
    condition = jsondecode(aws_scheduler_schedule.start["winter-sale-2026"].target[0].input) == {
      event_id = "winter-sale-2026"
      vars     = { desired_count = 4, max_count = 20 }
    }
    error_message = "start payload: ${aws_scheduler_schedule.start["winter-sale-2026"].target[0].input}"
  }
  assert {
    # Numbers stay numbers although another event sets strings and bools.
    condition     = strcontains(aws_scheduler_schedule.start["winter-sale-2026"].target[0].input, "\"desired_count\":4")
    error_message = "desired_count must reach the function as a JSON number: ${aws_scheduler_schedule.start["winter-sale-2026"].target[0].input}"
  }
  assert {
    condition     = strcontains(aws_scheduler_schedule.start["new-year-flash"].target[0].input, "\"scale_in\":false") && strcontains(aws_scheduler_schedule.start["new-year-flash"].target[0].input, "\"container_tag\":\"2027.1\"")
    error_message = "bools stay bools and strings stay strings: ${aws_scheduler_schedule.start["new-year-flash"].target[0].input}"
  }
  assert {
    condition     = jsondecode(aws_scheduler_schedule.start["saturday-deals"].target[0].input) == { event_id = "saturday-deals", vars = {} }
    error_message = "an event without vars sends empty vars"
  }
  assert {
    condition     = aws_scheduler_schedule.stop["winter-sale-2026"].target[0].input == aws_scheduler_schedule.start["winter-sale-2026"].target[0].input
    error_message = "the stop gets the same payload (destroy evaluates the same variables)"
  }
}

run "each_schedule_targets_its_function_through_the_scheduler_role" {
  assert {
    condition     = alltrue([for s in aws_scheduler_schedule.start : s.target[0].arn == "arn:aws:lambda:ap-northeast-2:123456789012:function:event-start"])
    error_message = "start schedules must target event-start"
  }
  assert {
    condition     = alltrue([for s in aws_scheduler_schedule.stop : s.target[0].arn == "arn:aws:lambda:ap-northeast-2:123456789012:function:event-stop"])
    error_message = "stop schedules must target event-stop"
  }
  assert {
    condition     = alltrue([for s in concat(values(aws_scheduler_schedule.start), values(aws_scheduler_schedule.stop)) : s.target[0].role_arn == aws_iam_role.scheduler.arn && s.group_name == "event-events" && s.flexible_time_window[0].mode == "OFF"])
    error_message = "every schedule uses the scheduler role, the events group and an exact time"
  }
  assert {
    condition     = toset(keys(aws_scheduler_schedule.start)) == toset(["winter-sale-2026", "new-year-flash", "saturday-deals"]) && aws_scheduler_schedule.stop["new-year-flash"].name == "new-year-flash-stop"
    error_message = "one start and one stop schedule per event, named after it"
  }
}

run "undeliverable_invocations_are_retried_then_dead_lettered_to_an_encrypted_queue" {
  assert {
    condition = alltrue([for s in concat(values(aws_scheduler_schedule.start), values(aws_scheduler_schedule.stop)) :
      s.target[0].retry_policy[0].maximum_retry_attempts == 3 && s.target[0].retry_policy[0].maximum_event_age_in_seconds == 3600
    ])
    error_message = "every schedule retries 3 times within an hour by default"
  }
  assert {
    condition = alltrue([for s in concat(values(aws_scheduler_schedule.start), values(aws_scheduler_schedule.stop)) :
      s.target[0].dead_letter_config[0].arn == "arn:aws:sqs:ap-northeast-2:123456789012:event-dead-letters"
    ])
    error_message = "every schedule dead-letters to the queue"
  }
  assert {
    condition     = aws_sqs_queue.dead_letters.sqs_managed_sse_enabled == true
    error_message = "the dead-letter queue must be encrypted"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.dead_letters.dimensions.QueueName == aws_sqs_queue.dead_letters.name && aws_cloudwatch_metric_alarm.dead_letters.threshold == 0
    error_message = "any dead letter raises an alarm"
  }
  assert {
    condition     = aws_lambda_function.start.dead_letter_config[0].target_arn == aws_sqs_queue.dead_letters.arn && aws_lambda_function_event_invoke_config.stop.maximum_retry_attempts == 1
    error_message = "invocations whose function failed after Lambda's retries go to the same queue"
  }
}

run "scheduler_role_invokes_only_the_event_functions_and_the_watchdogs" {
  assert {
    condition = [for s in data.aws_iam_policy_document.scheduler.statement : toset(s.resources) if contains(s.actions, "lambda:InvokeFunction")] == [toset([
      "arn:aws:lambda:ap-northeast-2:123456789012:function:event-start",
      "arn:aws:lambda:ap-northeast-2:123456789012:function:event-stop",
      "arn:aws:lambda:ap-northeast-2:123456789012:function:event-alarm",
    ])]
    error_message = "lambda:InvokeFunction must name exactly start, stop and alarm (the watchdogs)"
  }
  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.scheduler.statement : !contains(s.resources, "*") && length(s.actions) == 1])
    error_message = "the scheduler role has no wildcard resource and one action per statement"
  }
  assert {
    condition     = length([for s in data.aws_iam_policy_document.scheduler_assume.statement[0].condition : s if s.variable == "aws:SourceAccount"]) == 1
    error_message = "only this account's schedules may assume the scheduler role"
  }
}

run "an_empty_events_map_schedules_nothing" {
  variables {
    events = {}
  }

  assert {
    condition     = length(aws_scheduler_schedule.start) == 0 && length(aws_scheduler_schedule.stop) == 0
    error_message = "no events, no schedules"
  }
}

run "each_dated_event_has_a_watchdog_at_its_opening_and_one_after_its_end_plus_the_grace" {
  assert {
    condition     = aws_scheduler_schedule.watch["winter-sale-2026-watch-ready"].schedule_expression == "at(2026-12-19T09:00:00)" && aws_scheduler_schedule.watch["winter-sale-2026-watch-ready"].schedule_expression_timezone == "Asia/Seoul"
    error_message = "the ready watchdog fires at the opening itself, in the event's zone: ${aws_scheduler_schedule.watch["winter-sale-2026-watch-ready"].schedule_expression}"
  }
  assert {
    condition     = aws_scheduler_schedule.watch["winter-sale-2026-watch-down"].schedule_expression == "at(2026-12-21T23:30:00)" && aws_scheduler_schedule.watch["winter-sale-2026-watch-down"].schedule_expression_timezone == "Asia/Seoul"
    error_message = "the down watchdog fires 30 minutes (the default grace) after the end: ${aws_scheduler_schedule.watch["winter-sale-2026-watch-down"].schedule_expression}"
  }
  assert {
    condition     = jsondecode(aws_scheduler_schedule.watch["new-year-flash-watch-ready"].target[0].input) == { watch = { event_id = "new-year-flash", expect = "ready" } }
    error_message = "the ready watchdog's payload: ${aws_scheduler_schedule.watch["new-year-flash-watch-ready"].target[0].input}"
  }
  assert {
    condition     = jsondecode(aws_scheduler_schedule.watch["new-year-flash-watch-down"].target[0].input) == { watch = { event_id = "new-year-flash", expect = "down", grace_minutes = 30 } }
    error_message = "the down watchdog's payload: ${aws_scheduler_schedule.watch["new-year-flash-watch-down"].target[0].input}"
  }
  assert {
    condition     = alltrue([for s in values(aws_scheduler_schedule.watch) : s.target[0].arn == "arn:aws:lambda:ap-northeast-2:123456789012:function:event-alarm" && s.target[0].dead_letter_config[0].arn == "arn:aws:sqs:ap-northeast-2:123456789012:event-dead-letters"])
    error_message = "the watchdogs invoke event-alarm, not the functions they watch, and dead-letter as the others"
  }
  assert {
    condition     = length([for k in keys(aws_scheduler_schedule.watch) : k if startswith(k, "saturday-deals")]) == 0 && length(aws_scheduler_schedule.watch) == 4
    error_message = "a recurring event names no single opening: no watchdogs"
  }
}

run "the_grace_crosses_midnight_and_an_event_may_turn_its_watchdogs_off" {
  variables {
    watchdog_grace_minutes = 90
    events = {
      late = {
        start = "2026-12-19T20:00:00"
        end   = "2026-12-31T23:00:00"
      }
      quiet = {
        start     = "2026-12-19T20:00:00"
        end       = "2026-12-19T23:00:00"
        watchdogs = false
      }
    }
  }

  assert {
    condition     = aws_scheduler_schedule.watch["late-watch-down"].schedule_expression == "at(2027-01-01T00:30:00)"
    error_message = "90 minutes after 2026-12-31T23:00 is 2027-01-01T00:30: ${aws_scheduler_schedule.watch["late-watch-down"].schedule_expression}"
  }
  assert {
    condition     = join(",", sort(keys(aws_scheduler_schedule.watch))) == "late-watch-down,late-watch-ready"
    error_message = "watchdogs = false: none for that event"
  }
  assert {
    condition     = length(aws_scheduler_schedule.start) == 2
    error_message = "turning the watchdogs off leaves the event's start and stop"
  }
}

run "each_dated_event_is_rehearsed_two_days_before_its_opening_with_its_variables_and_lead_time" {
  assert {
    condition     = aws_scheduler_schedule.rehearsal["winter-sale-2026"].schedule_expression == "at(2026-12-17T09:00:00)" && aws_scheduler_schedule.rehearsal["winter-sale-2026"].schedule_expression_timezone == "Asia/Seoul"
    error_message = "two days before the opening, in the event's zone: ${aws_scheduler_schedule.rehearsal["winter-sale-2026"].schedule_expression}"
  }
  assert {
    condition     = jsondecode(aws_scheduler_schedule.rehearsal["winter-sale-2026"].target[0].input) == { event_id = "winter-sale-2026", vars = { desired_count = 4, max_count = 20 }, rehearsal = { lead_time_minutes = 45 } }
    error_message = "the rehearsal's payload is the start's with the lead time: ${aws_scheduler_schedule.rehearsal["winter-sale-2026"].target[0].input}"
  }
  assert {
    condition     = aws_scheduler_schedule.rehearsal["new-year-flash"].schedule_expression == "at(2026-12-30T00:10:00)" && jsondecode(aws_scheduler_schedule.rehearsal["new-year-flash"].target[0].input).rehearsal.lead_time_minutes == 30
    error_message = "across a year, with the default lead time: ${aws_scheduler_schedule.rehearsal["new-year-flash"].schedule_expression}"
  }
  assert {
    condition     = alltrue([for s in values(aws_scheduler_schedule.rehearsal) : s.target[0].arn == "arn:aws:lambda:ap-northeast-2:123456789012:function:event-start" && s.target[0].dead_letter_config[0].arn == "arn:aws:sqs:ap-northeast-2:123456789012:event-dead-letters"])
    error_message = "a rehearsal is event-start's, and dead-letters as the others"
  }
  assert {
    condition     = join(",", sort(keys(aws_scheduler_schedule.rehearsal))) == "new-year-flash,winter-sale-2026"
    error_message = "a recurring event names no single opening: no rehearsal"
  }
}

run "the_days_before_are_set_for_all_and_per_event_and_zero_turns_a_rehearsal_off" {
  variables {
    rehearsal_days_before = 7
    events = {
      early = {
        start = "2027-01-03T20:00:00"
        end   = "2027-01-03T23:00:00"
      }
      own = {
        start                 = "2027-01-03T20:00:00"
        end                   = "2027-01-03T23:00:00"
        rehearsal_days_before = 1
      }
      none = {
        start                 = "2027-01-03T20:00:00"
        end                   = "2027-01-03T23:00:00"
        rehearsal_days_before = 0
      }
    }
  }

  assert {
    condition     = aws_scheduler_schedule.rehearsal["early"].schedule_expression == "at(2026-12-27T20:00:00)" && aws_scheduler_schedule.rehearsal["own"].schedule_expression == "at(2027-01-02T20:00:00)"
    error_message = "7 days before for all, 1 for the event that says so: ${aws_scheduler_schedule.rehearsal["early"].schedule_expression}, ${aws_scheduler_schedule.rehearsal["own"].schedule_expression}"
  }
  assert {
    condition     = join(",", sort(keys(aws_scheduler_schedule.rehearsal))) == "early,own" && length(aws_scheduler_schedule.start) == 3
    error_message = "rehearsal_days_before = 0: no rehearsal for that event, its start and stop kept"
  }
}

run "an_event_without_its_own_lead_time_gets_the_learned_one_and_its_own_wins" {
  # What the functions wrote after their runs: (p95 apply + p95 boot) × 1.25 = 41.2 minutes.
  override_data {
    target = data.aws_s3_object.learned_lead[0]
    values = {
      body = "{\"lead_time_minutes\": 41.2, \"applies\": 14, \"boots\": 3}"
    }
  }

  assert {
    condition     = aws_scheduler_schedule.start["new-year-flash"].schedule_expression == "at(2026-12-31T23:28:00)"
    error_message = "no lead_time_minutes: the learned 42 minutes (rounded up) before 00:10: ${aws_scheduler_schedule.start["new-year-flash"].schedule_expression}"
  }
  assert {
    condition     = aws_scheduler_schedule.start["winter-sale-2026"].schedule_expression == "at(2026-12-19T08:15:00)"
    error_message = "the event's own 45 minutes win: ${aws_scheduler_schedule.start["winter-sale-2026"].schedule_expression}"
  }
  assert {
    condition     = output.default_lead_time_minutes == 42 && jsondecode(aws_scheduler_schedule.rehearsal["new-year-flash"].target[0].input).rehearsal.lead_time_minutes == 42
    error_message = "the learned default is an output, and what the rehearsal checks"
  }
}

run "before_any_recorded_run_the_default_lead_time_is_30_minutes" {
  override_data {
    target = data.aws_s3_object.learned_lead[0]
    values = {
      body = "{}"
    }
  }

  assert {
    condition     = output.default_lead_time_minutes == 30 && aws_scheduler_schedule.start["new-year-flash"].schedule_expression == "at(2026-12-31T23:40:00)"
    error_message = "no history: 30 minutes: ${aws_scheduler_schedule.start["new-year-flash"].schedule_expression}"
  }
}
