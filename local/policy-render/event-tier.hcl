# What `make policy-lint` (local/policy_lint.py) adds to a copy of infra/event-tier to render its
# policies: a provider that calls nothing (every resource is overridden), the data sources, variables.

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "render"
  secret_key                  = "render"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

override_data {
  target = data.aws_caller_identity.current
  values = { account_id = "123456789012" }
}

override_data {
  target = data.aws_partition.current
  values = { partition = "aws", dns_suffix = "amazonaws.com" }
}

override_data {
  target = data.aws_vpc.platform
  values = { cidr_block = "10.42.0.0/16" }
}

override_data {
  target = data.aws_ssm_parameter.platform
  values = {
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

variables {
  event_id   = "winter-sale-2026"
  aws_region = "us-east-1"
}
