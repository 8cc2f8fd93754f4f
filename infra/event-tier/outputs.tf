# No secret is an output: the database credentials stay in the RDS-managed secret.

output "alb_dns_name" {
  description = "DNS name of the event's load balancer (point the event's host name at it)."
  value       = aws_lb.this.dns_name
}

output "cluster_name" {
  description = "The event's ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "service_name" {
  description = "The event's ECS service."
  value       = aws_ecs_service.this.name
}

output "db_endpoint" {
  description = "Address and port of the event database."
  value       = aws_db_instance.this.endpoint
}

output "db_final_snapshot_identifier" {
  description = "The snapshot RDS takes when the tier is destroyed."
  value       = aws_db_instance.this.final_snapshot_identifier
}

output "dms_task_arn" {
  description = "ARN of the DMS replication task (identifier event-tier-<event_id>)."
  value       = aws_dms_replication_task.this.replication_task_arn
}

output "dms_target_schema" {
  description = "Schema of the operations database the event's tables are loaded into."
  value       = local.target_schema
}

output "schedule_name" {
  description = "The hourly EventBridge Scheduler schedule that reloads the operations database."
  value       = aws_scheduler_schedule.hourly_migration.name
}

output "first_schedule_name" {
  description = "The one-time schedule of the DMS task's first full load."
  value       = aws_scheduler_schedule.first_migration.name
}

output "readiness" {
  description = "What event-start checks before it calls the tier ready (docs/readiness.md): the ECS service and its target group, the health path through the load balancer, the database, the DMS endpoints and the first migration's schedule; and the opening, to say how long before it the tier was ready."
  value = {
    cluster                  = aws_ecs_cluster.this.name
    service                  = aws_ecs_service.this.name
    task_definition          = aws_ecs_task_definition.this.arn
    target_group_arn         = aws_lb_target_group.this.arn
    url                      = "http://${aws_lb.this.dns_name}${aws_lb_target_group.this.health_check[0].path}"
    db_instance              = aws_db_instance.this.identifier
    dms_replication_instance = aws_dms_replication_instance.this.replication_instance_arn
    dms_endpoints = {
      source = aws_dms_endpoint.source.endpoint_arn
      target = aws_dms_endpoint.target.endpoint_arn
    }
    first_migration_schedule = aws_scheduler_schedule.first_migration.name
    first_migration_group    = aws_scheduler_schedule.first_migration.group_name
    opens_at                 = var.opens_at
    timezone                 = var.timezone
  }
}
