# The tier as the runner applies it, against a mocked AWS provider: the settings that matter to an
# event (final snapshot, autoscaling, DMS, schedules, tags, network) follow the variables.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  event_id           = "winter-sale-2026"
  aws_region         = "us-east-1"
  desired_count      = 4
  max_count          = 20
  cpu_target_percent = 55
}

run "tier" {
  command = apply

  # RDS: managed password, final snapshot on and named after the event, destroy not blocked.
  assert {
    condition     = aws_db_instance.this.skip_final_snapshot == false
    error_message = "the final snapshot must be taken"
  }
  assert {
    condition     = can(regex("^event-tier-winter-sale-2026-final-[0-9a-f]{12}$", aws_db_instance.this.final_snapshot_identifier))
    error_message = "final snapshot named after the event with a unique suffix, got ${aws_db_instance.this.final_snapshot_identifier}"
  }
  assert {
    condition     = output.db_final_snapshot_identifier == aws_db_instance.this.final_snapshot_identifier
    error_message = "the final snapshot's name is an output"
  }
  assert {
    condition     = aws_db_instance.this.manage_master_user_password == true && aws_db_instance.this.password == null
    error_message = "RDS manages the master password; none is in the configuration"
  }
  assert {
    condition     = aws_db_instance.this.deletion_protection == false
    error_message = "deletion protection is off, so that the stop can destroy the tier"
  }
  assert {
    condition     = aws_db_instance.this.storage_encrypted && !aws_db_instance.this.publicly_accessible && aws_db_instance.this.engine == "postgres"
    error_message = "an encrypted, private PostgreSQL"
  }
  assert {
    condition     = aws_db_instance.this.identifier == "event-tier-winter-sale-2026" && aws_db_instance.this.instance_class == "db.t4g.large"
    error_message = "RDS identifier and default class"
  }
  assert {
    condition     = aws_db_instance.this.parameter_group_name == aws_db_parameter_group.this.name && contains([for p in aws_db_parameter_group.this.parameter : "${p.name}=${p.value}"], "rds.force_ssl=1")
    error_message = "the database takes TLS connections only"
  }

  # ECS and autoscaling.
  assert {
    condition     = aws_ecs_service.this.desired_count == 4 && aws_ecs_service.this.launch_type == "FARGATE"
    error_message = "the service starts with desired_count Fargate tasks"
  }
  assert {
    condition     = aws_appautoscaling_target.service.min_capacity == 4 && aws_appautoscaling_target.service.max_capacity == 20
    error_message = "autoscaling from desired_count to max_count"
  }
  assert {
    condition     = aws_appautoscaling_target.service.resource_id == "service/event-tier-winter-sale-2026/event-tier-winter-sale-2026"
    error_message = "autoscaling scales the event's service, got ${aws_appautoscaling_target.service.resource_id}"
  }
  assert {
    condition     = aws_appautoscaling_policy.cpu.policy_type == "TargetTrackingScaling" && aws_appautoscaling_policy.cpu.target_tracking_scaling_policy_configuration[0].target_value == 55
    error_message = "target tracking at cpu_target_percent"
  }
  assert {
    condition     = aws_appautoscaling_policy.cpu.target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "ECSServiceAverageCPUUtilization"
    error_message = "the target is the service's average CPU"
  }
  assert {
    condition     = aws_ecs_task_definition.this.cpu == "512" && aws_ecs_task_definition.this.memory == "1024"
    error_message = "task size from task_cpu and task_memory"
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].image == "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:2026.11"
    error_message = "the container image comes from the platform document"
  }
  assert {
    condition     = !strcontains(aws_ecs_task_definition.this.container_definitions, "password\"") && length(jsondecode(aws_ecs_task_definition.this.container_definitions)[0].secrets) == 2
    error_message = "the database credentials reach the container as secrets, not environment values"
  }
  assert {
    condition     = aws_ecs_service.this.network_configuration[0].assign_public_ip == false && toset(aws_ecs_service.this.network_configuration[0].subnets) == toset(["subnet-1a000000000000001", "subnet-1b000000000000002"])
    error_message = "tasks run in the private subnets without public addresses"
  }

  # DMS.
  assert {
    condition     = aws_dms_replication_task.this.replication_task_id == "event-tier-winter-sale-2026"
    error_message = "event-stop finds the task by the id event-tier-<event_id>"
  }
  assert {
    condition     = aws_dms_replication_task.this.migration_type == "full-load" && aws_dms_replication_task.this.start_replication_task == false
    error_message = "a full-load task, started by the schedules and event-stop, not by Terraform"
  }
  assert {
    condition     = [for r in jsondecode(aws_dms_replication_task.this.table_mappings).rules : r.value if r["rule-action"] == "rename"] == ["event_winter_sale_2026"]
    error_message = "the tables land in the schema event_winter_sale_2026"
  }
  assert {
    condition     = output.dms_target_schema == "event_winter_sale_2026"
    error_message = "the target schema is an output"
  }
  assert {
    condition     = aws_dms_endpoint.source.secrets_manager_arn == aws_db_instance.this.master_user_secret[0].secret_arn && aws_dms_endpoint.source.secrets_manager_access_role_arn == aws_iam_role.dms_secrets.arn
    error_message = "the source endpoint reads the RDS-managed secret through the module's role"
  }
  assert {
    condition     = aws_dms_endpoint.target.secrets_manager_arn == "arn:aws:secretsmanager:us-east-1:123456789012:secret:event-tier/ops-db-AbCdEf" && aws_dms_endpoint.target.database_name == "shop"
    error_message = "the target endpoint reads the operations database's secret from the platform document"
  }
  assert {
    condition     = aws_dms_endpoint.source.password == null && aws_dms_endpoint.target.password == null
    error_message = "no password in the endpoints"
  }
  assert {
    condition     = jsondecode(aws_iam_role.dms_secrets.assume_role_policy).Statement[0].Principal.Service == "dms.us-east-1.amazonaws.com"
    error_message = "DMS's regional principal assumes the secrets role"
  }

  # Schedules.
  assert {
    condition     = aws_scheduler_schedule.hourly_migration.schedule_expression == "rate(1 hour)"
    error_message = "hourly"
  }
  assert {
    condition     = aws_scheduler_schedule.hourly_migration.target[0].arn == "arn:aws:scheduler:::aws-sdk:databasemigration:startReplicationTask"
    error_message = "the universal target of DMS StartReplicationTask"
  }
  assert {
    condition = jsondecode(aws_scheduler_schedule.hourly_migration.target[0].input) == {
      ReplicationTaskArn       = "arn:aws:dms:us-east-1:123456789012:task:MOCKTASK"
      StartReplicationTaskType = "reload-target"
    }
    error_message = "the hourly run reloads the target from the event's task, got ${aws_scheduler_schedule.hourly_migration.target[0].input}"
  }
  assert {
    condition     = aws_scheduler_schedule.hourly_migration.target[0].role_arn == aws_iam_role.scheduler.arn
    error_message = "the schedule runs as the module's scheduler role"
  }
  assert {
    condition     = can(regex("^at\\(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\)$", aws_scheduler_schedule.first_migration.schedule_expression))
    error_message = "the first run is a one-time schedule, got ${aws_scheduler_schedule.first_migration.schedule_expression}"
  }
  assert {
    condition     = jsondecode(aws_scheduler_schedule.first_migration.target[0].input).StartReplicationTaskType == "start-replication"
    error_message = "DMS accepts only start-replication for a full-load task's first run"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.scheduler.policy).Statement[0].Resource == "arn:aws:dms:us-east-1:123456789012:task:MOCKTASK"
    error_message = "the scheduler may start this task only"
  }
  assert {
    condition     = output.schedule_name == "event-tier-winter-sale-2026-dms-hourly"
    error_message = "the schedule's name is an output"
  }

  # Tags: every taggable resource gets the provider's default tags, and none overrides the event tag.
  assert {
    condition     = local.default_tags == { "event-tier:event" = "winter-sale-2026", "ManagedBy" = "event-tier" }
    error_message = "the provider's default tags name the event"
  }
  assert {
    condition = alltrue([for r in [
      aws_lb.this, aws_lb_target_group.this, aws_lb_listener.http, aws_ecs_cluster.this, aws_ecs_service.this, aws_db_parameter_group.this,
      aws_ecs_task_definition.this, aws_appautoscaling_target.service, aws_db_instance.this, aws_db_subnet_group.this,
      aws_dms_replication_instance.this, aws_dms_replication_subnet_group.this, aws_dms_endpoint.source,
      aws_dms_endpoint.target, aws_dms_replication_task.this, aws_iam_role.execution, aws_iam_role.task,
      aws_iam_role.dms_secrets, aws_iam_role.scheduler, aws_security_group.alb, aws_security_group.service,
      aws_security_group.db, aws_security_group.dms, aws_cloudwatch_log_group.service, aws_cloudwatch_log_group.dms,
    ] : !contains(keys(coalesce(r.tags, {})), "event-tier:event")])
    error_message = "no resource overrides the event tag of the default tags"
  }

  # Network.
  assert {
    condition     = aws_lb.this.internal == false && toset(aws_lb.this.subnets) == toset(["subnet-0a000000000000001", "subnet-0b000000000000002"])
    error_message = "an internet-facing load balancer in the public subnets"
  }
  assert {
    condition     = aws_lb_target_group.this.target_type == "ip" && aws_lb_target_group.this.port == 8080
    error_message = "the target group reaches Fargate tasks on the container port"
  }
  assert {
    condition     = toset([aws_vpc_security_group_ingress_rule.alb_http.from_port, aws_vpc_security_group_ingress_rule.alb_https.from_port]) == toset([80, 443]) && aws_vpc_security_group_ingress_rule.alb_https.cidr_ipv4 == "0.0.0.0/0"
    error_message = "the load balancer is open on 80 and 443"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.service_from_alb.referenced_security_group_id == aws_security_group.alb.id && aws_vpc_security_group_ingress_rule.service_from_alb.from_port == 8080
    error_message = "tasks take traffic from the load balancer only, on the container port"
  }
  assert {
    condition = toset([
      aws_vpc_security_group_ingress_rule.db_from_service.referenced_security_group_id,
      aws_vpc_security_group_ingress_rule.db_from_dms.referenced_security_group_id,
    ]) == toset([aws_security_group.service.id, aws_security_group.dms.id])
    error_message = "the database takes connections from the tasks and DMS only"
  }
  assert {
    condition     = output.alb_dns_name == "mock-123456789.us-east-1.elb.amazonaws.com" && output.service_name == "event-tier-winter-sale-2026"
    error_message = "outputs: load balancer DNS name and service name"
  }
}

# What event-start checks before it calls the tier ready: every check names this tier's own
# resources, and the URL is the health check's path through the load balancer.
run "the_readiness_output_names_what_event_start_checks" {
  command = apply

  variables {
    timezone = "Asia/Seoul"
    opens_at = "2026-12-19T09:00:00"
  }

  assert {
    condition = output.readiness == {
      cluster                  = aws_ecs_cluster.this.name
      service                  = "event-tier-winter-sale-2026"
      task_definition          = aws_ecs_task_definition.this.arn
      target_group_arn         = aws_lb_target_group.this.arn
      url                      = "http://mock-123456789.us-east-1.elb.amazonaws.com/"
      db_instance              = "event-tier-winter-sale-2026"
      dms_replication_instance = aws_dms_replication_instance.this.replication_instance_arn
      dms_endpoints            = { source = aws_dms_endpoint.source.endpoint_arn, target = aws_dms_endpoint.target.endpoint_arn }
      first_migration_schedule = "event-tier-winter-sale-2026-dms-first"
      first_migration_group    = aws_scheduler_schedule.first_migration.group_name
      opens_at                 = "2026-12-19T09:00:00"
      timezone                 = "Asia/Seoul"
    }
    error_message = "the readiness output names the service, target group, health URL, database, DMS endpoints, first schedule and opening: ${jsonencode(output.readiness)}"
  }
}

# A new run of the tier (the same event id after a destroy, or another event) gets a new final
# snapshot name: the snapshot of the earlier run is kept, so the names must not collide.
run "a_recreated_tier_gets_a_new_final_snapshot_name" {
  command = apply

  plan_options {
    replace = [terraform_data.tier]
  }

  assert {
    condition     = aws_db_instance.this.final_snapshot_identifier != run.tier.db_final_snapshot_identifier
    error_message = "the final snapshot name must change with each creation of the tier"
  }
  assert {
    condition     = startswith(aws_db_instance.this.final_snapshot_identifier, "event-tier-winter-sale-2026-final-")
    error_message = "still named after the event"
  }
}

run "a_reapply_keeps_the_final_snapshot_name" {
  command = apply

  assert {
    condition     = aws_db_instance.this.final_snapshot_identifier == run.a_recreated_tier_gets_a_new_final_snapshot_name.db_final_snapshot_identifier
    error_message = "a re-apply of a running tier must not rename its final snapshot"
  }
}
