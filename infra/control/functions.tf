# What event-start and event-stop share: their settings, their network, the permissions both need,
# and where their alarms go. Each function's own file (event_start.tf, event_stop.tf) holds the
# function, its log group, its role, its policy and its alarm.

locals {
  # Where a runner may be launched, in order: a launch refused for capacity tries the next.
  runner_subnet_ids = coalesce(var.runner_subnet_ids, var.private_subnet_ids)

  # The Configuration table of the project README. Settings set here win over function_environment.
  function_environment = merge(var.function_environment, local.artifacts_environment, {
    EVENT_TIER_STATE_BUCKET               = aws_s3_bucket.state.id
    EVENT_TIER_RUNNER_KEY_SECRET_ARN      = aws_secretsmanager_secret.runner_ssh_key.arn
    EVENT_TIER_SLACK_WEBHOOK_SECRET_ARN   = aws_secretsmanager_secret.slack_webhook.arn
    EVENT_TIER_RUNNER_SUBNET_IDS          = join(",", local.runner_subnet_ids)
    EVENT_TIER_RUNNER_SECURITY_GROUP_ID   = aws_security_group.runner.id
    EVENT_TIER_RUNNER_INSTANCE_PROFILE    = aws_iam_instance_profile.runner.name
    EVENT_TIER_RUNNER_HOST_KEY_SHA256     = var.runner_host_key_sha256
    EVENT_TIER_RUNNER_HOST_KEY_SECRET_ARN = aws_secretsmanager_secret.runner_host_key.arn
    EVENT_TIER_RUNNER_KEY_NAME            = aws_key_pair.runner.key_name
    # The functions' IAM policy allows launching exactly this AMI source and these instance types.
    EVENT_TIER_RUNNER_AMI_PARAMETER  = var.runner_ami_parameter
    EVENT_TIER_RUNNER_INSTANCE_TYPES = join(",", var.runner_instance_types)
    # A run that outlives an invocation is followed up by a one-off schedule in this group.
    EVENT_TIER_FOLLOW_UP_ROLE_ARN       = aws_iam_role.scheduler.arn
    EVENT_TIER_FOLLOW_UP_SCHEDULE_GROUP = aws_scheduler_schedule_group.follow_ups.name
    # event-stop reads its event's stop schedule here, and obeys an end moved from Slack.
    EVENT_TIER_EVENTS_SCHEDULE_GROUP = aws_scheduler_schedule_group.events.name
    # The runners' CloudWatch agent ships each run's Terraform output here (logs.tf).
    EVENT_TIER_RUNNER_LOG_GROUP = aws_cloudwatch_log_group.runner.name
    }, var.slack_channel_id == null ? {} : {
    # A Slack bot posts instead of the webhook: one thread per event in this channel.
    EVENT_TIER_SLACK_BOT_TOKEN_SECRET_ARN = aws_secretsmanager_secret.slack_bot_token[0].arn
    EVENT_TIER_SLACK_CHANNEL              = var.slack_channel_id
    }, var.slack_app == null ? {} : {
    # The Slack app answers clicks: the messages carry its buttons (extend 1h, stop now, retry).
    EVENT_TIER_SLACK_BUTTONS = "true"
  })

  alarm_topic_arn = var.alarm_topic_arn != null ? var.alarm_topic_arn : aws_sns_topic.alarms[0].arn

  runner_ami_parameter_arn = (
    startswith(var.runner_ami_parameter, "/aws/service/")
    # AWS's public parameters have no account in their ARN.
    ? "arn:${local.partition}:ssm:${local.region}::parameter${var.runner_ami_parameter}"
    : "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${var.runner_ami_parameter}"
  )
  ec2_arn_prefix = "arn:${local.partition}:ec2:${local.region}:${local.account_id}"
}

data "aws_iam_policy_document" "lambda_assume" {
  #parliament:skip=MALFORMED:a trust policy: it names who may assume the role, and IAM takes no Resource in it
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

# The functions' network: no ingress at all; out to HTTPS (AWS APIs, Slack) and SSH to the runners.

resource "aws_security_group" "functions" {
  name        = "${var.name}-functions"
  description = "event-tier functions: no ingress; HTTPS out, SSH to the runners"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_egress_rule" "functions_https" {
  security_group_id = aws_security_group.functions.id
  description       = "AWS APIs and the Slack webhook"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# event-start's readiness check GETs each event tier's health path through its internet-facing load
# balancer, whose listener is HTTP on 80 (docs/readiness.md). (The group's description predates it;
# changing a description replaces the group.)
resource "aws_vpc_security_group_egress_rule" "functions_http_to_event_tiers" {
  security_group_id = aws_security_group.functions.id
  description       = "readiness GET of the event tiers' load balancers (HTTP listener)"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "functions_ssh_to_runners" {
  security_group_id            = aws_security_group.functions.id
  description                  = "SSH to the event-tier runners"
  ip_protocol                  = "tcp"
  from_port                    = 22
  to_port                      = 22
  referenced_security_group_id = aws_security_group.runner.id
}

# Permissions both functions need: find, launch, log in to and terminate the event's runner, keep their
# records in the state bucket, follow a long run up, and run in the VPC.

data "aws_iam_policy_document" "functions_common" {
  #parliament:skip=RESOURCE_STAR@VpcNetworkInterfaces:Lambda checks the VPC network interface actions on "*" only
  #parliament:skip=RESOURCE_MISMATCH@LaunchRunnerInstances:RunInstances is split by resource type on purpose (each type with its own conditions); together the statements cover every type it needs
  #parliament:skip=RESOURCE_MISMATCH@LaunchRunnerVolumes:RunInstances is split by resource type on purpose (each type with its own conditions); together the statements cover every type it needs
  #parliament:skip=RESOURCE_MISMATCH@LaunchIntoTheRunnerNetwork:RunInstances is split by resource type on purpose (each type with its own conditions); together the statements cover every type it needs
  #parliament:skip=RESOURCE_MISMATCH@LaunchAmazonImages:RunInstances is split by resource type on purpose (each type with its own conditions); together the statements cover every type it needs
  #parliament:skip=RESOURCE_MISMATCH@RunnerImage:AWS's public parameters have no account in their ARN (arn:aws:ssm:REGION::parameter/aws/service/...); parliament's pattern wants one
  #checkov:skip=CKV_AWS_111:The only "*" writes are Lambda's VPC network-interface actions (statement VpcNetworkInterfaces), which Lambda checks on "*"; every other write is scoped by ARN and tag.
  #checkov:skip=CKV_AWS_356:"*" only in VpcNetworkInterfaces (see CKV_AWS_111), XRay and FindRunners, which AWS cannot scope; tests/iam.tftest.hcl fails on any other.
  statement {
    sid = "VpcNetworkInterfaces"
    # Lambda's VPC attachment (the same as AWSLambdaVPCAccessExecutionRole): Lambda checks these on
    # "*" when the function is created, and DescribeNetworkInterfaces cannot be scoped.
    actions = [
      "ec2:CreateNetworkInterface",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DeleteNetworkInterface",
      "ec2:AssignPrivateIpAddresses",
      "ec2:UnassignPrivateIpAddresses",
    ]
    resources = ["*"]
  }

  statement {
    sid = "TerminateRunnersOnly"
    # event-stop terminates the runner after the destroy; event-start terminates a runner it launched
    # that never became usable (never running, user data never done), so none is left untracked.
    actions   = ["ec2:TerminateInstances"]
    resources = ["${local.ec2_arn_prefix}:instance/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/event-tier:role"
      values   = ["runner"]
    }
  }

  statement {
    sid = "XRay"
    # X-Ray accepts no resource but "*".
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid = "FindRunners"
    # DescribeInstances cannot be scoped by resource or tag (the functions filter on the event tags).
    actions   = ["ec2:DescribeInstances"]
    resources = ["*"]
  }

  # RunInstances is checked once per resource it touches; each resource must be allowed by one
  # statement, so every condition on a resource sits in that resource's one statement.
  statement {
    sid       = "LaunchRunnerInstances"
    actions   = ["ec2:RunInstances"]
    resources = ["${local.ec2_arn_prefix}:instance/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/event-tier:role"
      values   = ["runner"]
    }

    condition {
      test     = "Null"
      variable = "aws:RequestTag/event-tier:event"
      values   = ["false"]
    }

    condition {
      test     = "StringEquals"
      variable = "ec2:InstanceType"
      values   = var.runner_instance_types
    }

    condition {
      test     = "StringEquals"
      variable = "ec2:MetadataHttpTokens"
      values   = ["required"]
    }
  }

  statement {
    sid       = "LaunchRunnerVolumes"
    actions   = ["ec2:RunInstances"]
    resources = ["${local.ec2_arn_prefix}:volume/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/event-tier:role"
      values   = ["runner"]
    }

    condition {
      test     = "Null"
      variable = "aws:RequestTag/event-tier:event"
      values   = ["false"]
    }

    condition {
      test     = "Bool"
      variable = "ec2:Encrypted"
      values   = ["true"]
    }
  }

  statement {
    sid     = "LaunchIntoTheRunnerNetwork"
    actions = ["ec2:RunInstances"]
    resources = concat([for s in local.runner_subnet_ids : "${local.ec2_arn_prefix}:subnet/${s}"], [
      aws_security_group.runner.arn,
      "${local.ec2_arn_prefix}:network-interface/*",
      "${local.ec2_arn_prefix}:key-pair/${aws_key_pair.runner.key_name}",
    ])
  }

  statement {
    sid       = "LaunchAmazonImages"
    actions   = ["ec2:RunInstances"]
    resources = ["arn:${local.partition}:ec2:${local.region}::image/*"]

    condition {
      test     = "StringEquals"
      variable = "ec2:Owner"
      values   = ["amazon"]
    }
  }

  statement {
    sid       = "TagRunnersAtLaunch"
    actions   = ["ec2:CreateTags"]
    resources = ["${local.ec2_arn_prefix}:instance/*", "${local.ec2_arn_prefix}:volume/*"]

    condition {
      test     = "StringEquals"
      variable = "ec2:CreateAction"
      values   = ["RunInstances"]
    }
  }

  statement {
    sid       = "PassTheRunnerRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.runner.arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ec2.amazonaws.com"]
    }
  }

  statement {
    sid       = "RunnerImage"
    actions   = ["ssm:GetParameter"]
    resources = [local.runner_ami_parameter_arn]
  }

  statement {
    sid       = "RunnerLoginAndSlack"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = concat([aws_secretsmanager_secret.runner_ssh_key.arn, aws_secretsmanager_secret.slack_webhook.arn], aws_secretsmanager_secret.slack_bot_token[*].arn)
  }

  statement {
    sid       = "EventRecords"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.state.arn}/events/*"]
  }

  statement {
    sid = "EventRecordsMissingIsNotFound"
    # Without ListBucket, S3 answers a missing record with 403 instead of NoSuchKey.
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.state.arn]
  }

  statement {
    sid       = "ControlKeyThroughS3AndSecretsManager"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.control.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com", "secretsmanager.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid     = "FollowUpSchedules"
    actions = ["scheduler:CreateSchedule"]
    # Follow-ups of long runs, and a stop moved to an end extended from Slack.
    resources = [
      "arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule/${aws_scheduler_schedule_group.follow_ups.name}/event-tier-follow-*",
      "arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule/${aws_scheduler_schedule_group.follow_ups.name}/event-tier-end-*",
    ]
  }

  statement {
    sid = "ReadTheEventsSchedules"
    # A stop reads its event's stop schedule (its end, in its time zone) before it destroys.
    actions   = ["scheduler:GetSchedule"]
    resources = ["arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule/${aws_scheduler_schedule_group.events.name}/*"]
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

  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters.arn]
  }
}

# Alarms go to this topic, unless alarm_topic_arn names one.

resource "aws_sns_topic" "alarms" {
  count = var.alarm_topic_arn == null ? 1 : 0

  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.control.arn
}

# The tier's readiness (docs/readiness.md), looked at by event-start after its apply and by the
# watchdog at the opening (event-alarm, watchdogs.tf): read-only, on the event tiers' own resources
# (named event-tier-<event id>), but for the two calls that take no resource but "*".
data "aws_iam_policy_document" "tier_readiness" {
  statement {
    sid       = "TierReadinessTargetsAndConnections"
    actions   = ["elasticloadbalancing:DescribeTargetHealth", "dms:DescribeConnections"]
    resources = ["*"]
  }

  statement {
    sid       = "TierReadinessService"
    actions   = ["ecs:DescribeServices"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:service/event-tier-*/event-tier-*"]
  }

  statement {
    sid       = "TierReadinessDatabase"
    actions   = ["rds:DescribeDBInstances"]
    resources = ["arn:${local.partition}:rds:${local.region}:${local.account_id}:db:event-tier-*"]
  }

  statement {
    sid     = "TierReadinessConnectionTests"
    actions = ["dms:TestConnection"]
    resources = [
      "arn:${local.partition}:dms:${local.region}:${local.account_id}:endpoint:*",
      "arn:${local.partition}:dms:${local.region}:${local.account_id}:rep:*",
    ]

    condition {
      test     = "Null"
      variable = "aws:ResourceTag/event-tier:event"
      values   = ["false"]
    }
  }

  statement {
    sid       = "TierReadinessFirstMigration"
    actions   = ["scheduler:GetSchedule"]
    resources = ["arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule/default/event-tier-*-dms-first"]
  }
}
