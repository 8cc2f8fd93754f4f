# What the module refuses before it plans anything: bad event ids, bad payload variables, a platform
# document without the agreed keys.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  event_id   = "winter-sale-2026"
  aws_region = "us-east-1"
}

run "a_good_event_id_plans" {
  command = plan
}

run "event_id_with_upper_case_is_refused" {
  command = plan
  variables {
    event_id = "Winter-Sale"
  }
  expect_failures = [var.event_id]
}

run "event_id_starting_with_a_digit_is_refused" {
  command = plan
  variables {
    event_id = "2026-winter"
  }
  expect_failures = [var.event_id]
}

run "event_id_of_41_characters_is_refused" {
  command = plan
  variables {
    event_id = "a234567890123456789012345678901234567890x"
  }
  expect_failures = [var.event_id]
}

run "event_id_with_an_underscore_is_refused" {
  command = plan
  variables {
    event_id = "winter_sale"
  }
  expect_failures = [var.event_id]
}

run "event_id_with_a_double_hyphen_is_refused" {
  command = plan
  variables {
    event_id = "winter--sale"
  }
  expect_failures = [var.event_id]
}

run "event_id_ending_with_a_hyphen_is_refused" {
  command = plan
  variables {
    event_id = "winter-sale-"
  }
  expect_failures = [var.event_id]
}

run "empty_event_id_is_refused" {
  command = plan
  variables {
    event_id = ""
  }
  expect_failures = [var.event_id]
}

run "an_event_id_of_40_characters_fits_every_name" {
  command = plan
  variables {
    event_id = "a234567890123456789012345678901234567890"
  }

  assert {
    condition     = length(aws_lb.this.name) <= 32 && length(aws_lb_target_group.this.name) <= 32
    error_message = "load balancer and target group names are at most 32 characters"
  }
  assert {
    condition     = length(aws_db_instance.this.identifier) <= 63 && length(aws_dms_replication_instance.this.replication_instance_id) <= 63
    error_message = "RDS and DMS instance identifiers are at most 63 characters"
  }
  assert {
    condition     = alltrue([for r in [aws_iam_role.execution, aws_iam_role.task, aws_iam_role.dms_secrets, aws_iam_role.scheduler] : length(r.name) <= 64])
    error_message = "IAM role names are at most 64 characters"
  }
  assert {
    condition     = length(aws_scheduler_schedule.hourly_migration.name) <= 64 && length(aws_scheduler_schedule.first_migration.name) <= 64
    error_message = "schedule names are at most 64 characters"
  }
  assert {
    condition     = length(local.target_schema) <= 63
    error_message = "the target schema is a valid PostgreSQL identifier length"
  }
}

run "long_event_ids_with_a_common_prefix_get_distinct_load_balancer_names" {
  command = plan
  variables {
    event_id = "a234567890123456789012345678901234567890"
  }

  assert {
    condition     = aws_lb.this.name != "et-a2345678901234567890-${substr(sha1("a234567890123456789012345678901234567899"), 0, 8)}"
    error_message = "two long ids sharing 20 characters must not share a load balancer name"
  }
  assert {
    condition     = can(regex("^et-a2345678901234567890-[0-9a-f]{8}$", aws_lb.this.name))
    error_message = "a long id's load balancer name is its first 20 characters and a hash: ${aws_lb.this.name}"
  }
}

run "desired_count_of_zero_is_refused" {
  command = plan
  variables {
    desired_count = 0
  }
  expect_failures = [var.desired_count]
}

run "fractional_max_count_is_refused" {
  command = plan
  variables {
    max_count = 2.5
  }
  expect_failures = [var.max_count]
}

run "max_count_below_desired_count_is_refused" {
  command = plan
  variables {
    desired_count = 6
    max_count     = 4
  }
  expect_failures = [var.max_count]
}

run "task_memory_fargate_does_not_offer_for_the_cpu_is_refused" {
  command = plan
  variables {
    task_cpu    = 256
    task_memory = 4096
  }
  expect_failures = [var.task_memory]
}

run "task_cpu_fargate_does_not_offer_is_refused" {
  command = plan
  variables {
    task_cpu    = 300
    task_memory = 1024
  }
  expect_failures = [var.task_cpu]
}

run "cpu_target_above_90_percent_is_refused" {
  command = plan
  variables {
    cpu_target_percent = 95
  }
  expect_failures = [var.cpu_target_percent]
}

run "db_instance_class_without_the_db_prefix_is_refused" {
  command = plan
  variables {
    db_instance_class = "m7g.large"
  }
  expect_failures = [var.db_instance_class]
}

run "dms_instance_class_without_the_dms_prefix_is_refused" {
  command = plan
  variables {
    dms_instance_class = "t3.medium"
  }
  expect_failures = [var.dms_instance_class]
}

run "db_storage_below_20_gib_is_refused" {
  command = plan
  variables {
    db_allocated_storage = 10
  }
  expect_failures = [var.db_allocated_storage]
}

run "platform_document_missing_a_key_is_refused" {
  command = plan

  override_data {
    target = data.aws_ssm_parameter.platform
    values = {
      insecure_value = "{\"vpc_id\":\"vpc-1\",\"public_subnet_ids\":[\"subnet-a\",\"subnet-b\"],\"private_subnet_ids\":[\"subnet-c\",\"subnet-d\"],\"container_image\":\"shop:1\",\"container_port\":8080,\"ops_db_server_name\":\"ops\",\"ops_db_port\":5432,\"ops_db_name\":\"shop\"}"
    }
  }
  expect_failures = [data.aws_ssm_parameter.platform]
}

run "platform_document_that_is_not_json_is_refused" {
  command = plan

  override_data {
    target = data.aws_ssm_parameter.platform
    values = {
      insecure_value = "vpc_id=vpc-1"
    }
  }
  expect_failures = [data.aws_ssm_parameter.platform]
}

run "platform_document_with_one_private_subnet_is_refused" {
  command = plan

  override_data {
    target = data.aws_ssm_parameter.platform
    values = {
      insecure_value = "{\"vpc_id\":\"vpc-1\",\"public_subnet_ids\":[\"subnet-a\",\"subnet-b\"],\"private_subnet_ids\":[\"subnet-c\"],\"container_image\":\"shop:1\",\"container_port\":8080,\"ops_db_secret_arn\":\"arn:aws:secretsmanager:us-east-1:123456789012:secret:ops-AbCdEf\",\"ops_db_server_name\":\"ops\",\"ops_db_port\":5432,\"ops_db_name\":\"shop\"}"
    }
  }
  expect_failures = [data.aws_ssm_parameter.platform]
}
