# What the control plane gives the event tiers' observability (issue 8): the alarm forwarder
# (event-alarm) and who may invoke it, the log archive (bucket, Firehose stream and its partitioning,
# the subscriptions of the control plane's own log groups), the runners' log group, and the
# platform parameter's observability settings that the tiers read.

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
  target = aws_sns_topic.alarms
  values = { arn = "arn:aws:sns:ap-northeast-2:123456789012:event-alarms" }
}

override_resource {
  target = aws_lambda_function.alarm
  values = { arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:event-alarm" }
}

override_resource {
  target = aws_secretsmanager_secret.slack_webhook
  values = { arn = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:event/slack-webhook-20261201-GhIjKl" }
}

override_resource {
  target = aws_s3_bucket.logs
  values = {
    id  = "event-logs-123456789012-ap-northeast-2"
    arn = "arn:aws:s3:::event-logs-123456789012-ap-northeast-2"
  }
}

override_resource {
  target = aws_kinesis_firehose_delivery_stream.logs
  values = { arn = "arn:aws:firehose:ap-northeast-2:123456789012:deliverystream/event-logs" }
}

override_resource {
  target = aws_iam_role.log_delivery
  values = { arn = "arn:aws:iam::123456789012:role/event-log-delivery" }
}

override_resource {
  target = aws_iam_role.log_firehose
  values = { arn = "arn:aws:iam::123456789012:role/event-log-firehose" }
}

override_resource {
  target = aws_iam_role.alarm
  values = { arn = "arn:aws:iam::123456789012:role/event-alarm" }
}

override_resource {
  target = aws_cloudwatch_log_group.alarm
  values = { arn = "arn:aws:logs:ap-northeast-2:123456789012:log-group:/aws/lambda/event-alarm" }
}

run "the_alarm_forwarder_and_watchdogs_know_only_the_webhook_secret" {
  assert {
    condition = (
      aws_lambda_function.alarm.function_name == "event-alarm" && aws_lambda_function.alarm.runtime == "provided.al2023" &&
      aws_lambda_function.alarm.handler == "bootstrap" && aws_lambda_function.alarm.filename == "tests/fixtures/placeholder.zip" &&
      aws_lambda_function.alarm.timeout == 180
    )
    error_message = "event-alarm: provided.al2023 bootstrap from alarm_zip_path, 180 s (the watchdog at the opening looks for 120 s)"
  }
  assert {
    condition = (
      aws_lambda_function.alarm.environment[0].variables["EVENT_TIER_SLACK_WEBHOOK_SECRET_ARN"] == "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:event/slack-webhook-20261201-GhIjKl" &&
      aws_lambda_function.alarm.environment[0].variables["EVENT_TIER_ALARM_TOPIC_ARN"] == local.alarm_topic_arn &&
      aws_lambda_function.alarm.environment[0].variables["EVENT_TIER_STATE_BUCKET"] == aws_s3_bucket.state.id
    )
    error_message = "it posts through the webhook; a watchdog's page goes to the alarm topic when Slack cannot be reached; it reads the states"
  }
  assert {
    condition = (
      aws_lambda_function.alarm.logging_config[0].log_format == "JSON" && aws_lambda_function.alarm.logging_config[0].log_group == "/aws/lambda/event-alarm" &&
      aws_cloudwatch_log_group.alarm.retention_in_days == 365 && aws_cloudwatch_log_group.alarm.kms_key_id == aws_kms_key.control.arn
    )
    error_message = "JSON logs to its own encrypted log group with retention"
  }
  assert {
    condition     = aws_lambda_function.alarm.dead_letter_config[0].target_arn == aws_sqs_queue.dead_letters.arn && aws_lambda_function_event_invoke_config.alarm.maximum_retry_attempts == 2
    error_message = "a notification it fails to post is retried twice, then dead-lettered"
  }
  assert {
    condition     = toset(aws_lambda_function.alarm.vpc_config[0].subnet_ids) == toset(["subnet-0b000000000000001", "subnet-0b000000000000002"])
    error_message = "it runs in the private subnets, as the other functions"
  }
  assert {
    condition = { for s in data.aws_iam_policy_document.alarm.statement : s.sid => s.resources if !contains(["VpcNetworkInterfaces", "XRay"], s.sid) } == {
      OwnLogs                         = toset(["arn:aws:logs:ap-northeast-2:123456789012:log-group:/aws/lambda/event-alarm:*"])
      SlackWebhook                    = toset(["arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:event/slack-webhook-20261201-GhIjKl"])
      ControlKeyThroughSecretsManager = toset([aws_kms_key.control.arn])
      DeadLetters                     = toset([aws_sqs_queue.dead_letters.arn])
    }
    error_message = "least privilege: its own logs, the webhook secret (through the control key), the dead-letter queue"
  }
  assert {
    condition     = contains(local.secret_readers.slack_webhook.roles, "arn:aws:iam::123456789012:role/event-alarm") && !contains(local.secret_readers.runner_ssh_key.roles, "arn:aws:iam::123456789012:role/event-alarm")
    error_message = "the webhook secret's policy lets event-alarm read it, the runner key's does not"
  }
}

run "sns_may_invoke_the_forwarder_for_the_tiers_topics_and_the_control_topic" {
  assert {
    condition = (
      aws_lambda_permission.alarm_from_tier_topics.principal == "sns.amazonaws.com" &&
      aws_lambda_permission.alarm_from_tier_topics.source_arn == "arn:aws:sns:ap-northeast-2:123456789012:event-tier-*-alarms" &&
      aws_lambda_permission.alarm_from_tier_topics.source_account == "123456789012" &&
      aws_lambda_permission.alarm_from_tier_topics.action == "lambda:InvokeFunction"
    )
    error_message = "any event tier's alarm topic of this account and region, and nothing else, may invoke it"
  }
  assert {
    condition     = aws_lambda_permission.alarm_from_control_topic.source_arn == "arn:aws:sns:ap-northeast-2:123456789012:event-alarms"
    error_message = "the control topic may invoke it"
  }
  assert {
    condition     = aws_sns_topic_subscription.control_alarms_to_slack.topic_arn == "arn:aws:sns:ap-northeast-2:123456789012:event-alarms" && aws_sns_topic_subscription.control_alarms_to_slack.protocol == "lambda" && aws_sns_topic_subscription.control_alarms_to_slack.endpoint == "arn:aws:lambda:ap-northeast-2:123456789012:function:event-alarm"
    error_message = "the control plane's alarms (function errors, dead letters) reach Slack too"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.alarm_errors.metric_name == "Errors" && aws_cloudwatch_metric_alarm.alarm_errors.dimensions.FunctionName == "event-alarm" && aws_cloudwatch_metric_alarm.alarm_errors.threshold == 0 && aws_cloudwatch_metric_alarm.alarm_errors.alarm_actions == toset(["arn:aws:sns:ap-northeast-2:123456789012:event-alarms"])
    error_message = "the forwarder's own errors alarm to the control topic (heard by its other subscribers)"
  }
}

run "logs_are_archived_through_firehose_partitioned_by_event_source_and_day" {
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.logs.name == "event-logs" && aws_kinesis_firehose_delivery_stream.logs.destination == "extended_s3"
    error_message = "one delivery stream, event-logs, to S3"
  }
  assert {
    condition = (
      aws_kinesis_firehose_delivery_stream.logs.extended_s3_configuration[0].bucket_arn == "arn:aws:s3:::event-logs-123456789012-ap-northeast-2" &&
      aws_kinesis_firehose_delivery_stream.logs.extended_s3_configuration[0].prefix == "logs/event=!{partitionKeyFromQuery:event}/source=!{partitionKeyFromQuery:source}/dt=!{timestamp:yyyy-MM-dd}/" &&
      aws_kinesis_firehose_delivery_stream.logs.extended_s3_configuration[0].error_output_prefix == "errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/"
    )
    error_message = "objects land under logs/event=<id>/source=<source>/dt=<day>/, failures under errors/"
  }
  assert {
    condition = (
      aws_kinesis_firehose_delivery_stream.logs.extended_s3_configuration[0].dynamic_partitioning_configuration[0].enabled &&
      aws_kinesis_firehose_delivery_stream.logs.extended_s3_configuration[0].buffering_size >= 64 &&
      aws_kinesis_firehose_delivery_stream.logs.extended_s3_configuration[0].compression_format == "GZIP"
    )
    error_message = "dynamic partitioning (64 MiB buffers at least), gzip'd objects"
  }
  assert {
    condition = [for p in aws_kinesis_firehose_delivery_stream.logs.extended_s3_configuration[0].processing_configuration[0].processors : p.type] == [
      "Decompression", "MetadataExtraction", "AppendDelimiterToRecord"
    ]
    error_message = "CloudWatch Logs' gzip'd messages are decompressed, partitioned, one per line"
  }
  assert {
    condition = { for p in aws_kinesis_firehose_delivery_stream.logs.extended_s3_configuration[0].processing_configuration[0].processors[1].parameters : p.parameter_name => p.parameter_value } == {
      JsonParsingEngine       = "JQ-1.6"
      MetadataExtractionQuery = local.log_partition_query
    }
    error_message = "the partition keys come from the jq query"
  }
  assert {
    condition = alltrue([for part in [
      "split(\",\")", "$f.event", "$f.source == \"runner\"", ".logStream | split(\"/\")[0]", ".fields.event_id", "\"none\"", "source: ($f.source // \"unknown\")"
    ] : strcontains(local.log_partition_query, part)])
    error_message = "event from the filter name, else the runner's stream, else the function log line; source from the filter name"
  }
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.logs.server_side_encryption[0].enabled && aws_kinesis_firehose_delivery_stream.logs.server_side_encryption[0].key_arn == aws_kms_key.control.arn && aws_kinesis_firehose_delivery_stream.logs.extended_s3_configuration[0].kms_key_arn == aws_kms_key.control.arn
    error_message = "the stream and the objects are encrypted with the control key"
  }
  assert {
    condition = (
      aws_s3_bucket_public_access_block.logs.block_public_acls && aws_s3_bucket_public_access_block.logs.restrict_public_buckets &&
      one(flatten([for r in aws_s3_bucket_server_side_encryption_configuration.logs.rule : [for d in r.apply_server_side_encryption_by_default : d.sse_algorithm]])) == "aws:kms" &&
      one([for r in aws_s3_bucket_lifecycle_configuration.logs.rule : r.expiration[0].days]) == 400
    )
    error_message = "the archive bucket is private, KMS-encrypted, and expires logs after log_archive_days"
  }
}

run "the_control_planes_log_groups_are_shipped_through_the_delivery_role" {
  assert {
    condition = { for k, f in aws_cloudwatch_log_subscription_filter.archive : f.log_group_name => f.name } == {
      "/aws/lambda/event-start" = "source=functions"
      "/aws/lambda/event-stop"  = "source=functions"
      "/aws/lambda/event-alarm" = "source=functions"
      "/event/runner"           = "source=runner"
    }
    error_message = "the three functions' and the runners' log groups are subscribed, named by their source"
  }
  assert {
    condition = alltrue([for f in aws_cloudwatch_log_subscription_filter.archive :
      f.destination_arn == "arn:aws:firehose:ap-northeast-2:123456789012:deliverystream/event-logs" && f.role_arn == "arn:aws:iam::123456789012:role/event-log-delivery" && f.filter_pattern == ""
    ])
    error_message = "every event of them goes to the delivery stream, through the delivery role"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.log_delivery.statement : s.resources] == [toset(["arn:aws:firehose:ap-northeast-2:123456789012:deliverystream/event-logs"])]
    error_message = "the delivery role may put records into the stream and nothing else"
  }
  assert {
    condition     = one(one(data.aws_iam_policy_document.log_delivery_assume.statement).principals).identifiers == toset(["logs.ap-northeast-2.amazonaws.com"])
    error_message = "only CloudWatch Logs of the region assumes it"
  }
  assert {
    condition     = toset(flatten([for s in data.aws_iam_policy_document.log_firehose.statement : s.resources if s.sid == "ArchiveBucket"])) == toset(["arn:aws:s3:::event-logs-123456789012-ap-northeast-2", "arn:aws:s3:::event-logs-123456789012-ap-northeast-2/*"])
    error_message = "Firehose writes the archive bucket only"
  }
  assert {
    condition     = aws_cloudwatch_log_group.runner.name == "/event/runner" && aws_cloudwatch_log_group.runner.retention_in_days == 365 && aws_cloudwatch_log_group.runner.kms_key_id == aws_kms_key.control.arn
    error_message = "the runners' Terraform output has its own log group, with retention, encrypted"
  }
  assert {
    condition     = aws_lambda_function.start.environment[0].variables["EVENT_TIER_RUNNER_LOG_GROUP"] == "/event/runner"
    error_message = "the functions tell new runners where to ship their runs' output"
  }
}

run "log_retention_and_archive_days_are_settings" {
  command = plan

  variables {
    log_retention_days = 30
    log_archive_days   = 90
  }

  assert {
    condition     = aws_cloudwatch_log_group.runner.retention_in_days == 30 && aws_cloudwatch_log_group.alarm.retention_in_days == 30
    error_message = "log_retention_days applies to the runner and forwarder groups"
  }
  assert {
    condition     = one([for r in aws_s3_bucket_lifecycle_configuration.logs.rule : r.expiration[0].days]) == 90
    error_message = "log_archive_days sets the archive's expiry"
  }
}
