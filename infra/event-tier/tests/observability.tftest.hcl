# The event's dashboard, alarms and log shipping (issue 8), against a mocked provider: the widgets
# and their metrics, each alarm's metric, threshold and actions, and the path of the logs
# (subscription filter -> the platform's Firehose stream, named so that it partitions by event).

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  event_id           = "winter-sale-2026"
  aws_region         = "us-east-1"
  desired_count      = 4
  max_count          = 20
  cpu_target_percent = 60
}

override_resource {
  target = aws_sns_topic.alarms
  values = { arn = "arn:aws:sns:us-east-1:123456789012:event-tier-winter-sale-2026-alarms" }
}

run "dashboard" {
  command = apply

  assert {
    condition     = aws_cloudwatch_dashboard.this.dashboard_name == "event-tier-winter-sale-2026"
    error_message = "the dashboard is named after the event"
  }
  assert {
    condition = [for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : try(w.properties.title, "(text)")] == [
      "(text)",
      "ECS CPU and memory (%)",
      "ECS running tasks (autoscaling 4 to 20)",
      "Load balancer requests (per minute)",
      "Load balancer 5xx (per minute)",
      "Response time (s)",
      "Alarms of event winter-sale-2026",
      "RDS CPU (%)",
      "RDS connections",
      "RDS free storage (bytes)",
      "DMS task: errors and rows loaded",
      "DMS latency (s; change data capture only)",
      "DMS task state (task log)",
      "Functions: errors and invocations (per 5 minutes)",
      "Functions: duration (ms)",
    ]
    error_message = "widgets, in layout order: ${jsonencode([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : try(w.properties.title, "")])}"
  }
  assert {
    # Widgets never overlap and stay inside the 24-column grid.
    condition = alltrue([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w.x + w.width <= 24]) && length(distinct([
      for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : "${w.x},${w.y}"
    ])) == 15
    error_message = "a widget overlaps another or leaves the grid"
  }
  assert {
    condition = [for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [for m in w.properties.metrics : slice(m, 0, 2)] if try(w.properties.title, "") == "ECS CPU and memory (%)"][0] == [
      ["AWS/ECS", "CPUUtilization"], ["AWS/ECS", "MemoryUtilization"]
    ]
    error_message = "ECS CPU and memory"
  }
  assert {
    condition = [for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w.properties.metrics[0] if try(w.properties.title, "") == "ECS CPU and memory (%)"][0] == [
      "AWS/ECS", "CPUUtilization", "ClusterName", "event-tier-winter-sale-2026", "ServiceName", "event-tier-winter-sale-2026", { label = "CPU" }
    ]
    error_message = "of the event's cluster and service"
  }
  assert {
    condition = [for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : {
      metrics = [for m in w.properties.metrics : m[1]]
      bounds  = [for a in w.properties.annotations.horizontal : a.value]
    } if startswith(try(w.properties.title, ""), "ECS running tasks")][0] == { metrics = ["RunningTaskCount", "DesiredTaskCount"], bounds = [4, 20] }
    error_message = "running tasks against the autoscaling bounds (desired_count, max_count)"
  }
  assert {
    condition = flatten([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [for m in w.properties.metrics : "${m[1]} ${m[2]}=${m[3]}"] if startswith(try(w.properties.title, ""), "Load balancer")]) == [
      "RequestCount LoadBalancer=app/mock/0123456789abcdef",
      "HTTPCode_ELB_5XX_Count LoadBalancer=app/mock/0123456789abcdef",
      "HTTPCode_Target_5XX_Count LoadBalancer=app/mock/0123456789abcdef",
    ]
    error_message = "load balancer requests and 5xx, by the load balancer's ARN suffix"
  }
  assert {
    condition     = [for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [for m in w.properties.metrics : "${m[1]} ${m[4].stat}"] if try(w.properties.title, "") == "Response time (s)"][0] == ["TargetResponseTime p50", "TargetResponseTime p99"]
    error_message = "latency p50 and p99"
  }
  assert {
    condition = flatten([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [for m in w.properties.metrics : "${m[0]} ${m[1]} ${m[3]}"] if startswith(try(w.properties.title, ""), "RDS")]) == [
      "AWS/RDS CPUUtilization event-tier-winter-sale-2026",
      "AWS/RDS DatabaseConnections event-tier-winter-sale-2026",
      "AWS/RDS FreeStorageSpace event-tier-winter-sale-2026",
    ]
    error_message = "RDS CPU, connections and free storage of the event's database"
  }
  assert {
    condition = flatten([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [for m in try(w.properties.metrics, []) : "${m[0]} ${m[1]}"] if startswith(try(w.properties.title, ""), "DMS")]) == [
      "EventTier/winter-sale-2026 DmsTaskErrors",
      "AWS/DMS FullLoadThroughputRowsTarget",
      "AWS/DMS CDCLatencySource",
      "AWS/DMS CDCLatencyTarget",
    ]
    error_message = "DMS errors, throughput and latency"
  }
  assert {
    condition = [for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w.properties.metrics[1] if startswith(try(w.properties.title, ""), "DMS latency")][0] == [
      "AWS/DMS", "CDCLatencyTarget", "ReplicationInstanceIdentifier", "event-tier-winter-sale-2026", "ReplicationTaskIdentifier", "MOCKTASK", { label = "target" }
    ]
    error_message = "DMS metrics name the task by its ARN's resource id"
  }
  assert {
    condition     = [for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : strcontains(try(w.properties.query, ""), "SOURCE 'dms-tasks-event-tier-winter-sale-2026'") if w.type == "log"] == [true]
    error_message = "the DMS task's state from its log"
  }
  assert {
    condition     = length([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w if w.type == "alarm" && try(length(w.properties.alarms), 0) == length(local.alarms)]) == 1
    error_message = "an alarm widget with every alarm of the event"
  }
  assert {
    condition = flatten([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [for m in w.properties.metrics : "${m[1]} ${m[3]}"] if startswith(try(w.properties.title, ""), "Functions")]) == [
      "Errors event-start", "Errors event-stop", "Invocations event-start", "Invocations event-stop",
      "Duration event-start", "Duration event-stop", "Duration event-start", "Duration event-stop",
    ]
    error_message = "the two functions' errors and durations (names from the platform's observability settings)"
  }
}

run "alarms" {
  command = apply

  assert {
    condition = toset(keys(aws_cloudwatch_metric_alarm.this)) == toset([
      "ecs-cpu-high", "ecs-memory-high", "ecs-tasks-below-min", "ecs-tasks-at-max", "alb-5xx-rate", "alb-p99-latency",
      "rds-cpu-high", "rds-connections-high", "rds-free-storage-low", "dms-task-errors",
    ])
    error_message = "the alarm list of the README"
  }
  assert {
    condition = alltrue([for k, a in aws_cloudwatch_metric_alarm.this :
      a.alarm_name == "event-tier-winter-sale-2026-${k}" && startswith(a.alarm_description, "Event winter-sale-2026: ") &&
      a.alarm_actions == toset(["arn:aws:sns:us-east-1:123456789012:event-tier-winter-sale-2026-alarms"]) &&
      a.ok_actions == a.alarm_actions
    ])
    error_message = "each alarm names the event and notifies the event's topic of ALARM and of OK"
  }
  assert {
    condition = { for k, a in aws_cloudwatch_metric_alarm.this : k => "${a.namespace} ${a.metric_name} ${coalesce(a.statistic, a.extended_statistic)} ${a.comparison_operator} ${a.threshold}" if k != "alb-5xx-rate" } == {
      ecs-cpu-high         = "AWS/ECS CPUUtilization Average GreaterThanThreshold 85"
      ecs-memory-high      = "AWS/ECS MemoryUtilization Average GreaterThanThreshold 85"
      ecs-tasks-below-min  = "ECS/ContainerInsights RunningTaskCount Minimum LessThanThreshold 4"
      ecs-tasks-at-max     = "ECS/ContainerInsights RunningTaskCount Minimum GreaterThanOrEqualToThreshold 20"
      alb-p99-latency      = "AWS/ApplicationELB TargetResponseTime p99 GreaterThanThreshold 2"
      rds-cpu-high         = "AWS/RDS CPUUtilization Average GreaterThanThreshold 80"
      rds-connections-high = "AWS/RDS DatabaseConnections Maximum GreaterThanThreshold 700"
      rds-free-storage-low = "AWS/RDS FreeStorageSpace Minimum LessThanThreshold 5368709120"
      dms-task-errors      = "EventTier/winter-sale-2026 DmsTaskErrors Sum GreaterThanThreshold 0"
    }
    error_message = "metrics and thresholds: ${jsonencode({ for k, a in aws_cloudwatch_metric_alarm.this : k => [a.namespace, a.metric_name, a.statistic, a.extended_statistic, a.threshold] })}"
  }
  assert {
    condition = alltrue([for k, a in aws_cloudwatch_metric_alarm.this : a.dimensions == tomap({
      ClusterName = "event-tier-winter-sale-2026", ServiceName = "event-tier-winter-sale-2026" }) if startswith(k, "ecs-")]) && (
      aws_cloudwatch_metric_alarm.this["rds-cpu-high"].dimensions == tomap({ DBInstanceIdentifier = "event-tier-winter-sale-2026" }) &&
      aws_cloudwatch_metric_alarm.this["alb-p99-latency"].dimensions == tomap({ LoadBalancer = "app/mock/0123456789abcdef" })
    )
    error_message = "each alarm watches the event's own service, database and load balancer"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["alb-p99-latency"].evaluation_periods == 5 && aws_cloudwatch_metric_alarm.this["alb-p99-latency"].datapoints_to_alarm == 3 &&
      aws_cloudwatch_metric_alarm.this["ecs-cpu-high"].period == 60 && aws_cloudwatch_metric_alarm.this["ecs-cpu-high"].evaluation_periods == 5 &&
      aws_cloudwatch_metric_alarm.this["rds-free-storage-low"].period * aws_cloudwatch_metric_alarm.this["rds-free-storage-low"].evaluation_periods == 900
    )
    error_message = "p99 latency: 3 of 5 minutes; CPU: 5 minutes; free storage: 15 minutes"
  }
  assert {
    condition = { for q in aws_cloudwatch_metric_alarm.this["alb-5xx-rate"].metric_query : q.id => coalesce(q.expression, try("${q.metric[0].metric_name} ${q.metric[0].stat} ${q.metric[0].dimensions.LoadBalancer}", "")) } == {
      rate      = "IF(requests >= 50, 100 * (elb5xx + target5xx) / requests, 0)"
      requests  = "RequestCount Sum app/mock/0123456789abcdef"
      elb5xx    = "HTTPCode_ELB_5XX_Count Sum app/mock/0123456789abcdef"
      target5xx = "HTTPCode_Target_5XX_Count Sum app/mock/0123456789abcdef"
    }
    error_message = "the 5xx alarm is a rate: 5xx of load balancer and tasks over requests, from 50 requests a minute"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["alb-5xx-rate"].threshold == 5 && [for q in aws_cloudwatch_metric_alarm.this["alb-5xx-rate"].metric_query : q.id if q.return_data] == ["rate"]
    error_message = "alarm above 5% (the rate is the returned series)"
  }
  assert {
    condition = (
      aws_cloudwatch_log_metric_filter.dms_errors.log_group_name == "dms-tasks-event-tier-winter-sale-2026" && aws_cloudwatch_log_metric_filter.dms_errors.pattern == "\"]E:\"" &&
      aws_cloudwatch_log_metric_filter.dms_errors.metric_transformation[0].namespace == "EventTier/winter-sale-2026" && aws_cloudwatch_log_metric_filter.dms_errors.metric_transformation[0].name == "DmsTaskErrors"
    )
    error_message = "the DMS task's error lines are counted into the event's namespace"
  }
  assert {
    condition     = aws_sns_topic.alarms.name == "event-tier-winter-sale-2026-alarms" && aws_sns_topic.alarms.kms_master_key_id == "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000"
    error_message = "the event's topic, named event-tier-<event_id>-alarms (the forwarder reads the event from it), encrypted with the platform's key"
  }
  assert {
    condition     = aws_sns_topic_subscription.alarm_forwarder[0].protocol == "lambda" && aws_sns_topic_subscription.alarm_forwarder[0].endpoint == "arn:aws:lambda:us-east-1:123456789012:function:event-alarm" && aws_sns_topic_subscription.alarm_forwarder[0].topic_arn == aws_sns_topic.alarms.arn
    error_message = "the platform's alarm forwarder is subscribed to the event's topic"
  }
}

run "thresholds_follow_the_events_variables" {
  command = plan

  variables {
    desired_count        = 3
    max_count            = 3
    cpu_target_percent   = 80
    db_allocated_storage = 100
    db_connections_alarm = 250
  }

  assert {
    condition     = !contains(keys(aws_cloudwatch_metric_alarm.this), "ecs-tasks-at-max")
    error_message = "a fixed-size service (max_count = desired_count) gets no at-max alarm: it would be in ALARM all event long"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["ecs-cpu-high"].threshold == 95 && aws_cloudwatch_metric_alarm.this["ecs-tasks-below-min"].threshold == 3 &&
      aws_cloudwatch_metric_alarm.this["rds-free-storage-low"].threshold == 10737418240 && aws_cloudwatch_metric_alarm.this["rds-connections-high"].threshold == 250
    )
    error_message = "CPU alarm 25 points above the target (95 at most), min tasks, 10% of the storage, the connections setting"
  }
}

run "logs_are_shipped_to_the_platforms_stream_named_for_partitioning" {
  command = apply

  assert {
    condition = { for k, f in aws_cloudwatch_log_subscription_filter.archive : f.log_group_name => f.name } == {
      "/event-tier/winter-sale-2026/service"                     = "event=winter-sale-2026,source=service"
      "dms-tasks-event-tier-winter-sale-2026"                    = "event=winter-sale-2026,source=dms"
      "/aws/rds/instance/event-tier-winter-sale-2026/postgresql" = "event=winter-sale-2026,source=rds"
      "/aws/rds/instance/event-tier-winter-sale-2026/upgrade"    = "event=winter-sale-2026,source=rds"
    }
    error_message = "every log group of the tier is subscribed; the filter's name carries the partition keys event and source"
  }
  assert {
    condition = alltrue([for f in aws_cloudwatch_log_subscription_filter.archive :
      f.destination_arn == "arn:aws:firehose:us-east-1:123456789012:deliverystream/event-logs" &&
      f.role_arn == "arn:aws:iam::123456789012:role/event-log-delivery" && f.filter_pattern == ""
    ])
    error_message = "everything goes to the platform's delivery stream, through its delivery role"
  }
  assert {
    condition     = alltrue([for g in concat([aws_cloudwatch_log_group.service, aws_cloudwatch_log_group.dms], values(aws_cloudwatch_log_group.db)) : g.retention_in_days == 30])
    error_message = "the tier's log groups keep 30 days in CloudWatch Logs"
  }
}

run "without_the_platforms_observability_settings_the_tier_still_applies_and_warns" {
  command = plan

  override_data {
    target = data.aws_ssm_parameter.platform
    values = {
      insecure_value = "{\"vpc_id\":\"vpc-0123456789abcdef0\",\"public_subnet_ids\":[\"subnet-0a000000000000001\",\"subnet-0b000000000000002\"],\"private_subnet_ids\":[\"subnet-1a000000000000001\",\"subnet-1b000000000000002\"],\"container_image\":\"shop:1\",\"container_port\":8080,\"ops_db_secret_arn\":\"arn:aws:secretsmanager:us-east-1:123456789012:secret:ops-AbCdEf\",\"ops_db_server_name\":\"ops\",\"ops_db_port\":5432,\"ops_db_name\":\"shop\"}"
    }
  }

  expect_failures = [check.observability]

  assert {
    condition     = length(aws_sns_topic_subscription.alarm_forwarder) == 0 && length(aws_cloudwatch_log_subscription_filter.archive) == 0 && length(aws_cloudwatch_metric_alarm.this) == 10
    error_message = "the alarms exist; nothing subscribes to them and no log is shipped"
  }
}

run "an_observability_object_with_a_missing_key_is_refused" {
  command = plan

  override_data {
    target = data.aws_ssm_parameter.platform
    values = {
      insecure_value = "{\"vpc_id\":\"vpc-0123456789abcdef0\",\"public_subnet_ids\":[\"subnet-0a000000000000001\",\"subnet-0b000000000000002\"],\"private_subnet_ids\":[\"subnet-1a000000000000001\",\"subnet-1b000000000000002\"],\"container_image\":\"shop:1\",\"container_port\":8080,\"ops_db_secret_arn\":\"arn:aws:secretsmanager:us-east-1:123456789012:secret:ops-AbCdEf\",\"ops_db_server_name\":\"ops\",\"ops_db_port\":5432,\"ops_db_name\":\"shop\",\"observability\":{\"alarm_function_arn\":\"arn:aws:lambda:us-east-1:123456789012:function:event-alarm\"}}"
    }
  }

  expect_failures = [data.aws_ssm_parameter.platform]
}
