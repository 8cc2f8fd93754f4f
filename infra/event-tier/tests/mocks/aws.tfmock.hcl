# Mock values of the AWS provider for `terraform test` (no AWS, no network). Data sources get the
# platform document and identities; resources get ARNs where other resources or policies use them
# (the provider validates ARNs even when mocked).

mock_data "aws_ssm_parameter" {
  defaults = {
    name           = "/event-tier/platform"
    type           = "String"
    insecure_value = <<-EOT
      {
        "vpc_id": "vpc-0123456789abcdef0",
        "public_subnet_ids": ["subnet-0a000000000000001", "subnet-0b000000000000002"],
        "private_subnet_ids": ["subnet-1a000000000000001", "subnet-1b000000000000002"],
        "container_image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:2026.11",
        "container_port": 8080,
        "ops_db_secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:event-tier/ops-db-AbCdEf",
        "ops_db_server_name": "ops-db.internal.example",
        "ops_db_port": 5432,
        "ops_db_name": "shop",
        "observability": {
          "alarm_function_arn": "arn:aws:lambda:us-east-1:123456789012:function:event-alarm",
          "alarm_kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000",
          "log_delivery_role_arn": "arn:aws:iam::123456789012:role/event-log-delivery",
          "log_delivery_stream_arn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/event-logs",
          "start_function_name": "event-start",
          "stop_function_name": "event-stop"
        }
      }
    EOT
  }
}

mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
  }
}

mock_data "aws_partition" {
  defaults = {
    partition  = "aws"
    dns_suffix = "amazonaws.com"
  }
}

mock_data "aws_vpc" {
  defaults = {
    cidr_block = "10.42.0.0/16"
  }
}

mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::123456789012:role/mock-role"
  }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = {
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:mock"
  }
}

mock_resource "aws_lb" {
  defaults = {
    arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/mock/0123456789abcdef"
    arn_suffix = "app/mock/0123456789abcdef"
    dns_name   = "mock-123456789.us-east-1.elb.amazonaws.com"
  }
}

mock_resource "aws_lb_target_group" {
  defaults = {
    arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/mock/0123456789abcdef"
    arn_suffix = "targetgroup/mock/0123456789abcdef"
  }
}

mock_resource "aws_lb_listener" {
  defaults = {
    arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/mock/0123456789abcdef/0123456789abcdef"
  }
}

mock_resource "aws_ecs_cluster" {
  defaults = {
    arn = "arn:aws:ecs:us-east-1:123456789012:cluster/mock"
  }
}

mock_resource "aws_ecs_task_definition" {
  defaults = {
    arn                  = "arn:aws:ecs:us-east-1:123456789012:task-definition/mock:1"
    arn_without_revision = "arn:aws:ecs:us-east-1:123456789012:task-definition/mock"
  }
}

mock_resource "aws_db_instance" {
  defaults = {
    arn      = "arn:aws:rds:us-east-1:123456789012:db:mock"
    address  = "mock.abcdefghijkl.us-east-1.rds.amazonaws.com"
    endpoint = "mock.abcdefghijkl.us-east-1.rds.amazonaws.com:5432"
    master_user_secret = [{
      secret_arn    = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-0123-AbCdEf"
      kms_key_id    = "arn:aws:kms:us-east-1:123456789012:key/mock"
      secret_status = "active"
    }]
  }
}

mock_resource "aws_dms_replication_instance" {
  defaults = {
    replication_instance_arn = "arn:aws:dms:us-east-1:123456789012:rep:MOCKINSTANCE"
  }
}

mock_resource "aws_dms_endpoint" {
  defaults = {
    endpoint_arn = "arn:aws:dms:us-east-1:123456789012:endpoint:MOCKENDPOINT"
  }
}

mock_resource "aws_dms_replication_task" {
  defaults = {
    replication_task_arn = "arn:aws:dms:us-east-1:123456789012:task:MOCKTASK"
  }
}

mock_resource "aws_scheduler_schedule" {
  defaults = {
    arn = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/mock"
  }
}

mock_resource "aws_sns_topic" {
  defaults = {
    arn = "arn:aws:sns:us-east-1:123456789012:mock-alarms"
  }
}

mock_resource "aws_cloudwatch_metric_alarm" {
  defaults = {
    arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:mock"
  }
}

mock_resource "aws_cloudwatch_dashboard" {
  defaults = {
    dashboard_arn = "arn:aws:cloudwatch::123456789012:dashboard/mock"
  }
}
