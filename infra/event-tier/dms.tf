# DMS copies the event database into the operations database, under a schema named after the event:
# a full load (tables dropped and re-created in that schema), started by the schedules in schedule.tf
# and, one last time, by event-stop before it destroys the tier.
#
# Account prerequisites (infra/control, not per event): the roles `dms-vpc-role` and
# `dms-cloudwatch-logs-role` that DMS itself requires.

resource "aws_dms_replication_subnet_group" "this" {
  replication_subnet_group_id          = local.name
  replication_subnet_group_description = "Event ${var.event_id}: private subnets of the platform"
  subnet_ids                           = local.platform.private_subnet_ids
}

resource "aws_dms_replication_instance" "this" {
  #checkov:skip=CKV_AWS_212:encrypted with the DMS service key; a per-event KMS key would outlive the tier (7-day deletion window)
  replication_instance_id     = local.name
  replication_instance_class  = var.dms_instance_class
  allocated_storage           = 50
  multi_az                    = false
  publicly_accessible         = false
  auto_minor_version_upgrade  = true
  apply_immediately           = true
  replication_subnet_group_id = aws_dms_replication_subnet_group.this.id
  vpc_security_group_ids      = [aws_security_group.dms.id]

  depends_on = [aws_cloudwatch_log_group.dms]
}

# The role DMS assumes to read the two endpoints' credentials from Secrets Manager.
resource "aws_iam_role" "dms_secrets" {
  #parliament:skip=MALFORMED:a trust policy: it names who may assume the role, and IAM takes no Resource in it
  name        = "${local.name}-dms-secrets"
  description = "DMS of event ${var.event_id}: reads the event and operations database secrets"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "dms.${var.aws_region}.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
      }
    }]
  })
}

resource "aws_iam_role_policy" "dms_secrets" {
  name = "read-endpoint-secrets"
  role = aws_iam_role.dms_secrets.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "EndpointSecrets"
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      Resource = [local.db_secret_arn, local.platform.ops_db_secret_arn]
    }]
  })
}

# Source: the event database, with the credentials of the RDS-managed master secret.
resource "aws_dms_endpoint" "source" {
  #checkov:skip=CKV_AWS_296:the endpoint holds no credentials (they stay in Secrets Manager); the DMS service key encrypts it
  endpoint_id                     = "${local.name}-source"
  endpoint_type                   = "source"
  engine_name                     = "postgres"
  database_name                   = local.db_name
  secrets_manager_arn             = local.db_secret_arn
  secrets_manager_access_role_arn = aws_iam_role.dms_secrets.arn
  ssl_mode                        = "require"

  depends_on = [aws_iam_role_policy.dms_secrets]
}

# Target: the operations database, with the credentials of its own secret (never in code or state).
resource "aws_dms_endpoint" "target" {
  #checkov:skip=CKV_AWS_296:the endpoint holds no credentials (they stay in Secrets Manager); the DMS service key encrypts it
  endpoint_id                     = "${local.name}-target"
  endpoint_type                   = "target"
  engine_name                     = "postgres"
  database_name                   = local.platform.ops_db_name
  secrets_manager_arn             = local.platform.ops_db_secret_arn
  secrets_manager_access_role_arn = aws_iam_role.dms_secrets.arn
  ssl_mode                        = "require"

  depends_on = [aws_iam_role_policy.dms_secrets]
}

locals {
  # Everything in the event database's `public` schema, renamed to the event's schema on the target.
  table_mappings = {
    rules = [
      {
        rule-type   = "selection"
        rule-id     = "1"
        rule-name   = "event-tables"
        rule-action = "include"
        object-locator = {
          schema-name = "public"
          table-name  = "%"
        }
      },
      {
        rule-type   = "transformation"
        rule-id     = "2"
        rule-name   = "event-schema"
        rule-action = "rename"
        rule-target = "schema"
        object-locator = {
          schema-name = "public"
        }
        value = local.target_schema
      },
    ]
  }
}

resource "aws_dms_replication_task" "this" {
  # event-stop finds the task by this identifier: keep it exactly so.
  replication_task_id      = local.name
  migration_type           = "full-load"
  replication_instance_arn = aws_dms_replication_instance.this.replication_instance_arn
  source_endpoint_arn      = aws_dms_endpoint.source.endpoint_arn
  target_endpoint_arn      = aws_dms_endpoint.target.endpoint_arn
  table_mappings           = jsonencode(local.table_mappings)
  replication_task_settings = jsonencode({
    FullLoadSettings = { TargetTablePrepMode = "DROP_AND_CREATE" }
    Logging          = { EnableLogging = true }
  })

  # Started by the schedules and by event-stop, never by Terraform (see schedule.tf).
  start_replication_task = false
}
