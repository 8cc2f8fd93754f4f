# The Slack app (var.slack_app): none unless asked for; when asked for, a function URL that only
# Slack-signed requests get anything from (no IAM auth, so the permission is for URL calls of auth
# type NONE only), its allow-lists and cap in the function's settings, its own signing secret that
# only its role may read, and a role that can move stops but not destroy anything. event-stop reads
# the events' schedule group either way, so an end moved from Slack is obeyed.

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
  slack_zip_path         = "tests/fixtures/placeholder.zip"
  runner_artifacts_dir   = "tests/fixtures/artifacts"
  runner_public_key      = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlaceholderPlaceholderPlaceholderPlaceholde test-only"
  runner_host_key_sha256 = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
  container_image        = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/shop:1.2.3"
  ops_db_secret_arn      = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:shop/ops-db-AbCdEf"
  ops_db_server_name     = "ops-db.shop.internal"
  ops_db_name            = "shop"
}

override_resource {
  target = aws_iam_role.slack
  values = { arn = "arn:aws:iam::123456789012:role/event-slack" }
}

run "no_slack_app_unless_asked_for" {
  command = plan

  assert {
    condition     = length(aws_lambda_function.slack) == 0 && length(aws_lambda_function_url.slack) == 0 && length(aws_secretsmanager_secret.slack_signing) == 0
    error_message = "slack_app = null must make no function, URL or signing secret"
  }

  assert {
    condition     = output.slack_request_url == null && output.slack_signing_secret_arn == null
    error_message = "without the app its outputs are null"
  }

  assert {
    condition     = aws_lambda_function.stop.environment[0].variables["EVENT_TIER_EVENTS_SCHEDULE_GROUP"] == "event-events"
    error_message = "event-stop must read the events' schedule group, to obey an end moved from Slack"
  }

  assert {
    condition     = !contains(keys(aws_lambda_function.start.environment[0].variables), "EVENT_TIER_SLACK_BUTTONS") && !contains(keys(aws_lambda_function.stop.environment[0].variables), "EVENT_TIER_SLACK_BUTTONS")
    error_message = "without the app, no message may carry buttons nobody answers"
  }
}

run "the_app_answers_only_what_slack_signed" {
  command = apply

  variables {
    slack_app = {
      allow = {
        extend     = ["U012AB3CD", "U045EF6GH"]
        "stop-now" = ["U012AB3CD"]
      }
      extension_cap_minutes = 120
    }
  }

  assert {
    condition     = aws_lambda_function_url.slack["app"].authorization_type == "NONE"
    error_message = "Slack cannot sign with AWS keys: the URL has no IAM auth (the function checks Slack's signature)"
  }

  assert {
    condition = (
      aws_lambda_permission.slack_url["app"].action == "lambda:InvokeFunctionUrl"
      && aws_lambda_permission.slack_url["app"].function_url_auth_type == "NONE"
    )
    error_message = "the public permission must be for function-URL calls only"
  }

  assert {
    condition = (
      aws_lambda_function.slack["app"].environment[0].variables["EVENT_TIER_SLACK_ALLOW"] == "extend=U012AB3CD,U045EF6GH;stop-now=U012AB3CD"
      && aws_lambda_function.slack["app"].environment[0].variables["EVENT_TIER_SLACK_EXTENSION_CAP_MINUTES"] == "120"
      && aws_lambda_function.slack["app"].environment[0].variables["EVENT_TIER_SLACK_SIGNING_SECRET_ARN"] == aws_secretsmanager_secret.slack_signing["app"].arn
    )
    error_message = "the function must get the allow-lists, the cap and the signing secret"
  }

  assert {
    condition     = aws_lambda_function.start.environment[0].variables["EVENT_TIER_SLACK_BUTTONS"] == "true" && aws_lambda_function.stop.environment[0].variables["EVENT_TIER_SLACK_BUTTONS"] == "true"
    error_message = "with the app, event-start's and event-stop's messages carry its buttons"
  }

  assert {
    condition     = aws_lambda_function.slack["app"].timeout <= 10 && length(aws_lambda_function.slack["app"].vpc_config) == 0
    error_message = "the app answers within Slack's three seconds, outside the VPC (it never reaches a runner)"
  }

  assert {
    condition     = toset(one(data.aws_iam_policy_document.secret_readers["slack_signing"].statement[0].condition).values) == toset(["arn:aws:iam::123456789012:role/event-slack"])
    error_message = "only the app's role may read the signing secret"
  }

  assert {
    condition = alltrue(flatten([
      for st in data.aws_iam_policy_document.slack["app"].statement : [
        for a in st.actions : !anytrue([for f in ["ec2:", "dms:", "lambda:", "s3:DeleteObject", "secretsmanager:PutSecretValue"] : startswith(a, f)])
      ]
    ]))
    error_message = "the app's role moves stops and records; it must not reach EC2, DMS, Lambda or delete anything"
  }

  assert {
    condition = toset(flatten([
      for st in data.aws_iam_policy_document.slack["app"].statement : st.resources if contains(st.actions, "scheduler:CreateSchedule")
      ])) == toset([
      "arn:aws:scheduler:ap-northeast-2:123456789012:schedule/event-follow-ups/event-tier-end-*",
      "arn:aws:scheduler:ap-northeast-2:123456789012:schedule/event-follow-ups/event-tier-go--*",
      "arn:aws:scheduler:ap-northeast-2:123456789012:schedule/event-follow-ups/event-tier-rem-*",
    ])
    error_message = "the app may make one-off stops, retries and reminders in the follow-up group, nothing else"
  }
}

run "reminders_come_before_the_end_of_dated_events" {
  command = apply

  variables {
    slack_app = {
      allow = { extend = ["U012AB3CD"] }
    }
    events = {
      winter-sale-2026 = { start = "2026-12-19T09:00:00", end = "2026-12-20T00:30:00", timezone = "Asia/Seoul" }
      flash-sale       = { start = "2026-12-21T12:00:00", end = "2026-12-21T14:00:00", reminder_minutes = 15 }
      quiet-sale       = { start = "2026-12-22T12:00:00", end = "2026-12-22T14:00:00", reminder_minutes = 0 }
      weekly           = { start = "cron(0 9 ? * SAT *)", end = "cron(0 21 ? * SAT *)", recurring = true }
    }
  }

  assert {
    condition     = toset(keys(aws_scheduler_schedule.remind)) == toset(["winter-sale-2026", "flash-sale"])
    error_message = "dated events get a reminder (60 min by default); reminder_minutes = 0 and recurring events get none"
  }

  assert {
    condition = (
      aws_scheduler_schedule.remind["winter-sale-2026"].schedule_expression == "at(2026-12-19T23:30:00)"
      && aws_scheduler_schedule.remind["winter-sale-2026"].schedule_expression_timezone == "Asia/Seoul"
      && aws_scheduler_schedule.remind["flash-sale"].schedule_expression == "at(2026-12-21T13:45:00)"
    )
    error_message = "the reminder fires reminder_minutes before the wall-clock end, in the event's zone (across midnight too)"
  }

  assert {
    condition = (
      aws_scheduler_schedule.remind["flash-sale"].target[0].arn == aws_lambda_function.slack["app"].arn
      && jsondecode(aws_scheduler_schedule.remind["flash-sale"].target[0].input) == { remind = { event_id = "flash-sale", before_end_minutes = 15 } }
      && aws_scheduler_schedule.remind["flash-sale"].name == "flash-sale-remind"
      && aws_scheduler_schedule.remind["flash-sale"].group_name == "event-events"
    )
    error_message = "the reminder invokes the Slack app with the event and its lead, from the events' group"
  }

  assert {
    condition     = contains(data.aws_iam_policy_document.scheduler.statement[0].resources, aws_lambda_function.slack["app"].arn)
    error_message = "the scheduler's role must be allowed to invoke the Slack app for the reminders"
  }
}

run "a_reminder_needs_the_app" {
  command = plan

  variables {
    events = {
      winter-sale-2026 = { start = "2026-12-19T09:00:00", end = "2026-12-20T00:30:00" }
    }
  }

  assert {
    condition     = length(aws_scheduler_schedule.remind) == 0
    error_message = "without the Slack app there is nobody to post a reminder with buttons"
  }
}

run "an_allow_list_of_names_is_refused" {
  command = plan

  variables {
    slack_app = { allow = { extend = ["alice"] } }
  }

  expect_failures = [var.slack_app]
}
