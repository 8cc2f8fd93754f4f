# event-slack: the Slack app's request URL (var.slack_app; none when null). Slack posts slash
# commands (`/event status|extend|hold|release|stop-now <id>`) and button clicks to its function URL;
# every request proves itself with Slack's signature (the signing secret below) before anything
# happens, is claimed once in the state bucket (a replay is refused), and is checked against the
# allow-lists. It changes an event's override record and puts stops on one-off schedules; the
# destroy itself stays event-stop's, behind the same final-migration guard (docs/slack.md).

locals {
  slack_app = var.slack_app == null ? {} : { app = var.slack_app }

  # The allow-lists as the function reads them: extend=U1,U2;hold=U1;...
  slack_allow = var.slack_app == null ? "" : join(";", [
    for action, ids in var.slack_app.allow : "${action}=${join(",", ids)}"
  ])
}

resource "aws_secretsmanager_secret" "slack_signing" {
  #checkov:skip=CKV2_AWS_57:A Slack app's signing secret is issued by Slack, not generated: rotated by hand (docs/slack.md).
  for_each = local.slack_app

  name_prefix             = "${var.name}/slack-signing-secret-"
  description             = "The Slack app's signing secret: ${var.name}-slack verifies every request to its function URL with it."
  kms_key_id              = aws_kms_key.control.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_cloudwatch_log_group" "slack" {
  for_each = local.slack_app

  name              = "/aws/lambda/${var.name}-slack"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.control.arn
}

resource "aws_iam_role" "slack" {
  for_each = local.slack_app

  name               = "${var.name}-slack"
  description        = "event-slack (${var.name}-slack): the Slack app; moves event ends and stops, never destroys"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "slack" {
  for_each = local.slack_app

  name   = "event-slack"
  role   = aws_iam_role.slack[each.key].id
  policy = data.aws_iam_policy_document.slack[each.key].json
}

data "aws_iam_policy_document" "slack" {
  for_each = local.slack_app

  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.slack[each.key].arn}:*"]
  }

  statement {
    sid       = "SigningSecretAndSlack"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = concat([aws_secretsmanager_secret.slack_signing[each.key].arn, aws_secretsmanager_secret.slack_webhook.arn], aws_secretsmanager_secret.slack_bot_token[*].arn)
  }

  statement {
    sid = "OverridesAndReplayClaims"
    # The override records (events/<id>/override.json), the state's presence for `status`, the
    # bot's thread records, and one claim per request (slack-requests/).
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.state.arn}/events/*", "${aws_s3_bucket.state.arn}/slack-requests/*"]
  }

  statement {
    sid = "MissingIsNotFound"
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
    sid       = "ReadTheEventsSchedules"
    actions   = ["scheduler:GetSchedule"]
    resources = ["arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule/${aws_scheduler_schedule_group.events.name}/*"]
  }

  statement {
    sid     = "OneOffStopsRetriesAndReminders"
    actions = ["scheduler:CreateSchedule"]
    resources = [
      "arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule/${aws_scheduler_schedule_group.follow_ups.name}/event-tier-end-*",
      "arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule/${aws_scheduler_schedule_group.follow_ups.name}/event-tier-go--*",
      "arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule/${aws_scheduler_schedule_group.follow_ups.name}/event-tier-rem-*",
    ]
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
    sid = "XRay"
    # X-Ray accepts no resource but "*".
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_lambda_function" "slack" {
  #checkov:skip=CKV_AWS_272:No AWS Signer profile in this project; the zip is built by the project's packaging and pinned by source_code_hash.
  #checkov:skip=CKV_AWS_173:The environment holds ARNs, ids and Slack user ids, never a secret; the AWS-managed key encrypts it at rest.
  #checkov:skip=CKV_AWS_117:Outside the VPC on purpose: it reaches only AWS APIs and Slack, never a runner, and needs no NAT.
  #checkov:skip=CKV_AWS_116:Invoked synchronously by its function URL: there is no asynchronous event to send to a dead-letter queue.
  for_each = local.slack_app

  function_name = "${var.name}-slack"
  description   = "event-tier: the Slack app (status, extend, hold, release, stop-now)"
  role          = aws_iam_role.slack[each.key].arn

  runtime          = "provided.al2023"
  architectures    = ["x86_64"]
  handler          = "bootstrap"
  filename         = var.slack_zip_path
  source_code_hash = filebase64sha256(var.slack_zip_path)

  # Slack waits three seconds for an answer; the function answers in tens of milliseconds.
  timeout                        = 10
  memory_size                    = var.function_memory_mb
  reserved_concurrent_executions = var.function_reserved_concurrency

  environment {
    variables = merge(local.function_environment, {
      EVENT_TIER_SLACK_SIGNING_SECRET_ARN    = aws_secretsmanager_secret.slack_signing[each.key].arn
      EVENT_TIER_SLACK_ALLOW                 = local.slack_allow
      EVENT_TIER_SLACK_EXTENSION_CAP_MINUTES = tostring(each.value.extension_cap_minutes)
    })
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.slack[each.key].name
    application_log_level = var.function_log_level
    system_log_level      = "INFO"
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_iam_role_policy.slack, aws_cloudwatch_log_group.slack]
}

# The request URL to give Slack. No IAM auth (Slack cannot sign with AWS keys): the function
# verifies Slack's signature on every request instead, and refuses all else with 401.
resource "aws_lambda_function_url" "slack" {
  #checkov:skip=CKV_AWS_258:Slack cannot sign requests with AWS keys; every request is verified with Slack's signing secret (v0 HMAC-SHA256, 5-minute window, replays refused) before anything happens.
  for_each = local.slack_app

  function_name      = aws_lambda_function.slack[each.key].function_name
  authorization_type = "NONE"
}

resource "aws_lambda_permission" "slack_url" {
  #checkov:skip=CKV_AWS_301:The function URL is public by design (Slack calls it); the permission is limited to function-URL calls of auth type NONE, and the function verifies Slack's signature.
  for_each = local.slack_app

  statement_id           = "SlackCallsTheFunctionUrl"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.slack[each.key].function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

resource "aws_cloudwatch_metric_alarm" "slack_errors" {
  for_each = local.slack_app

  alarm_name        = "${var.name}-slack-errors"
  alarm_description = "event-slack failed: commands from Slack (extend, hold, stop-now) may not be taken. The log group ${aws_cloudwatch_log_group.slack[each.key].name} has the error."

  namespace   = "AWS/Lambda"
  metric_name = "Errors"
  dimensions = {
    FunctionName = aws_lambda_function.slack[each.key].function_name
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
