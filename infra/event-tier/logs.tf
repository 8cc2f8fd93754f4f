# Log groups of the tier, created by Terraform so that each has a retention and is deleted with the
# tier. Logs go with the tier at the stop: export what a post-mortem needs before.

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
}
