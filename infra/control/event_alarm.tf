# event-alarm: posts CloudWatch alarm notifications to the Slack channel of event-start and
# event-stop, and runs the watchdogs (watchdogs.tf: its schedules, its permissions). Subscribed to the control plane's alarm topic here, and to each event tier's topic
# (`event-tier-<event_id>-alarms`) by the tier itself (infra/event-tier/alarms.tf), which finds the
# function in the platform parameter's observability settings (platform.tf).

resource "aws_cloudwatch_log_group" "alarm" {
  name              = "/aws/lambda/${var.name}-alarm"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.control.arn
}

resource "aws_iam_role" "alarm" {
  name               = "${var.name}-alarm"
  description        = "event-alarm (${var.name}-alarm): post alarm notifications to Slack"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "alarm" {
  name   = "event-alarm"
  role   = aws_iam_role.alarm.id
  policy = data.aws_iam_policy_document.alarm.json
}

# The webhook secret, its own logs, the dead-letter queue; the VPC and X-Ray as the other functions.
data "aws_iam_policy_document" "alarm" {
  #parliament:skip=RESOURCE_STAR@VpcNetworkInterfaces:Lambda checks the VPC network interface actions on "*" only
  #checkov:skip=CKV_AWS_111:The only "*" writes are Lambda's VPC network-interface actions, which Lambda checks on "*".
  #checkov:skip=CKV_AWS_356:"*" only in VpcNetworkInterfaces and XRay, which AWS cannot scope; tests/iam.tftest.hcl fails on any other.
  statement {
    sid = "VpcNetworkInterfaces"
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
    sid       = "XRay"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.alarm.arn}:*"]
  }

  statement {
    sid       = "SlackWebhook"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.slack_webhook.arn]
  }

  statement {
    sid       = "ControlKeyThroughSecretsManager"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.control.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letters.arn]
  }
}

resource "aws_lambda_function" "alarm" {
  #checkov:skip=CKV_AWS_272:No AWS Signer profile in this project; the zip is built by the project's packaging and pinned by source_code_hash.
  #checkov:skip=CKV_AWS_173:The environment holds the functions' settings (ARNs, ids, a public host-key fingerprint), never a secret; the AWS-managed key encrypts it at rest.
  function_name = "${var.name}-alarm"
  description   = "event-tier: post CloudWatch alarm notifications (SNS) to Slack"
  role          = aws_iam_role.alarm.arn

  runtime          = "provided.al2023"
  architectures    = ["x86_64"]
  handler          = "bootstrap"
  filename         = var.alarm_zip_path
  source_code_hash = filebase64sha256(var.alarm_zip_path)

  # A watchdog at the opening looks for up to EVENT_TIER_WATCH_READY_SECS (120 s) before it pages;
  # then up to three Slack attempts and the alarm topic: a minute more.
  timeout                        = tonumber(lookup(local.function_environment, "EVENT_TIER_WATCH_READY_SECS", "120")) + 60
  memory_size                    = 128
  reserved_concurrent_executions = var.function_reserved_concurrency

  # The functions' settings (the watchdogs read what event-start and event-stop read) but the Slack
  # bot's: event-alarm posts through the webhook, whatever the functions use. And where a page goes
  # when Slack cannot be reached.
  environment {
    variables = merge({
      for k, v in local.function_environment : k => v
      if !contains(["EVENT_TIER_SLACK_BOT_TOKEN_SECRET_ARN", "EVENT_TIER_SLACK_CHANNEL", "EVENT_TIER_SLACK_BUTTONS"], k)
      }, {
      EVENT_TIER_ALARM_TOPIC_ARN = local.alarm_topic_arn
    })
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.alarm.name
    application_log_level = var.function_log_level
    system_log_level      = "INFO"
  }

  vpc_config {
    subnet_ids         = var.private_subnet_ids
    security_group_ids = [aws_security_group.functions.id]
  }

  tracing_config {
    mode = "Active"
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dead_letters.arn
  }

  depends_on = [aws_iam_role_policy.alarm, aws_cloudwatch_log_group.alarm]
}

# SNS invokes asynchronously: Lambda retries a failed post twice, then the dead-letter queue keeps
# the notification (and its alarm fires).
resource "aws_lambda_function_event_invoke_config" "alarm" {
  function_name          = aws_lambda_function.alarm.function_name
  maximum_retry_attempts = 2
}

# Who may invoke it: SNS, for the event tiers' topics (any event, one grant, so a tier never edits
# this function's policy) and for the control plane's topic. Both only from this account.
resource "aws_lambda_permission" "alarm_from_tier_topics" {
  statement_id   = "EventTierAlarmTopics"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.alarm.function_name
  principal      = "sns.amazonaws.com"
  source_arn     = "arn:${local.partition}:sns:${local.region}:${local.account_id}:event-tier-*-alarms"
  source_account = local.account_id
}

resource "aws_lambda_permission" "alarm_from_control_topic" {
  statement_id   = "ControlAlarmTopic"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.alarm.function_name
  principal      = "sns.amazonaws.com"
  source_arn     = local.alarm_topic_arn
  source_account = local.account_id
}

resource "aws_sns_topic_subscription" "control_alarms_to_slack" {
  topic_arn = local.alarm_topic_arn
  protocol  = "lambda"
  endpoint  = aws_lambda_function.alarm.arn

  depends_on = [aws_lambda_permission.alarm_from_control_topic]
}

# If the forwarder itself fails, Slack will not say so: this alarm goes to the control topic, whose
# other subscribers (the on-call's e-mail, README "Deploy") hear it.
resource "aws_cloudwatch_metric_alarm" "alarm_errors" {
  alarm_name        = "${var.name}-alarm-errors"
  alarm_description = "event-alarm failed to post an alarm to Slack: alarms may go unseen. The log group ${aws_cloudwatch_log_group.alarm.name} has the error; the notifications are in the dead-letter queue."

  namespace   = "AWS/Lambda"
  metric_name = "Errors"
  dimensions = {
    FunctionName = aws_lambda_function.alarm.function_name
  }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"

  alarm_actions = [local.alarm_topic_arn]
  ok_actions    = [local.alarm_topic_arn]
}
