# Log groups of the tier, created by Terraform so that each has a retention and is deleted with the
# tier. What they hold is also shipped, as it arrives, to the platform's log archive (S3 through a
# Firehose delivery stream of infra/control), partitioned by event, source and day, where it outlives
# the tier: see the subscription filters below and the README's "Observability".

resource "aws_cloudwatch_log_group" "service" {
  #checkov:skip=CKV_AWS_158:encrypted with the CloudWatch Logs service key; a per-event KMS key would outlive the tier (7-day deletion window)
  #checkov:skip=CKV_AWS_338:the tier and its logs exist for one event; a year of retention cannot outlive the stop
  name              = "/event-tier/${var.event_id}/service"
  retention_in_days = local.log_retention_days
}

# What RDS exports (enabled_cloudwatch_logs_exports): /aws/rds/instance/<identifier>/<log>.
resource "aws_cloudwatch_log_group" "db" {
  #checkov:skip=CKV_AWS_158:see aws_cloudwatch_log_group.service
  #checkov:skip=CKV_AWS_338:see aws_cloudwatch_log_group.service
  for_each          = toset(["postgresql", "upgrade"])
  name              = "/aws/rds/instance/${local.name}/${each.key}"
  retention_in_days = local.log_retention_days
}

# What DMS writes for the replication tasks on the instance: dms-tasks-<replication instance id>.
resource "aws_cloudwatch_log_group" "dms" {
  #checkov:skip=CKV_AWS_158:see aws_cloudwatch_log_group.service
  #checkov:skip=CKV_AWS_338:see aws_cloudwatch_log_group.service
  name              = "dms-tasks-${local.name}"
  retention_in_days = local.log_retention_days
}

locals {
  log_retention_days = 30

  # Each shipped log group and its source name in the archive (`source=` in the S3 prefix).
  shipped_log_groups = merge(
    { service = { group = aws_cloudwatch_log_group.service.name, source = "service" } },
    { dms = { group = aws_cloudwatch_log_group.dms.name, source = "dms" } },
    { for k, g in aws_cloudwatch_log_group.db : "db-${k}" => { group = g.name, source = "rds" } },
  )
}

# Every event of these groups goes to the platform's delivery stream. The filter's name carries the
# partition keys, `event=<id>,source=<source>`: the stream's partitioning query reads them from the
# record CloudWatch Logs sends (its subscriptionFilters field), so it needs no knowledge of names.
resource "aws_cloudwatch_log_subscription_filter" "archive" {
  for_each = local.observability == null ? {} : local.shipped_log_groups

  name            = "event=${var.event_id},source=${each.value.source}"
  log_group_name  = each.value.group
  filter_pattern  = ""
  destination_arn = local.observability.log_delivery_stream_arn
  role_arn        = local.observability.log_delivery_role_arn
  distribution    = "ByLogStream"
}
