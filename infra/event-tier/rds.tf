# The event's own PostgreSQL. RDS manages the master password in Secrets Manager (no password in code
# or state); destroying the tier leaves a final snapshot named after the event.

# One per creation of the tier: its id (a UUID, created once and kept in state) makes the final
# snapshot's name unique, so a later run of the same event id never collides with an earlier snapshot.
resource "terraform_data" "tier" {}

resource "aws_db_subnet_group" "this" {
  name        = local.name
  description = "Event ${var.event_id}: private subnets of the platform"
  subnet_ids  = local.platform.private_subnet_ids
}

# TLS only; slow statements (over a second) and schema changes go to the exported postgresql log.
resource "aws_db_parameter_group" "this" {
  name        = local.name
  family      = "postgres16"
  description = "Event ${var.event_id}: PostgreSQL 16, TLS only, query logging"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }

  parameter {
    name  = "log_statement"
    value = "ddl"
  }
}

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_293:the tier is destroyed after the event; the final snapshot protects the data instead
  #checkov:skip=CKV_AWS_118:enhanced monitoring needs a monitoring role from the platform; Performance Insights is on
  #checkov:skip=CKV_AWS_354:Performance Insights uses the RDS service key; a per-event KMS key would outlive the tier (7-day deletion window)
  identifier     = local.name
  engine         = "postgres"
  engine_version = "16"
  instance_class = var.db_instance_class
  db_name        = local.db_name
  port           = local.db_port

  username                    = local.db_user
  manage_master_user_password = true

  allocated_storage     = var.db_allocated_storage
  max_allocated_storage = var.db_allocated_storage * 4
  storage_type          = "gp3"
  storage_encrypted     = true

  multi_az               = var.db_multi_az
  db_subnet_group_name   = aws_db_subnet_group.this.name
  parameter_group_name   = aws_db_parameter_group.this.name
  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible    = false

  iam_database_authentication_enabled   = true
  performance_insights_enabled          = true
  performance_insights_retention_period = 7
  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]
  auto_minor_version_upgrade            = true
  backup_retention_period               = 7
  copy_tags_to_snapshot                 = true
  apply_immediately                     = true

  deletion_protection       = false
  skip_final_snapshot       = false
  final_snapshot_identifier = "${local.name}-final-${substr(replace(terraform_data.tier.id, "-", ""), 0, 12)}"

  # RDS creates the exported log groups itself if they do not exist: create them first, so that they
  # have a retention and go with the tier.
  depends_on = [aws_cloudwatch_log_group.db]
}

locals {
  db_secret_arn = aws_db_instance.this.master_user_secret[0].secret_arn
}
