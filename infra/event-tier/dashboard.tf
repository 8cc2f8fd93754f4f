# The event's CloudWatch dashboard, `event-tier-<event_id>`, created and destroyed with the tier.
# Widgets are built here as data (local.dashboard_widgets) so that the tests can read them back
# from the dashboard body. Layout (24 columns, rows of 6):
#
#   y=0   header (alarm thresholds, links)                                            24 x 2
#   y=2   ECS CPU and memory        | running tasks vs min/max   | LB requests         8 x 6 each
#   y=8   LB 5xx                    | LB latency p50/p99         | alarm states
#   y=14  RDS CPU                   | RDS connections            | RDS free storage
#   y=20  DMS task errors and rows  | DMS CDC latency            | DMS task log (Logs Insights)
#   y=26  functions: errors         | functions: duration        (12 x 6 each; with the platform's
#                                                                  observability settings only)

locals {
  dashboard_name = local.name
  region         = var.aws_region

  # Dimensions as CloudWatch metric arrays want them: name, value, name, value.
  ecs_dims = ["ClusterName", local.name, "ServiceName", local.name]
  alb_dims = ["LoadBalancer", aws_lb.this.arn_suffix]
  rds_dims = ["DBInstanceIdentifier", local.name]
  dms_task_dims = [
    "ReplicationInstanceIdentifier", local.name,
    # DMS names a task in its metrics by the resource id at the end of its ARN, not its identifier.
    "ReplicationTaskIdentifier", reverse(split(":", aws_dms_replication_task.this.replication_task_arn))[0],
  ]

  function_names = {
    start = try(local.observability.start_function_name, "")
    stop  = try(local.observability.stop_function_name, "")
  }

  metric_widget = {
    view    = "timeSeries"
    stacked = false
    region  = local.region
    period  = 60
  }

  dashboard_widgets = concat(
    [
      {
        type = "text", x = 0, y = 0, width = 24, height = 2
        properties = {
          markdown = join("\n", [
            "# Event ${var.event_id}",
            "Tasks ${var.desired_count} to ${var.max_count} (CPU target ${var.cpu_target_percent}%), database ${var.db_instance_class}, DMS into schema `${local.target_schema}`. Alarms go to SNS `${aws_sns_topic.alarms.name}` and Slack; logs: `/event-tier/${var.event_id}/service`, `dms-tasks-${local.name}`, `/aws/rds/instance/${local.name}/postgresql`.",
          ])
        }
      },
      {
        type = "metric", x = 0, y = 2, width = 8, height = 6
        properties = merge(local.metric_widget, {
          title = "ECS CPU and memory (%)"
          stat  = "Average"
          metrics = [
            concat(["AWS/ECS", "CPUUtilization"], local.ecs_dims, [{ label = "CPU" }]),
            concat(["AWS/ECS", "MemoryUtilization"], local.ecs_dims, [{ label = "memory" }]),
          ]
          annotations = {
            horizontal = [
              { label = "CPU target", value = var.cpu_target_percent },
              { label = "CPU alarm", value = local.alarms["ecs-cpu-high"].threshold, color = "#d62728" },
            ]
          }
          yAxis = { left = { min = 0, max = 100 } }
        })
      },
      {
        type = "metric", x = 8, y = 2, width = 8, height = 6
        properties = merge(local.metric_widget, {
          title = "ECS running tasks (autoscaling ${var.desired_count} to ${var.max_count})"
          stat  = "Average"
          metrics = [
            concat(["ECS/ContainerInsights", "RunningTaskCount"], local.ecs_dims, [{ label = "running" }]),
            concat(["ECS/ContainerInsights", "DesiredTaskCount"], local.ecs_dims, [{ label = "desired" }]),
          ]
          annotations = {
            horizontal = [
              { label = "min (desired_count)", value = var.desired_count },
              { label = "max (max_count)", value = var.max_count, color = "#d62728" },
            ]
          }
          yAxis = { left = { min = 0 } }
        })
      },
      {
        type = "metric", x = 16, y = 2, width = 8, height = 6
        properties = merge(local.metric_widget, {
          title   = "Load balancer requests (per minute)"
          stat    = "Sum"
          metrics = [concat(["AWS/ApplicationELB", "RequestCount"], local.alb_dims, [{ label = "requests" }])]
        })
      },
      {
        type = "metric", x = 0, y = 8, width = 8, height = 6
        properties = merge(local.metric_widget, {
          title = "Load balancer 5xx (per minute)"
          stat  = "Sum"
          metrics = [
            concat(["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count"], local.alb_dims, [{ label = "load balancer 5xx" }]),
            concat(["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"], local.alb_dims, [{ label = "tasks 5xx" }]),
          ]
        })
      },
      {
        type = "metric", x = 8, y = 8, width = 8, height = 6
        properties = merge(local.metric_widget, {
          title = "Response time (s)"
          metrics = [
            concat(["AWS/ApplicationELB", "TargetResponseTime"], local.alb_dims, [{ label = "p50", stat = "p50" }]),
            concat(["AWS/ApplicationELB", "TargetResponseTime"], local.alb_dims, [{ label = "p99", stat = "p99" }]),
          ]
          annotations = {
            horizontal = [{ label = "p99 alarm", value = local.alarms["alb-p99-latency"].threshold, color = "#d62728" }]
          }
          yAxis = { left = { min = 0 } }
        })
      },
      {
        type = "alarm", x = 16, y = 8, width = 8, height = 6
        properties = {
          title  = "Alarms of event ${var.event_id}"
          alarms = [for k in sort(keys(local.alarms)) : aws_cloudwatch_metric_alarm.this[k].arn]
        }
      },
      {
        type = "metric", x = 0, y = 14, width = 8, height = 6
        properties = merge(local.metric_widget, {
          title   = "RDS CPU (%)"
          stat    = "Average"
          metrics = [concat(["AWS/RDS", "CPUUtilization"], local.rds_dims, [{ label = "CPU" }])]
          annotations = {
            horizontal = [{ label = "alarm", value = local.alarms["rds-cpu-high"].threshold, color = "#d62728" }]
          }
          yAxis = { left = { min = 0, max = 100 } }
        })
      },
      {
        type = "metric", x = 8, y = 14, width = 8, height = 6
        properties = merge(local.metric_widget, {
          title   = "RDS connections"
          stat    = "Maximum"
          metrics = [concat(["AWS/RDS", "DatabaseConnections"], local.rds_dims, [{ label = "connections" }])]
          annotations = {
            horizontal = [{ label = "alarm", value = var.db_connections_alarm, color = "#d62728" }]
          }
          yAxis = { left = { min = 0 } }
        })
      },
      {
        type = "metric", x = 16, y = 14, width = 8, height = 6
        properties = merge(local.metric_widget, {
          title   = "RDS free storage (bytes)"
          stat    = "Minimum"
          metrics = [concat(["AWS/RDS", "FreeStorageSpace"], local.rds_dims, [{ label = "free" }])]
          annotations = {
            horizontal = [{ label = "alarm", value = local.alarms["rds-free-storage-low"].threshold, color = "#d62728" }]
          }
          yAxis = { left = { min = 0 } }
        })
      },
      {
        type = "metric", x = 0, y = 20, width = 8, height = 6
        properties = merge(local.metric_widget, {
          title  = "DMS task: errors and rows loaded"
          period = 300
          metrics = [
            [local.metric_namespace, "DmsTaskErrors", { label = "errors in the task log", stat = "Sum" }],
            concat(["AWS/DMS", "FullLoadThroughputRowsTarget"], local.dms_task_dims, [{ label = "rows/s loaded", stat = "Average", yAxis = "right" }]),
          ]
        })
      },
      {
        type = "metric", x = 8, y = 20, width = 8, height = 6
        properties = merge(local.metric_widget, {
          title = "DMS latency (s; change data capture only)"
          stat  = "Average"
          metrics = [
            concat(["AWS/DMS", "CDCLatencySource"], local.dms_task_dims, [{ label = "source" }]),
            concat(["AWS/DMS", "CDCLatencyTarget"], local.dms_task_dims, [{ label = "target" }]),
          ]
        })
      },
      {
        type = "log", x = 16, y = 20, width = 8, height = 6
        properties = {
          title  = "DMS task state (task log)"
          region = local.region
          view   = "table"
          query  = "SOURCE '${aws_cloudwatch_log_group.dms.name}' | fields @timestamp, @message | filter @message like /]E:|]W:|[Ss]tarting|[Ss]topp|[Ll]oad finished|tables are loaded/ | sort @timestamp desc | limit 20"
        }
      },
    ],
    # The functions live in infra/control; the platform's observability settings name them.
    [for w in [
      {
        type = "metric", x = 0, y = 26, width = 12, height = 6
        properties = merge(local.metric_widget, {
          title  = "Functions: errors and invocations (per 5 minutes)"
          period = 300
          stat   = "Sum"
          metrics = [
            ["AWS/Lambda", "Errors", "FunctionName", local.function_names.start, { label = "event-start errors" }],
            ["AWS/Lambda", "Errors", "FunctionName", local.function_names.stop, { label = "event-stop errors" }],
            ["AWS/Lambda", "Invocations", "FunctionName", local.function_names.start, { label = "event-start invocations" }],
            ["AWS/Lambda", "Invocations", "FunctionName", local.function_names.stop, { label = "event-stop invocations" }],
          ]
        })
      },
      {
        type = "metric", x = 12, y = 26, width = 12, height = 6
        properties = merge(local.metric_widget, {
          title  = "Functions: duration (ms)"
          period = 300
          metrics = [
            ["AWS/Lambda", "Duration", "FunctionName", local.function_names.start, { label = "event-start max", stat = "Maximum" }],
            ["AWS/Lambda", "Duration", "FunctionName", local.function_names.stop, { label = "event-stop max", stat = "Maximum" }],
            ["AWS/Lambda", "Duration", "FunctionName", local.function_names.start, { label = "event-start p50", stat = "p50" }],
            ["AWS/Lambda", "Duration", "FunctionName", local.function_names.stop, { label = "event-stop p50", stat = "p50" }],
          ]
          annotations = {
            horizontal = [{ label = "Lambda timeout (15 min)", value = 900000, color = "#d62728" }]
          }
          yAxis = { left = { min = 0 } }
        })
      },
    ] : w if local.observability != null],
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = local.dashboard_name
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
