# What `make policy-lint` (local/policy_lint.py) adds to a copy of infra/control to render its
# policies: a provider that calls nothing (every resource is overridden), the data sources, variables.

provider "aws" {
  region                      = "ap-northeast-2"
  access_key                  = "render"
  secret_key                  = "render"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

override_data {
  target          = data.aws_caller_identity.current
  values          = { account_id = "123456789012" }
}

override_data {
  target          = data.aws_partition.current
  values          = { partition = "aws" }
}

override_data {
  target          = data.aws_s3_object.learned_lead
  values          = { body = "{}" }
}

variables {
  aws_region             = "ap-northeast-2"
  vpc_id                 = "vpc-0a1b2c3d4e5f60718"
  public_subnet_ids      = ["subnet-0a000000000000001", "subnet-0a000000000000002"]
  private_subnet_ids     = ["subnet-0b000000000000001", "subnet-0b000000000000002"]
  start_zip_path         = "tests/fixtures/placeholder.zip"
  stop_zip_path          = "tests/fixtures/placeholder.zip"
  alarm_zip_path         = "tests/fixtures/placeholder.zip"
  slack_zip_path         = "tests/fixtures/placeholder.zip"
  # The Slack app's function and policies too.
  slack_app = { allow = { extend = ["U012AB3CD"] } }
  runner_artifacts_dir   = "tests/fixtures/artifacts"
  runner_public_key      = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlaceholderPlaceholderPlaceholderPlaceholde test-only"
  runner_host_key_sha256 = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
  container_image        = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/shop:1.2.3"
  ops_db_secret_arn      = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:shop/ops-db-AbCdEf"
  ops_db_server_name     = "ops-db.shop.internal"
  ops_db_name            = "shop"
}

