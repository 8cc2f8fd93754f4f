terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "= 5.100.0"
    }
  }

  # This module's own state: S3, configured at `terraform init -backend-config=backend.hcl` (see
  # README: bucket, key, region, encrypt, use_lockfile). Not the state bucket this module creates:
  # the functions and runners may write under `events/` there, and this state must outlive it.
  backend "s3" {}
}

locals {
  local_stack = var.aws_endpoint_url != null
}

provider "aws" {
  region = var.aws_region

  # Only on the local stack (moto): AWS itself needs none of these.
  skip_credentials_validation = local.local_stack
  skip_metadata_api_check     = local.local_stack
  skip_region_validation      = local.local_stack
  s3_use_path_style           = local.local_stack

  endpoints {
    cloudwatch     = var.aws_endpoint_url
    cloudwatchlogs = var.aws_endpoint_url
    ec2            = var.aws_endpoint_url
    iam            = var.aws_endpoint_url
    kms            = var.aws_endpoint_url
    lambda         = var.aws_endpoint_url
    s3             = var.aws_endpoint_url
    scheduler      = var.aws_endpoint_url
    secretsmanager = var.aws_endpoint_url
    sns            = var.aws_endpoint_url
    sqs            = var.aws_endpoint_url
    ssm            = var.aws_endpoint_url
    sts            = var.aws_endpoint_url
  }

  default_tags {
    tags = merge(var.tags, {
      "ManagedBy"            = "event-tier"
      "event-tier:component" = "control"
    })
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = var.aws_region
}
