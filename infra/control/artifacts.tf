# The runners' artifacts: the pinned Terraform binary and the provider mirror of the event tier's
# lock file, built on the deployer's machine (`make artifacts`, dist/artifacts/) and uploaded here. A
# runner's user data installs both from this bucket and checks their sha256 (the functions pass the
# sums in it), so that nothing on a runner reaches HashiCorp or the Terraform registry. Versioned,
# KMS-encrypted, private, TLS only; the runners may only read `runner/`.

locals {
  artifacts_bucket_name = coalesce(var.runner_artifacts_bucket_name, "${var.name}-runner-artifacts-${local.account_id}-${local.region}")
  artifacts_prefix      = "runner/"
  # Object name => file in runner_artifacts_dir (local/artifacts.py names them).
  artifacts = {
    terraform = "terraform_1.11.4_linux_amd64.zip"
    mirror    = "provider-mirror_linux_amd64.zip"
  }

  # Settings of the functions (functions.tf merges them): where a new runner's user data fetches the
  # artifacts, and the sums it holds them to.
  artifacts_environment = {
    EVENT_TIER_RUNNER_ARTIFACTS_BUCKET       = aws_s3_bucket.artifacts.id
    EVENT_TIER_RUNNER_ARTIFACTS_PREFIX       = local.artifacts_prefix
    EVENT_TIER_RUNNER_TERRAFORM_SHA256       = filesha256("${var.runner_artifacts_dir}/${local.artifacts.terraform}")
    EVENT_TIER_RUNNER_PROVIDER_MIRROR_SHA256 = filesha256("${var.runner_artifacts_dir}/${local.artifacts.mirror}")
  }
}

resource "aws_s3_bucket" "artifacts" {
  #checkov:skip=CKV_AWS_18:Access logging needs a log bucket this module does not own; CloudTrail data events are the account's choice.
  #checkov:skip=CKV_AWS_144:Cross-region replication of files that `make artifacts` rebuilds is not worth a second region.
  #checkov:skip=CKV2_AWS_62:Nothing consumes event notifications of artifact uploads.
  bucket        = local.artifacts_bucket_name
  force_destroy = var.runner_artifacts_force_destroy
}

resource "aws_s3_bucket_versioning" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.control.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    id     = "old-artifact-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.state_noncurrent_version_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.artifacts]
}

# TLS only. Not on the local stack: moto's endpoint is plain HTTP, and it applies the policy to every
# object request, so the objects below could not be written or read (local/EMULATOR-GAPS.md).
resource "aws_s3_bucket_policy" "artifacts" {
  count  = local.local_stack ? 0 : 1
  bucket = aws_s3_bucket.artifacts.id
  policy = data.aws_iam_policy_document.artifacts_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.artifacts]
}

data "aws_iam_policy_document" "artifacts_bucket" {
  #parliament:skip=MISMATCHED_TYPE@Tls12OrLater:aws_iam_policy_document renders every value as a string; IAM reads "1.2" as the number NumericLessThan compares
  #parliament:skip=UNKNOWN_CONDITION_FOR_ACTION@Tls12OrLater:a Deny on s3:* for old TLS: actions that do not carry s3:TlsVersion are not denied by it, which is what we want
  statement {
    sid       = "TlsOnly"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.artifacts.arn, "${aws_s3_bucket.artifacts.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "Tls12OrLater"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.artifacts.arn, "${aws_s3_bucket.artifacts.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }
}

resource "aws_s3_object" "runner_artifact" {
  for_each = local.artifacts

  bucket      = aws_s3_bucket.artifacts.id
  key         = "${local.artifacts_prefix}${each.value}"
  source      = "${var.runner_artifacts_dir}/${each.value}"
  source_hash = filesha256("${var.runner_artifacts_dir}/${each.value}")
  # The bucket's default encryption, named here too so that the object says what it is.
  server_side_encryption = "aws:kms"
  kms_key_id             = aws_kms_key.control.arn
  content_type           = "application/zip"

  depends_on = [
    aws_s3_bucket_server_side_encryption_configuration.artifacts,
    aws_s3_bucket_versioning.artifacts,
  ]
}
