# The event tiers' Terraform state bucket: one state per event (`events/<event_id>/terraform.tfstate`,
# locked with S3 lockfiles), and beside it the functions' records (`events/<event_id>/runner-claim`,
# `.../final-migration`, `.../runs/<run-id>/reported`). Versioned, so a bad apply's state can be
# restored; KMS-encrypted; private; TLS only.

locals {
  state_bucket_name = coalesce(var.state_bucket_name, "${var.name}-tier-state-${local.account_id}-${local.region}")
}

resource "aws_s3_bucket" "state" {
  #checkov:skip=CKV_AWS_18:Access logging needs a log bucket this module does not own; CloudTrail data events are the account's choice.
  #checkov:skip=CKV_AWS_144:Cross-region replication of state that can be rebuilt by destroying and re-applying a tier is not worth a second region here.
  #checkov:skip=CKV2_AWS_62:Nothing consumes event notifications of state writes.
  bucket        = local.state_bucket_name
  force_destroy = var.state_bucket_force_destroy
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.control.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket = aws_s3_bucket.state.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "old-state-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.state_noncurrent_version_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.state]
}

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = data.aws_iam_policy_document.state_bucket.json

  # The policy is the last word on the bucket: set it once public access is blocked.
  depends_on = [aws_s3_bucket_public_access_block.state]
}

data "aws_iam_policy_document" "state_bucket" {
  #parliament:skip=MISMATCHED_TYPE@Tls12OrLater:aws_iam_policy_document renders every value as a string; IAM reads "1.2" as the number NumericLessThan compares
  #parliament:skip=UNKNOWN_CONDITION_FOR_ACTION@Tls12OrLater:a Deny on s3:* for old TLS: actions that do not carry s3:TlsVersion are not denied by it, which is what we want
  statement {
    sid       = "TlsOnly"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]

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
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]

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
