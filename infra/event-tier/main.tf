# The event tier. (Grows into ALB + ECS Fargate + RDS + DMS; see README.)

resource "aws_cloudwatch_log_group" "service" {
  name              = "/event-tier/${var.event_id}/service"
  retention_in_days = 30
}

resource "aws_ecs_cluster" "this" {
  name = "event-tier-${var.event_id}"
}
