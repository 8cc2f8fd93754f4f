# The runners' artifacts: Terraform and the provider mirror in a bucket of their own, versioned,
# encrypted with the control key, private, TLS only; uploaded from runner_artifacts_dir; readable by
# the runners under `runner/` only; their sums handed to the functions.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  aws_region             = "ap-northeast-2"
  vpc_id                 = "vpc-0a1b2c3d4e5f60718"
  public_subnet_ids      = ["subnet-0a000000000000001", "subnet-0a000000000000002"]
  private_subnet_ids     = ["subnet-0b000000000000001", "subnet-0b000000000000002"]
  start_zip_path         = "tests/fixtures/placeholder.zip"
  stop_zip_path          = "tests/fixtures/placeholder.zip"
  alarm_zip_path         = "tests/fixtures/placeholder.zip"
  runner_artifacts_dir   = "tests/fixtures/artifacts"
  runner_public_key      = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlaceholderPlaceholderPlaceholderPlaceholde test-only"
  runner_host_key_sha256 = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
  container_image        = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/shop:1.2.3"
  ops_db_secret_arn      = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:shop/ops-db-AbCdEf"
  ops_db_server_name     = "ops-db.shop.internal"
  ops_db_name            = "shop"
}

override_resource {
  target = aws_s3_bucket.artifacts
  values = {
    id  = "event-runner-artifacts-123456789012-ap-northeast-2"
    arn = "arn:aws:s3:::event-runner-artifacts-123456789012-ap-northeast-2"
  }
}

override_resource {
  target = aws_s3_bucket.state
  values = {
    id  = "event-tier-state-123456789012-ap-northeast-2"
    arn = "arn:aws:s3:::event-tier-state-123456789012-ap-northeast-2"
  }
}

run "artifacts_bucket_is_versioned_encrypted_private_and_tls_only" {
  assert {
    condition     = aws_s3_bucket.artifacts.bucket == "event-runner-artifacts-123456789012-ap-northeast-2" && aws_s3_bucket.artifacts.force_destroy == false
    error_message = "the artifacts bucket is named per account and region and kept on destroy by default"
  }
  assert {
    condition     = aws_s3_bucket_versioning.artifacts.versioning_configuration[0].status == "Enabled"
    error_message = "the artifacts bucket must be versioned"
  }
  assert {
    condition = [for r in aws_s3_bucket_server_side_encryption_configuration.artifacts.rule : [
      for d in r.apply_server_side_encryption_by_default : "${d.sse_algorithm} ${d.kms_master_key_id}"
    ]][0] == ["aws:kms ${aws_kms_key.control.arn}"]
    error_message = "the artifacts bucket must be encrypted with the control key"
  }
  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.artifacts.block_public_acls,
      aws_s3_bucket_public_access_block.artifacts.block_public_policy,
      aws_s3_bucket_public_access_block.artifacts.ignore_public_acls,
      aws_s3_bucket_public_access_block.artifacts.restrict_public_buckets,
    ])
    error_message = "all public access to the artifacts must be blocked"
  }
  assert {
    condition     = length(aws_s3_bucket_policy.artifacts) == 1
    error_message = "in AWS the artifacts bucket has its TLS-only policy"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.artifacts_bucket.statement :
      s.effect == "Deny" && contains(s.actions, "s3:*") && anytrue([for c in s.condition : c.variable == "aws:SecureTransport" && join(",", c.values) == "false"])
    ])
    error_message = "the artifacts bucket policy must deny requests without TLS"
  }
}

run "artifacts_are_uploaded_from_the_artifacts_dir_encrypted_under_runner" {
  assert {
    condition = {
      for k, o in aws_s3_object.runner_artifact : o.key => [o.source, o.server_side_encryption, o.kms_key_id]
      } == {
      "runner/terraform_1.11.4_linux_amd64.zip" = ["tests/fixtures/artifacts/terraform_1.11.4_linux_amd64.zip", "aws:kms", aws_kms_key.control.arn]
      "runner/provider-mirror_linux_amd64.zip"  = ["tests/fixtures/artifacts/provider-mirror_linux_amd64.zip", "aws:kms", aws_kms_key.control.arn]
    }
    error_message = "both artifacts, from runner_artifacts_dir, under runner/, encrypted with the control key"
  }
  assert {
    condition     = alltrue([for o in aws_s3_object.runner_artifact : o.bucket == aws_s3_bucket.artifacts.id])
    error_message = "the artifacts go to the artifacts bucket"
  }
  assert {
    condition = (
      aws_lambda_function.start.environment[0].variables["EVENT_TIER_RUNNER_TERRAFORM_SHA256"] == filesha256("tests/fixtures/artifacts/terraform_1.11.4_linux_amd64.zip")
      && aws_lambda_function.start.environment[0].variables["EVENT_TIER_RUNNER_PROVIDER_MIRROR_SHA256"] == filesha256("tests/fixtures/artifacts/provider-mirror_linux_amd64.zip")
      && aws_lambda_function.start.environment[0].variables["EVENT_TIER_RUNNER_ARTIFACTS_BUCKET"] == "event-runner-artifacts-123456789012-ap-northeast-2"
      && aws_lambda_function.start.environment[0].variables["EVENT_TIER_RUNNER_ARTIFACTS_PREFIX"] == "runner/"
    )
    error_message = "the functions hand the runners' user data the bucket, the prefix and the sums of the uploaded files"
  }
}

run "runners_may_only_read_the_artifacts_prefix" {
  assert {
    condition = [for s in data.aws_iam_policy_document.runner.statement : [s.actions, s.resources] if s.sid == "RunnerArtifacts"] == [
      [toset(["s3:GetObject"]), toset(["arn:aws:s3:::event-runner-artifacts-123456789012-ap-northeast-2/runner/*"])]
    ]
    error_message = "runners read the artifacts under runner/ and nothing more of the bucket"
  }
  assert {
    condition = alltrue(flatten([
      for doc in [data.aws_iam_policy_document.runner, data.aws_iam_policy_document.runner_tier_services] : [
        for s in doc.statement : s.sid == "RunnerArtifacts" || alltrue([
          for r in s.resources : !strcontains(r, "event-runner-artifacts")
        ])
      ]
    ]))
    error_message = "no other statement of the runner names the artifacts bucket"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.runner_https.from_port == 443 && aws_vpc_security_group_egress_rule.runner_https.to_port == 443 && aws_vpc_security_group_egress_rule.runner_https.ip_protocol == "tcp"
    error_message = "runners reach out on HTTPS only: no package repository, no registry on another port"
  }
}

run "the_artifacts_dir_must_hold_both_artifacts" {
  command = plan

  variables {
    runner_artifacts_dir = "tests/fixtures"
  }

  expect_failures = [var.runner_artifacts_dir]
}
