# Bad input is refused at plan time, naming the variable: above all, event ids the functions would
# refuse when the schedule fires, weeks later.

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
}

run "a_slack_channel_name_instead_of_its_id_is_refused" {
  command = plan

  variables {
    slack_channel_id = "#sales-events"
  }

  expect_failures = [var.slack_channel_id]
}

run "event_id_with_upper_case_letters_is_refused" {
  command = plan

  variables {
    events = { "Winter-Sale" = { start = "2026-12-19T09:00:00", end = "2026-12-21T23:00:00" } }
  }

  expect_failures = [var.events]
}

run "event_id_starting_with_a_digit_is_refused" {
  command = plan

  variables {
    events = { "2026-sale" = { start = "2026-12-19T09:00:00", end = "2026-12-21T23:00:00" } }
  }

  expect_failures = [var.events]
}

run "event_id_with_an_underscore_is_refused" {
  command = plan

  variables {
    events = { winter_sale = { start = "2026-12-19T09:00:00", end = "2026-12-21T23:00:00" } }
  }

  expect_failures = [var.events]
}

run "event_id_of_41_characters_is_refused" {
  command = plan

  variables {
    events = { a2345678901234567890123456789012345678901 = { start = "2026-12-19T09:00:00", end = "2026-12-21T23:00:00" } }
  }

  expect_failures = [var.events]
}

run "event_id_with_a_space_is_refused" {
  command = plan

  variables {
    events = { "winter sale" = { start = "2026-12-19T09:00:00", end = "2026-12-21T23:00:00" } }
  }

  expect_failures = [var.events]
}

run "event_id_with_a_double_dash_is_refused" {
  command = plan

  variables {
    events = { "winter--sale" = { start = "2026-12-19T09:00:00", end = "2026-12-21T23:00:00" } }
  }

  expect_failures = [var.events]
}

run "event_id_ending_with_a_dash_is_refused" {
  command = plan

  variables {
    events = { "winter-sale-" = { start = "2026-12-19T09:00:00", end = "2026-12-21T23:00:00" } }
  }

  expect_failures = [var.events]
}

run "dated_event_with_a_zone_suffix_is_refused" {
  command = plan

  variables {
    events = { winter-sale = { start = "2026-12-19T09:00:00+09:00", end = "2026-12-21T23:00:00" } }
  }

  expect_failures = [var.events]
}

run "dated_event_ending_before_it_starts_is_refused" {
  command = plan

  variables {
    events = { winter-sale = { start = "2026-12-21T09:00:00", end = "2026-12-19T23:00:00" } }
  }

  expect_failures = [var.events]
}

run "impossible_date_is_refused" {
  command = plan

  variables {
    events = { winter-sale = { start = "2026-02-30T09:00:00", end = "2026-03-01T23:00:00" } }
  }

  expect_failures = [var.events]
}

run "recurring_event_without_cron_is_refused" {
  command = plan

  variables {
    events = { saturdays = { start = "2026-12-19T09:00:00", end = "2026-12-19T23:00:00", recurring = true } }
  }

  expect_failures = [var.events]
}

run "dated_event_with_cron_is_refused" {
  command = plan

  variables {
    events = { saturdays = { start = "cron(0 8 ? * SAT *)", end = "cron(0 22 ? * SAT *)" } }
  }

  expect_failures = [var.events]
}

run "timezone_that_is_no_zone_name_is_refused" {
  command = plan

  variables {
    events = { winter-sale = { start = "2026-12-19T09:00:00", end = "2026-12-21T23:00:00", timezone = "+09:00" } }
  }

  expect_failures = [var.events]
}

run "negative_lead_time_is_refused" {
  command = plan

  variables {
    events = { winter-sale = { start = "2026-12-19T09:00:00", end = "2026-12-21T23:00:00", lead_time_minutes = -5 } }
  }

  expect_failures = [var.events]
}

run "a_reminder_longer_than_a_day_is_refused" {
  command = plan

  variables {
    events = { winter-sale = { start = "2026-12-19T09:00:00", end = "2026-12-21T23:00:00", reminder_minutes = 1441 } }
  }

  expect_failures = [var.events]
}

run "fractional_lead_time_is_refused" {
  command = plan

  variables {
    events = { winter-sale = { start = "2026-12-19T09:00:00", end = "2026-12-21T23:00:00", lead_time_minutes = 2.5 } }
  }

  expect_failures = [var.events]
}

run "nested_vars_are_refused" {
  command = plan

  variables {
    events = { winter-sale = { start = "2026-12-19T09:00:00", end = "2026-12-21T23:00:00", vars = { scaling = { min = 1 } } } }
  }

  expect_failures = [var.events]
}

run "unknown_event_setting_is_refused" {
  command = plan

  variables {
    events = { winter-sale = { start = "2026-12-19T09:00:00", end = "2026-12-21T23:00:00", lead_minutes = 10 } }
  }

  expect_failures = [var.events]
}

run "event_without_end_is_refused" {
  command = plan

  variables {
    events = { winter-sale = { start = "2026-12-19T09:00:00" } }
  }

  expect_failures = [var.events]
}

run "private_key_in_place_of_the_public_key_is_refused" {
  command = plan

  variables {
    # Built so that no file of the repository holds a private-key header.
    runner_public_key = "-----BEGIN OPENSSH ${upper("private")} KEY-----"
  }

  expect_failures = [var.runner_public_key]
}

run "host_key_fingerprint_in_md5_is_refused" {
  command = plan

  variables {
    runner_host_key_sha256 = "MD5:12:34:56:78:9a:bc:de:f0:12:34:56:78:9a:bc:de:f0"
  }

  expect_failures = [var.runner_host_key_sha256]
}

run "one_private_subnet_is_refused" {
  command = plan

  variables {
    private_subnet_ids = ["subnet-0b000000000000001"]
  }

  expect_failures = [var.private_subnet_ids]
}

run "a_runner_subnet_listed_twice_is_refused" {
  command = plan

  variables {
    runner_subnet_ids = ["subnet-0b000000000000001", "subnet-0b000000000000001"]
  }

  expect_failures = [var.runner_subnet_ids]
}

run "no_runner_instance_type_is_refused" {
  command = plan

  variables {
    runner_instance_types = []
  }

  expect_failures = [var.runner_instance_types]
}

run "missing_package_is_refused" {
  command = plan

  variables {
    start_zip_path = "tests/fixtures/no-such.zip"
  }

  expect_failures = [var.start_zip_path]
}

run "memory_below_lambda_minimum_is_refused" {
  command = plan

  variables {
    function_memory_mb = 64
  }

  expect_failures = [var.function_memory_mb]
}

run "event_ids_at_the_limits_are_accepted" {
  command = plan

  variables {
    events = {
      a                                        = { start = "2026-12-19T09:00:00", end = "2026-12-19T09:01:00", lead_time_minutes = 0 }
      a234567890123456789012345678901234567890 = { start = "cron(0 8 ? * SAT *)", end = "cron(0 22 ? * SAT *)", recurring = true, timezone = "America/Argentina/Buenos_Aires" }
      flash-sale-2027                          = { start = "2027-01-01T00:00:00", end = "2027-01-02T00:00:00", timezone = "Etc/GMT+9", lead_time_minutes = 1440, vars = { desired_count = 2, note = "x", on = true } }
    }
  }

  assert {
    condition     = length(aws_scheduler_schedule.start) == 3
    error_message = "all three events are scheduled"
  }
}

run "a_rehearsal_more_than_30_days_ahead_or_of_part_days_is_refused" {
  command = plan

  variables {
    events = {
      far  = { start = "2026-12-19T09:00:00", end = "2026-12-21T23:00:00", rehearsal_days_before = 31 }
      half = { start = "2026-12-19T09:00:00", end = "2026-12-21T23:00:00", rehearsal_days_before = 1.5 }
    }
  }

  expect_failures = [var.events]
}

run "rehearsal_days_before_for_all_events_is_bounded" {
  command = plan

  variables {
    rehearsal_days_before = -1
  }

  expect_failures = [var.rehearsal_days_before]
}
