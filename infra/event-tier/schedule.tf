# EventBridge Scheduler runs the DMS task: once with `start-replication` (DMS accepts only that type
# for a full-load task's first run) shortly after the tier is up, then every hour with `reload-target`.
# event-stop runs the last load itself. Moto stores schedules but never fires them.

resource "aws_iam_role" "scheduler" {
  #parliament:skip=MALFORMED:a trust policy: it names who may assume the role, and IAM takes no Resource in it
  name        = "${local.name}-scheduler"
  description = "EventBridge Scheduler of event ${var.event_id}: starts the DMS task"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "scheduler.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
      }
    }]
  })
}

resource "aws_iam_role_policy" "scheduler" {
  name = "start-dms-task"
  role = aws_iam_role.scheduler.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "StartTheEventsTask"
      Effect   = "Allow"
      Action   = ["dms:StartReplicationTask"]
      Resource = aws_dms_replication_task.this.replication_task_arn
    }]
  })
}

# The time the task came to exist, kept in state (ignore_changes): the first run is due
# `local.first_migration_delay` after it, and a re-apply does not move it.
resource "terraform_data" "task_created" {
  input = timestamp()

  lifecycle {
    ignore_changes = [input]
  }

  depends_on = [aws_dms_replication_task.this]
}

locals {
  dms_start_target_arn  = "arn:${local.partition}:scheduler:::aws-sdk:databasemigration:startReplicationTask"
  first_migration_delay = "15m"
  first_migration_at    = formatdate("YYYY-MM-DD'T'hh:mm:ss", timeadd(terraform_data.task_created.output, local.first_migration_delay))
}

resource "aws_scheduler_schedule" "first_migration" {
  #checkov:skip=CKV_AWS_297:the schedule holds a task ARN and a start type, nothing confidential; the Scheduler service key encrypts it
  name                         = "${local.name}-dms-first"
  description                  = "Event ${var.event_id}: the DMS task's first full load (start-replication)"
  schedule_expression          = "at(${local.first_migration_at})"
  schedule_expression_timezone = "UTC"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = local.dms_start_target_arn
    role_arn = aws_iam_role.scheduler.arn
    input = jsonencode({
      ReplicationTaskArn       = aws_dms_replication_task.this.replication_task_arn
      StartReplicationTaskType = "start-replication"
    })
  }

  depends_on = [aws_iam_role_policy.scheduler]
}

resource "aws_scheduler_schedule" "hourly_migration" {
  #checkov:skip=CKV_AWS_297:the schedule holds a task ARN and a start type, nothing confidential; the Scheduler service key encrypts it
  name                = "${local.name}-dms-hourly"
  description         = "Event ${var.event_id}: reload the event database into the operations database every hour"
  schedule_expression = "rate(1 hour)"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = local.dms_start_target_arn
    role_arn = aws_iam_role.scheduler.arn
    input = jsonencode({
      ReplicationTaskArn       = aws_dms_replication_task.this.replication_task_arn
      StartReplicationTaskType = "reload-target"
    })
  }

  depends_on = [aws_iam_role_policy.scheduler]
}
