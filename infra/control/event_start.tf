# event-start: fired by EventBridge Scheduler before an event (schedules.tf). Finds or launches the
# event's runner, logs in over SSH and runs `terraform apply` of the event tier; tells Slack.

resource "aws_cloudwatch_log_group" "start" {
  name              = "/aws/lambda/${var.name}-start"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.control.arn
}

resource "aws_iam_role" "start" {
  name               = "${var.name}-start"
  description        = "event-start (${var.name}-start): launch and drive event-tier runners"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "start" {
  name   = "event-start"
  role   = aws_iam_role.start.id
  policy = data.aws_iam_policy_document.start.json
}

data "aws_iam_policy_document" "start" {
  source_policy_documents = [data.aws_iam_policy_document.functions_common.json, data.aws_iam_policy_document.tier_readiness.json]

  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.start.arn}:*"]
  }
}

resource "aws_lambda_function" "start" {
  #checkov:skip=CKV_AWS_272:No AWS Signer profile in this project; the zip is built by the project's packaging and pinned by source_code_hash.
  #checkov:skip=CKV_AWS_173:The environment holds ARNs, ids and a public host-key fingerprint, never a secret; the AWS-managed key encrypts it at rest.
  function_name = "${var.name}-start"
  description   = "event-tier: bring an event tier up before its sales event"
  role          = aws_iam_role.start.arn

  runtime          = "provided.al2023"
  architectures    = ["x86_64"]
  handler          = "bootstrap"
  filename         = var.start_zip_path
  source_code_hash = filebase64sha256(var.start_zip_path)

  timeout                        = 900
  memory_size                    = var.function_memory_mb
  reserved_concurrent_executions = var.function_reserved_concurrency

  environment {
    variables = local.function_environment
  }

  # Sets AWS_LAMBDA_LOG_FORMAT=JSON (and AWS_LAMBDA_LOG_LEVEL) for the function.
  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.start.name
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

  depends_on = [aws_iam_role_policy.start, aws_cloudwatch_log_group.start]
}

# EventBridge Scheduler invokes asynchronously: Lambda retries a failed run this often, then puts
# the invocation in the dead-letter queue. (No aws_lambda_permission: Scheduler calls the function
# with its own role, schedules.tf; a resource policy would be a second, unused door.)
resource "aws_lambda_function_event_invoke_config" "start" {
  function_name          = aws_lambda_function.start.function_name
  maximum_retry_attempts = var.function_retry_attempts
}

resource "aws_cloudwatch_metric_alarm" "start_errors" {
  alarm_name        = "${var.name}-start-errors"
  alarm_description = "event-start failed: an event tier may not be up. Slack and the log group ${aws_cloudwatch_log_group.start.name} name the failing stage."

  namespace   = "AWS/Lambda"
  metric_name = "Errors"
  dimensions = {
    FunctionName = aws_lambda_function.start.function_name
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
