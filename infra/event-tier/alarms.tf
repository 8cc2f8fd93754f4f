# The event's alarms: each names the event, and every change of state (ALARM and back to OK) goes
# to the event's SNS topic, which the platform's alarm forwarder (infra/control, event-alarm) posts
# to the Slack channel of the functions. Thresholds are in local.alarms, one place, so that the
# tests, the dashboard and the README read the same numbers.

resource "aws_sns_topic" "alarms" {
  name = "${local.name}-alarms"
  # The platform's key, whose policy lets CloudWatch publish (an AWS-managed key does not). Without
  # the platform's observability settings, the AWS-managed key: then no alarm could publish anyway.
  kms_master_key_id = try(local.observability.alarm_kms_key_arn, "alias/aws/sns")
}

# The forwarder may be invoked by any event's topic (infra/control grants `event-tier-*-alarms` once),
# so the tier only subscribes: the runner never edits a control-plane function's permissions.
resource "aws_sns_topic_subscription" "alarm_forwarder" {
  count = local.observability == null ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "lambda"
  endpoint  = local.observability.alarm_function_arn
}

# DMS publishes no metric for a full-load task's failure: its task log does. Each error line
# (`]E:`) counts one in the event's own namespace.
resource "aws_cloudwatch_log_metric_filter" "dms_errors" {
  name           = "${local.name}-dms-errors"
  log_group_name = aws_cloudwatch_log_group.dms.name
  pattern        = "\"]E:\""

  metric_transformation {
    name          = "DmsTaskErrors"
    namespace     = local.metric_namespace
    value         = "1"
    default_value = "0"
    unit          = "Count"
  }
}

locals {
  metric_namespace = "EventTier/${var.event_id}"

  ecs_dimensions = { ClusterName = local.name, ServiceName = local.name }
  alb_dimensions = { LoadBalancer = aws_lb.this.arn_suffix }
  rds_dimensions = { DBInstanceIdentifier = local.name }

  # One entry per alarm: <signal> => what the alarm resource takes. Periods in seconds.
  alarms = merge(
    {
      ecs-cpu-high = {
        description = "CPU of the event's service above ${min(95, var.cpu_target_percent + 25)}% for 5 minutes (autoscaling aims at ${var.cpu_target_percent}%): it is not keeping up. Check the running task count against max_count (${var.max_count})."
        namespace   = "AWS/ECS", metric = "CPUUtilization", dimensions = local.ecs_dimensions
        statistic   = "Average", period = 60, evaluation_periods = 5, datapoints = 5
        comparison  = "GreaterThanThreshold", threshold = min(95, var.cpu_target_percent + 25)
        missing     = "notBreaching"
      }
      ecs-memory-high = {
        description = "Memory of the event's service above 85% for 5 minutes: tasks may be killed for memory. Raise task_memory for the next start."
        namespace   = "AWS/ECS", metric = "MemoryUtilization", dimensions = local.ecs_dimensions
        statistic   = "Average", period = 60, evaluation_periods = 5, datapoints = 5
        comparison  = "GreaterThanThreshold", threshold = 85
        missing     = "notBreaching"
      }
      ecs-tasks-below-min = {
        description = "Fewer tasks running than the autoscaling minimum (${var.desired_count}) for 10 minutes: tasks fail to start or keep crashing. Read the service log group /event-tier/${var.event_id}/service and the service's events."
        namespace   = "ECS/ContainerInsights", metric = "RunningTaskCount", dimensions = local.ecs_dimensions
        statistic   = "Minimum", period = 300, evaluation_periods = 2, datapoints = 2
        comparison  = "LessThanThreshold", threshold = var.desired_count
        missing     = "missing"
      }
      alb-5xx-rate = {
        description = "More than 5% of the event's requests answered 5xx (load balancer or tasks) in 3 of the last 5 minutes, counted from 50 requests a minute up."
        metric_queries = {
          rate = {
            expression = "IF(requests >= 50, 100 * (elb5xx + target5xx) / requests, 0)"
            label      = "5xx % of requests"
          }
          requests  = { namespace = "AWS/ApplicationELB", metric = "RequestCount", stat = "Sum" }
          elb5xx    = { namespace = "AWS/ApplicationELB", metric = "HTTPCode_ELB_5XX_Count", stat = "Sum" }
          target5xx = { namespace = "AWS/ApplicationELB", metric = "HTTPCode_Target_5XX_Count", stat = "Sum" }
        }
        dimensions = local.alb_dimensions
        period     = 60, evaluation_periods = 5, datapoints = 3
        comparison = "GreaterThanThreshold", threshold = 5
        missing    = "notBreaching"
      }
      alb-p99-latency = {
        description = "p99 response time of the event's tasks above 2 s in 3 of the last 5 minutes: check the database (CPU, connections) and the task CPU."
        namespace   = "AWS/ApplicationELB", metric = "TargetResponseTime", dimensions = local.alb_dimensions
        extended    = "p99", period = 60, evaluation_periods = 5, datapoints = 3
        comparison  = "GreaterThanThreshold", threshold = 2
        missing     = "notBreaching"
      }
      rds-cpu-high = {
        description = "CPU of the event database above 80% for 10 minutes: queries will slow down. Consider a larger db_instance_class for the next event."
        namespace   = "AWS/RDS", metric = "CPUUtilization", dimensions = local.rds_dimensions
        statistic   = "Average", period = 300, evaluation_periods = 2, datapoints = 2
        comparison  = "GreaterThanThreshold", threshold = 80
        missing     = "notBreaching"
      }
      rds-connections-high = {
        description = "More than ${var.db_connections_alarm} connections to the event database for 5 minutes: near PostgreSQL's max_connections, new connections will be refused."
        namespace   = "AWS/RDS", metric = "DatabaseConnections", dimensions = local.rds_dimensions
        statistic   = "Maximum", period = 60, evaluation_periods = 5, datapoints = 5
        comparison  = "GreaterThanThreshold", threshold = var.db_connections_alarm
        missing     = "notBreaching"
      }
      rds-free-storage-low = {
        description = "Less than 10% of the event database's initial ${var.db_allocated_storage} GiB free for 15 minutes: storage autoscaling (up to ${var.db_allocated_storage * 4} GiB) is not keeping up or is at its maximum."
        namespace   = "AWS/RDS", metric = "FreeStorageSpace", dimensions = local.rds_dimensions
        statistic   = "Minimum", period = 300, evaluation_periods = 3, datapoints = 3
        comparison  = "LessThanThreshold", threshold = var.db_allocated_storage * 1073741824 / 10
        missing     = "notBreaching"
      }
      dms-task-errors = {
        description = "The event's DMS task logged errors: the hourly copy into the operations database (schema ${local.target_schema}) may have failed. Read the log group dms-tasks-${local.name}; event-stop will not destroy the tier without a good final migration."
        namespace   = local.metric_namespace, metric = "DmsTaskErrors", dimensions = {}
        statistic   = "Sum", period = 300, evaluation_periods = 1, datapoints = 1
        comparison  = "GreaterThanThreshold", threshold = 0
        missing     = "notBreaching"
      }
    },
    # With max_count == desired_count the service is fixed-size: at its bound all the time.
    var.max_count > var.desired_count ? {
      ecs-tasks-at-max = {
        description = "The service has run at the autoscaling maximum (max_count ${var.max_count}) for 15 minutes: it cannot scale further. Check CPU and latency; raise max_count for the next start."
        namespace   = "ECS/ContainerInsights", metric = "RunningTaskCount", dimensions = local.ecs_dimensions
        statistic   = "Minimum", period = 300, evaluation_periods = 3, datapoints = 3
        comparison  = "GreaterThanOrEqualToThreshold", threshold = var.max_count
        missing     = "notBreaching"
      }
    } : {},
  )
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name        = "${local.name}-${each.key}"
  alarm_description = "Event ${var.event_id}: ${each.value.description}"

  # A single metric, or metric math (metric_queries): never both.
  namespace          = try(each.value.metric_queries, null) == null ? each.value.namespace : null
  metric_name        = try(each.value.metric_queries, null) == null ? each.value.metric : null
  dimensions         = try(each.value.metric_queries, null) == null && length(each.value.dimensions) > 0 ? each.value.dimensions : null
  statistic          = try(each.value.statistic, null)
  extended_statistic = try(each.value.extended, null)
  period             = try(each.value.metric_queries, null) == null ? each.value.period : null

  dynamic "metric_query" {
    for_each = try(each.value.metric_queries, {})
    content {
      id          = metric_query.key
      expression  = try(metric_query.value.expression, null)
      label       = try(metric_query.value.label, null)
      return_data = try(metric_query.value.expression, null) != null

      dynamic "metric" {
        for_each = try(metric_query.value.expression, null) == null ? [metric_query.value] : []
        content {
          namespace   = metric.value.namespace
          metric_name = metric.value.metric
          dimensions  = each.value.dimensions
          stat        = metric.value.stat
          period      = each.value.period
        }
      }
    }
  }

  evaluation_periods  = each.value.evaluation_periods
  datapoints_to_alarm = each.value.datapoints
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  treat_missing_data  = each.value.missing

  alarm_actions = [aws_sns_topic.alarms.arn]
  ok_actions    = [aws_sns_topic.alarms.arn]

  depends_on = [aws_cloudwatch_log_metric_filter.dms_errors]
}
