terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "= 5.100.0"
    }
  }

  # Settings come from the functions at `terraform init -backend-config=backend.hcl`:
  # bucket, key (one per event), region, encrypt, use_lockfile.
  backend "s3" {}
}

locals {
  local_stack = var.aws_endpoint_url != null
  default_tags = {
    "event-tier:event" = var.event_id
    "ManagedBy"        = "event-tier"
  }
}

provider "aws" {
  region = var.aws_region

  # Only on the local stack (moto): AWS itself needs none of these.
  skip_credentials_validation = local.local_stack
  skip_metadata_api_check     = local.local_stack
  skip_region_validation      = local.local_stack
  s3_use_path_style           = local.local_stack

  endpoints {
    applicationautoscaling = var.aws_endpoint_url
    cloudwatch             = var.aws_endpoint_url
    cloudwatchlogs         = var.aws_endpoint_url
    dms                    = var.aws_endpoint_url
    ec2                    = var.aws_endpoint_url
    ecs                    = var.aws_endpoint_url
    elbv2                  = var.aws_endpoint_url
    iam                    = var.aws_endpoint_url
    rds                    = var.aws_endpoint_url
    s3                     = var.aws_endpoint_url
    scheduler              = var.aws_endpoint_url
    secretsmanager         = var.aws_endpoint_url
    sns                    = var.aws_endpoint_url
    ssm                    = var.aws_endpoint_url
    sts                    = var.aws_endpoint_url
  }

  # Every taggable resource of the tier carries the event: that is how leftovers are found.
  default_tags {
    tags = local.default_tags
  }
}
