# The resources an operator would check in the console: the functions and their settings, the
# runner's network, the state bucket, the platform parameter, the alarms.

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

override_resource {
  target = aws_security_group.functions
  values = {
    id  = "sg-0fffffffffffffff1"
    arn = "arn:aws:ec2:ap-northeast-2:123456789012:security-group/sg-0fffffffffffffff1"
  }
}

override_resource {
  target = aws_security_group.runner
  values = {
    id  = "sg-0aaaaaaaaaaaaaaa1"
    arn = "arn:aws:ec2:ap-northeast-2:123456789012:security-group/sg-0aaaaaaaaaaaaaaa1"
  }
}

override_resource {
  target = aws_s3_bucket.state
  values = {
    id  = "event-tier-state-123456789012-ap-northeast-2"
    arn = "arn:aws:s3:::event-tier-state-123456789012-ap-northeast-2"
  }
}

override_resource {
  target = aws_secretsmanager_secret.runner_ssh_key
  values = { arn = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:event/runner-ssh-key-20261201-AbCdEf" }
}

override_resource {
  target = aws_secretsmanager_secret.slack_webhook
  values = { arn = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:event/slack-webhook-20261201-GhIjKl" }
}

override_resource {
  target = aws_secretsmanager_secret.runner_host_key
  values = { arn = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:event/runner-host-key-20261201-MnOpQr" }
}

override_resource {
  target = aws_sns_topic.alarms
  values = { arn = "arn:aws:sns:ap-northeast-2:123456789012:event-alarms" }
}

override_resource {
  target = aws_lambda_function.alarm
  values = { arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:event-alarm" }
}

override_resource {
  target = aws_kinesis_firehose_delivery_stream.logs
  values = { arn = "arn:aws:firehose:ap-northeast-2:123456789012:deliverystream/event-logs" }
}

override_resource {
  target = aws_iam_role.log_delivery
  values = { arn = "arn:aws:iam::123456789012:role/event-log-delivery" }
}

run "functions_are_provided_al2023_x86_64_bootstrap_zips_with_15_minutes" {
  assert {
    condition = alltrue([for f in [aws_lambda_function.start, aws_lambda_function.stop] :
      f.runtime == "provided.al2023" && join(",", f.architectures) == "x86_64" && f.handler == "bootstrap" && f.timeout == 900 && f.memory_size == 512
    ])
    error_message = "both functions: provided.al2023, x86_64, bootstrap, 900 s, the memory variable"
  }
  assert {
    condition     = aws_lambda_function.start.function_name == "event-start" && aws_lambda_function.stop.function_name == "event-stop"
    error_message = "the functions are event-start and event-stop"
  }
  assert {
    condition     = aws_lambda_function.start.source_code_hash == filebase64sha256("tests/fixtures/placeholder.zip") && aws_lambda_function.stop.filename == "tests/fixtures/placeholder.zip"
    error_message = "the package and its hash come from the zip path variables"
  }
  assert {
    condition     = aws_lambda_function.start.role == aws_iam_role.start.arn && aws_lambda_function.stop.role == aws_iam_role.stop.arn && aws_iam_role.start.name != aws_iam_role.stop.name
    error_message = "each function has a role of its own"
  }
}

run "functions_get_the_configuration_table_of_the_readme" {
  variables {
    function_environment = {
      EVENT_TIER_RUNNER_READY_TIMEOUT_SECS = "900"
      EVENT_TIER_STATE_BUCKET              = "cannot-override"
    }
  }

  assert {
    condition = aws_lambda_function.start.environment[0].variables == merge(tomap({
      EVENT_TIER_STATE_BUCKET               = "event-tier-state-123456789012-ap-northeast-2"
      EVENT_TIER_RUNNER_KEY_SECRET_ARN      = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:event/runner-ssh-key-20261201-AbCdEf"
      EVENT_TIER_SLACK_WEBHOOK_SECRET_ARN   = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:event/slack-webhook-20261201-GhIjKl"
      EVENT_TIER_RUNNER_SUBNET_IDS          = "subnet-0b000000000000001,subnet-0b000000000000002"
      EVENT_TIER_RUNNER_SECURITY_GROUP_ID   = "sg-0aaaaaaaaaaaaaaa1"
      EVENT_TIER_RUNNER_INSTANCE_PROFILE    = "event-runner"
      EVENT_TIER_RUNNER_HOST_KEY_SHA256     = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
      EVENT_TIER_RUNNER_HOST_KEY_SECRET_ARN = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:event/runner-host-key-20261201-MnOpQr"
      EVENT_TIER_RUNNER_KEY_NAME            = "event-runner"
      EVENT_TIER_RUNNER_AMI_PARAMETER       = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
      EVENT_TIER_RUNNER_INSTANCE_TYPES      = "t3.small,t3a.small"
      EVENT_TIER_FOLLOW_UP_ROLE_ARN         = aws_iam_role.scheduler.arn
      EVENT_TIER_FOLLOW_UP_SCHEDULE_GROUP   = "event-follow-ups"
      EVENT_TIER_EVENTS_SCHEDULE_GROUP      = "event-events"
      EVENT_TIER_RUNNER_READY_TIMEOUT_SECS  = "900"
      EVENT_TIER_RUNNER_LOG_GROUP           = "/event/runner"
      }), tomap({
      EVENT_TIER_RUNNER_ARTIFACTS_BUCKET       = aws_s3_bucket.artifacts.id
      EVENT_TIER_RUNNER_ARTIFACTS_PREFIX       = "runner/"
      EVENT_TIER_RUNNER_TERRAFORM_SHA256       = filesha256("tests/fixtures/artifacts/terraform_1.11.4_linux_amd64.zip")
      EVENT_TIER_RUNNER_PROVIDER_MIRROR_SHA256 = filesha256("tests/fixtures/artifacts/provider-mirror_linux_amd64.zip")
    }))
    error_message = "environment: ${jsonencode(aws_lambda_function.start.environment[0].variables)}"
  }
  assert {
    condition     = aws_lambda_function.stop.environment[0].variables == aws_lambda_function.start.environment[0].variables
    error_message = "both functions get the same settings"
  }
}

run "functions_log_json_to_their_own_group_with_retention" {
  assert {
    condition = alltrue([for f in [aws_lambda_function.start, aws_lambda_function.stop] :
      f.logging_config[0].log_format == "JSON" && f.logging_config[0].application_log_level == "INFO"
    ])
    error_message = "JSON logging (AWS_LAMBDA_LOG_FORMAT=JSON)"
  }
  assert {
    condition     = aws_lambda_function.start.logging_config[0].log_group == "/aws/lambda/event-start" && aws_lambda_function.stop.logging_config[0].log_group == "/aws/lambda/event-stop"
    error_message = "each function logs to its own group"
  }
  assert {
    condition     = aws_cloudwatch_log_group.start.retention_in_days == 365 && aws_cloudwatch_log_group.stop.retention_in_days == 365 && aws_cloudwatch_log_group.stop.kms_key_id == aws_kms_key.control.arn
    error_message = "log groups keep a year, encrypted"
  }
}

run "functions_run_in_the_private_subnets_behind_their_own_security_group" {
  assert {
    condition = alltrue([for f in [aws_lambda_function.start, aws_lambda_function.stop] :
      f.vpc_config[0].security_group_ids == toset(["sg-0fffffffffffffff1"]) && f.vpc_config[0].subnet_ids == toset(["subnet-0b000000000000001", "subnet-0b000000000000002"])
    ])
    error_message = "the functions run in the private subnets with the functions' security group"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.functions_ssh_to_runners.referenced_security_group_id == "sg-0aaaaaaaaaaaaaaa1" && aws_vpc_security_group_egress_rule.functions_ssh_to_runners.from_port == 22
    error_message = "the functions may open SSH to the runners"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.functions_http_to_event_tiers.from_port == 80 && aws_vpc_security_group_egress_rule.functions_http_to_event_tiers.to_port == 80 && aws_vpc_security_group_egress_rule.functions_http_to_event_tiers.ip_protocol == "tcp"
    error_message = "event-start's readiness check reaches the tiers' HTTP listeners (port 80)"
  }
}

run "runner_ssh_is_open_to_the_functions_security_group_only" {
  assert {
    condition     = aws_vpc_security_group_ingress_rule.runner_ssh_from_functions.security_group_id == "sg-0aaaaaaaaaaaaaaa1" && aws_vpc_security_group_ingress_rule.runner_ssh_from_functions.referenced_security_group_id == "sg-0fffffffffffffff1"
    error_message = "the runner's SSH source must be the functions' security group"
  }
  assert {
    condition = alltrue([for r in [aws_vpc_security_group_ingress_rule.runner_ssh_from_functions] :
      r.cidr_ipv4 == null && r.cidr_ipv6 == null && r.prefix_list_id == null
    ])
    error_message = "no address range may reach the runner's SSH, least of all 0.0.0.0/0"
  }
  assert {
    condition     = length(aws_security_group.runner.ingress) == 0
    error_message = "the runner's security group has no inline ingress besides the rule resource"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.runner_https.from_port == 443 && aws_vpc_security_group_egress_rule.runner_https.to_port == 443 && aws_vpc_security_group_egress_rule.runner_https.ip_protocol == "tcp"
    error_message = "runners reach out on HTTPS only"
  }
}

run "state_bucket_is_versioned_encrypted_private_and_tls_only" {
  assert {
    condition     = aws_s3_bucket.state.bucket == "event-tier-state-123456789012-ap-northeast-2" && aws_s3_bucket.state.force_destroy == false
    error_message = "the state bucket is named per account and region and kept on destroy by default"
  }
  assert {
    condition     = aws_s3_bucket_versioning.state.versioning_configuration[0].status == "Enabled"
    error_message = "the state bucket must be versioned"
  }
  assert {
    condition = [for r in aws_s3_bucket_server_side_encryption_configuration.state.rule : [
      for d in r.apply_server_side_encryption_by_default : "${d.sse_algorithm} ${d.kms_master_key_id}"
    ]][0] == ["aws:kms ${aws_kms_key.control.arn}"]
    error_message = "the state bucket must be encrypted with the control key"
  }
  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.state.block_public_acls,
      aws_s3_bucket_public_access_block.state.block_public_policy,
      aws_s3_bucket_public_access_block.state.ignore_public_acls,
      aws_s3_bucket_public_access_block.state.restrict_public_buckets,
    ])
    error_message = "all public access must be blocked"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.state_bucket.statement :
      s.effect == "Deny" && contains(s.actions, "s3:*") && anytrue([for c in s.condition : c.variable == "aws:SecureTransport" && join(",", c.values) == "false"])
    ])
    error_message = "the bucket policy must deny requests without TLS"
  }
}

run "state_bucket_force_destroy_is_a_choice" {
  command = plan

  variables {
    state_bucket_force_destroy = true
    state_bucket_name          = "shop-event-states"
  }

  assert {
    condition     = aws_s3_bucket.state.force_destroy == true && aws_s3_bucket.state.bucket == "shop-event-states"
    error_message = "force_destroy and the name follow their variables"
  }
}

run "secrets_are_empty_encrypted_and_prefix_named" {
  assert {
    condition = alltrue([for s in [aws_secretsmanager_secret.runner_ssh_key, aws_secretsmanager_secret.slack_webhook, aws_secretsmanager_secret.runner_host_key] :
      s.kms_key_id == aws_kms_key.control.arn && startswith(s.name_prefix, "event/") && s.recovery_window_in_days == 7
    ])
    error_message = "the three secrets are KMS-encrypted, with name prefixes (a re-deploy never waits for a deleted name)"
  }
}

run "no_slack_bot_unless_a_channel_is_given" {
  assert {
    condition     = length(aws_secretsmanager_secret.slack_bot_token) == 0 && output.slack_bot_token_secret_arn == null
    error_message = "without slack_channel_id there is no bot-token secret"
  }
}

run "a_slack_bot_gets_its_token_secret_its_channel_and_only_the_functions_read_it" {
  variables {
    slack_channel_id = "C0EVENTS1"
  }

  assert {
    condition     = aws_secretsmanager_secret.slack_bot_token[0].kms_key_id == aws_kms_key.control.arn && startswith(aws_secretsmanager_secret.slack_bot_token[0].name_prefix, "event/slack-bot-token-")
    error_message = "the bot token's secret is KMS-encrypted and prefix-named"
  }
  assert {
    condition     = aws_lambda_function.start.environment[0].variables["EVENT_TIER_SLACK_CHANNEL"] == "C0EVENTS1" && aws_lambda_function.stop.environment[0].variables["EVENT_TIER_SLACK_BOT_TOKEN_SECRET_ARN"] == aws_secretsmanager_secret.slack_bot_token[0].arn
    error_message = "both functions get the bot's token secret and channel"
  }
  assert {
    condition     = toset(one(data.aws_iam_policy_document.secret_readers["slack_bot_token"].statement[0].condition).values) == toset([aws_iam_role.start.arn, aws_iam_role.stop.arn])
    error_message = "only event-start and event-stop may read the bot token"
  }
  assert {
    condition     = !contains(keys(aws_lambda_function.alarm.environment[0].variables), "EVENT_TIER_SLACK_BOT_TOKEN_SECRET_ARN")
    error_message = "event-alarm keeps the webhook"
  }
}

run "platform_parameter_holds_exactly_the_keys_the_tiers_read" {
  assert {
    condition     = aws_ssm_parameter.platform.name == "/event-tier/platform" && aws_ssm_parameter.platform.type == "String"
    error_message = "the platform is the String parameter /event-tier/platform"
  }
  assert {
    condition = jsondecode(aws_ssm_parameter.platform.value) == {
      vpc_id             = "vpc-0a1b2c3d4e5f60718"
      public_subnet_ids  = ["subnet-0a000000000000001", "subnet-0a000000000000002"]
      private_subnet_ids = ["subnet-0b000000000000001", "subnet-0b000000000000002"]
      container_image    = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/shop:1.2.3"
      container_port     = 8080
      ops_db_secret_arn  = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:shop/ops-db-AbCdEf"
      ops_db_server_name = "ops-db.shop.internal"
      ops_db_port        = 5432
      ops_db_name        = "shop"
      observability = {
        alarm_function_arn      = "arn:aws:lambda:ap-northeast-2:123456789012:function:event-alarm"
        alarm_kms_key_arn       = "arn:aws:kms:ap-northeast-2:123456789012:key/00000000-0000-4000-8000-000000000000"
        log_delivery_role_arn   = "arn:aws:iam::123456789012:role/event-log-delivery"
        log_delivery_stream_arn = "arn:aws:firehose:ap-northeast-2:123456789012:deliverystream/event-logs"
        start_function_name     = "event-start"
        stop_function_name      = "event-stop"
      }
    }
    error_message = "platform: ${nonsensitive(aws_ssm_parameter.platform.value)}"
  }
}

run "function_errors_alarm_to_a_created_topic" {
  assert {
    condition = alltrue([for a in [aws_cloudwatch_metric_alarm.start_errors, aws_cloudwatch_metric_alarm.stop_errors] :
      a.namespace == "AWS/Lambda" && a.metric_name == "Errors" && a.threshold == 0 && a.comparison_operator == "GreaterThanThreshold" && a.alarm_actions == toset(["arn:aws:sns:ap-northeast-2:123456789012:event-alarms"])
    ])
    error_message = "each function's Errors alarm to the topic"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.start_errors.dimensions.FunctionName == "event-start" && aws_cloudwatch_metric_alarm.stop_errors.dimensions.FunctionName == "event-stop"
    error_message = "each alarm watches its own function"
  }
  assert {
    condition     = length(aws_sns_topic.alarms) == 1 && aws_sns_topic.alarms[0].kms_master_key_id == aws_kms_key.control.arn
    error_message = "without alarm_topic_arn the module creates an encrypted topic"
  }
}

run "function_errors_alarm_to_an_existing_topic" {
  variables {
    alarm_topic_arn = "arn:aws:sns:ap-northeast-2:123456789012:shop-on-call"
  }

  assert {
    condition     = length(aws_sns_topic.alarms) == 0 && aws_cloudwatch_metric_alarm.stop_errors.alarm_actions == toset(["arn:aws:sns:ap-northeast-2:123456789012:shop-on-call"])
    error_message = "with alarm_topic_arn, no topic is created and the alarms use that one"
  }
}

run "outputs_hold_no_secret_values" {
  assert {
    condition     = output.runner_key_secret_arn == "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:event/runner-ssh-key-20261201-AbCdEf"
    error_message = "outputs name secrets by ARN"
  }
  assert {
    condition     = alltrue([for k, v in output.function_environment : !can(regex("(?i)hooks\\.slack\\.com|PRIVATE KEY", v))])
    error_message = "no secret value in the settings"
  }
}

run "dms_service_roles_are_created_once_for_the_account" {
  assert {
    condition     = toset(keys(aws_iam_role.dms)) == toset(["dms-vpc-role", "dms-cloudwatch-logs-role"]) && aws_iam_role.dms["dms-vpc-role"].name == "dms-vpc-role"
    error_message = "DMS needs dms-vpc-role and dms-cloudwatch-logs-role, by these exact names"
  }
  assert {
    condition     = aws_iam_role_policy_attachment.dms["dms-vpc-role"].policy_arn == "arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole"
    error_message = "dms-vpc-role gets the AWS-managed DMS VPC policy"
  }
}

run "dms_service_roles_can_be_left_to_the_account" {
  command = plan

  variables {
    create_dms_roles = false
  }

  assert {
    condition     = length(aws_iam_role.dms) == 0
    error_message = "with create_dms_roles = false no DMS role is created"
  }
}
