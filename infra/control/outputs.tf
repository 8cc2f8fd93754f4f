# Nothing here is a secret: secret ARNs name secrets, they do not hold them.

output "start_function_name" {
  description = "The event-start function."
  value       = aws_lambda_function.start.function_name
}

output "start_function_arn" {
  description = "ARN of the event-start function."
  value       = aws_lambda_function.start.arn
}

output "stop_function_name" {
  description = "The event-stop function."
  value       = aws_lambda_function.stop.function_name
}

output "stop_function_arn" {
  description = "ARN of the event-stop function."
  value       = aws_lambda_function.stop.arn
}

output "function_environment" {
  description = "The functions' settings (docs/configuration.md): ARNs and ids only."
  value       = local.function_environment
}

output "state_bucket" {
  description = "Bucket of the event tiers' Terraform states and the functions' records."
  value       = aws_s3_bucket.state.id
}

output "kms_key_arn" {
  description = "The control plane's KMS key (secrets, state, logs, alarms)."
  value       = aws_kms_key.control.arn
}

output "runner_key_secret_arn" {
  description = "Secret to put the runners' SSH private key (PEM) in."
  value       = aws_secretsmanager_secret.runner_ssh_key.arn
}

output "slack_webhook_secret_arn" {
  description = "Secret to put the Slack incoming-webhook URL in."
  value       = aws_secretsmanager_secret.slack_webhook.arn
}

output "slack_bot_token_secret_arn" {
  description = "Secret to put the Slack bot token (xoxb-) in, when slack_channel_id is set; null otherwise."
  value       = one(aws_secretsmanager_secret.slack_bot_token[*].arn)
}

output "slack_signing_secret_arn" {
  description = "Secret to put the Slack app's signing secret in, when slack_app is set; null otherwise."
  value       = try(aws_secretsmanager_secret.slack_signing["app"].arn, null)
}

output "slack_request_url" {
  description = "The URL to give the Slack app as the request URL of its /event slash command and of its interactivity, when slack_app is set; null otherwise."
  value       = try(aws_lambda_function_url.slack["app"].function_url, null)
}

output "runner_host_key_secret_arn" {
  description = "Secret to put the runners' SSH host private key in."
  value       = aws_secretsmanager_secret.runner_host_key.arn
}

output "runner_role_arn" {
  description = "Role of the runners (the event tier's Terraform runs with it)."
  value       = aws_iam_role.runner.arn
}

output "runner_instance_profile" {
  description = "Instance profile the functions launch runners with."
  value       = aws_iam_instance_profile.runner.name
}

output "runner_security_group_id" {
  description = "Security group of the runners."
  value       = aws_security_group.runner.id
}

output "functions_security_group_id" {
  description = "Security group of the functions: the only source allowed to SSH into runners."
  value       = aws_security_group.functions.id
}

output "runner_key_pair_name" {
  description = "EC2 key pair of the runners."
  value       = aws_key_pair.runner.key_name
}

output "schedule_group" {
  description = "EventBridge Scheduler group holding the events' start and stop schedules."
  value       = aws_scheduler_schedule_group.events.name
}

output "schedules" {
  description = "Per event: the start and stop schedule expressions (in the event's timezone) and the payload."
  value = {
    for id, s in local.schedules : id => {
      start    = s.start
      end      = s.end
      timezone = local.events[id].timezone
      input    = s.input
    }
  }
}

output "dead_letter_queue_url" {
  description = "Queue of the invocations that failed for good (read, fix, re-invoke)."
  value       = aws_sqs_queue.dead_letters.url
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify: subscribe the on-call to it."
  value       = local.alarm_topic_arn
}

output "platform_parameter_name" {
  description = "SSM parameter the event tiers read the platform from."
  value       = aws_ssm_parameter.platform.name
}

output "alarm_function_name" {
  description = "The event-alarm function (alarm notifications from SNS to Slack)."
  value       = aws_lambda_function.alarm.function_name
}

output "alarm_function_arn" {
  description = "ARN of the event-alarm function; the event tiers' alarm topics invoke it."
  value       = aws_lambda_function.alarm.arn
}

output "log_bucket" {
  description = "The log archive bucket (logs/event=<id>/source=<source>/dt=<yyyy-mm-dd>/)."
  value       = aws_s3_bucket.logs.id
}

output "log_delivery_stream_name" {
  description = "The Firehose delivery stream every shipped log group subscribes to."
  value       = aws_kinesis_firehose_delivery_stream.logs.name
}

output "runner_log_group" {
  description = "Log group of the runners' Terraform output."
  value       = aws_cloudwatch_log_group.runner.name
}

output "default_lead_time_minutes" {
  description = "The lead time an event without its own lead_time_minutes gets: learned from this module's recorded applies and runner boots ((p95 apply + p95 boot) × 1.25, learned.tf), or 30 before any run is recorded."
  value       = local.default_lead_time_minutes
}
