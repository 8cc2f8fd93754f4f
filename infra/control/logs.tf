# The log archive: every event's logs (its service, database and DMS task, from the tiers), the
# functions' logs and the runners' Terraform output, shipped as they arrive from CloudWatch Logs
# through one Firehose delivery stream into an S3 bucket, partitioned by event, source and day, and
# kept there after the event's tier and its log groups are gone (README "Observability").
#
# The stream lives here, not in the tiers: it outlives every event (a tier destroyed at the stop
# would take the last minutes of its logs, still in the stream's buffer, with it), serves the
# functions' and runners' log groups too, and is one stream instead of one per event.
#
# Partition keys come from the record CloudWatch Logs sends (the decompressed subscription message):
# the subscription filter's name, `event=<id>,source=<source>`, names them (the tiers name their
# filters so); the runners' streams are `<event_id>/<instance id>`; the functions' log lines carry
# `fields.event_id` (JSON logs). What names no event goes under event=none.

locals {
  log_bucket_name = coalesce(var.log_bucket_name, "${var.name}-logs-${local.account_id}-${local.region}")

  # jq 1.6, as Firehose runs it (log-partitioning.jq, on one line without its comments). The
  # integration test of the real tier runs the same file on the message moto delivers.
  log_partition_query = join(" ", [
    for line in split("\n", file("${path.module}/log-partitioning.jq")) : trimspace(line)
    if trimspace(line) != "" && !startswith(trimspace(line), "#")
  ])

  log_prefix       = "logs/event=!{partitionKeyFromQuery:event}/source=!{partitionKeyFromQuery:source}/dt=!{timestamp:yyyy-MM-dd}/"
  log_error_prefix = "errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/"

  # The control plane's own log groups and their source names in the archive.
  control_log_groups = {
    start  = { group = aws_cloudwatch_log_group.start.name, source = "functions" }
    stop   = { group = aws_cloudwatch_log_group.stop.name, source = "functions" }
    alarm  = { group = aws_cloudwatch_log_group.alarm.name, source = "functions" }
    runner = { group = aws_cloudwatch_log_group.runner.name, source = "runner" }
  }
}

# The runners' Terraform output: the CloudWatch agent in their user data (event-core's
# runner-user-data.sh, EVENT_TIER_RUNNER_LOG_GROUP) writes each run's log here.
resource "aws_cloudwatch_log_group" "runner" {
  name              = "/${var.name}/runner"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.control.arn
}

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_18:This is the log archive; access logs of it would need yet another bucket.
  #checkov:skip=CKV_AWS_144:Logs are kept for analysis, not as a system of record: one region is enough.
  #checkov:skip=CKV2_AWS_62:Nothing consumes event notifications of archived logs.
  bucket        = local.log_bucket_name
  force_destroy = var.log_bucket_force_destroy
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.control.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket = aws_s3_bucket.logs.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "expire-archived-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.log_archive_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 1
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.logs]
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.log_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.logs]
}

data "aws_iam_policy_document" "log_bucket" {
  statement {
    sid       = "TlsOnly"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.logs.arn, "${aws_s3_bucket.logs.arn}/*"]

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
}

# Firehose writes the bucket with this role, and nothing else.
resource "aws_iam_role" "log_firehose" {
  name               = "${var.name}-log-firehose"
  description        = "Firehose ${var.name}-logs: write the log archive bucket"
  assume_role_policy = data.aws_iam_policy_document.log_firehose_assume.json
}

data "aws_iam_policy_document" "log_firehose_assume" {
  #parliament:skip=MALFORMED:a trust policy: it names who may assume the role, and IAM takes no Resource in it
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role_policy" "log_firehose" {
  name   = "write-log-archive"
  role   = aws_iam_role.log_firehose.id
  policy = data.aws_iam_policy_document.log_firehose.json
}

data "aws_iam_policy_document" "log_firehose" {
  statement {
    sid = "ArchiveBucket"
    actions = [
      "s3:AbortMultipartUpload",
      "s3:GetBucketLocation",
      "s3:GetObject",
      "s3:ListBucket",
      "s3:ListBucketMultipartUploads",
      "s3:PutObject",
    ]
    resources = [aws_s3_bucket.logs.arn, "${aws_s3_bucket.logs.arn}/*"]
  }

  statement {
    sid       = "ControlKeyThroughS3"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.control.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "DeliveryErrors"
    actions   = ["logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.log_delivery.arn}:*"]
  }
}

# Firehose's own delivery errors (S3 refused, partitioning query failed).
resource "aws_cloudwatch_log_group" "log_delivery" {
  name              = "/aws/kinesisfirehose/${var.name}-logs"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.control.arn
}

resource "aws_cloudwatch_log_stream" "log_delivery" {
  name           = "S3Delivery"
  log_group_name = aws_cloudwatch_log_group.log_delivery.name
}

resource "aws_kinesis_firehose_delivery_stream" "logs" {
  name        = "${var.name}-logs"
  destination = "extended_s3"

  server_side_encryption {
    enabled  = true
    key_type = "CUSTOMER_MANAGED_CMK"
    key_arn  = aws_kms_key.control.arn
  }

  extended_s3_configuration {
    role_arn            = aws_iam_role.log_firehose.arn
    bucket_arn          = aws_s3_bucket.logs.arn
    prefix              = local.log_prefix
    error_output_prefix = local.log_error_prefix
    compression_format  = "GZIP"
    kms_key_arn         = aws_kms_key.control.arn
    # Dynamic partitioning takes 64 MiB at least; a quiet event flushes every 5 minutes.
    buffering_size     = 64
    buffering_interval = 300

    dynamic_partitioning_configuration {
      enabled = true
    }

    processing_configuration {
      enabled = true

      # CloudWatch Logs sends gzip'd JSON messages: decompress them, keep the message whole (log
      # group, stream, filter, events: what the Athena table reads), one per line.
      processors {
        type = "Decompression"
        parameters {
          parameter_name  = "CompressionFormat"
          parameter_value = "GZIP"
        }
      }

      processors {
        type = "MetadataExtraction"
        parameters {
          parameter_name  = "JsonParsingEngine"
          parameter_value = "JQ-1.6"
        }
        parameters {
          parameter_name  = "MetadataExtractionQuery"
          parameter_value = local.log_partition_query
        }
      }

      processors {
        type = "AppendDelimiterToRecord"
      }
    }

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.log_delivery.name
      log_stream_name = aws_cloudwatch_log_stream.log_delivery.name
    }
  }

  depends_on = [aws_iam_role_policy.log_firehose]
}

# CloudWatch Logs puts the subscriptions' records into the stream with this role (the tiers'
# subscription filters too: the platform parameter names it, and the runners may pass it to Logs).
resource "aws_iam_role" "log_delivery" {
  name               = "${var.name}-log-delivery"
  description        = "CloudWatch Logs: ship subscribed log groups to the ${var.name}-logs stream"
  assume_role_policy = data.aws_iam_policy_document.log_delivery_assume.json
}

data "aws_iam_policy_document" "log_delivery_assume" {
  #parliament:skip=MALFORMED:a trust policy: it names who may assume the role, and IAM takes no Resource in it
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "StringLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:*"]
    }
  }
}

resource "aws_iam_role_policy" "log_delivery" {
  name   = "put-into-the-log-stream"
  role   = aws_iam_role.log_delivery.id
  policy = data.aws_iam_policy_document.log_delivery.json
}

data "aws_iam_policy_document" "log_delivery" {
  statement {
    sid       = "LogStream"
    actions   = ["firehose:PutRecord", "firehose:PutRecordBatch"]
    resources = [aws_kinesis_firehose_delivery_stream.logs.arn]
  }
}

resource "aws_cloudwatch_log_subscription_filter" "archive" {
  for_each = local.control_log_groups

  name            = "source=${each.value.source}"
  log_group_name  = each.value.group
  filter_pattern  = ""
  destination_arn = aws_kinesis_firehose_delivery_stream.logs.arn
  role_arn        = aws_iam_role.log_delivery.arn
  distribution    = "ByLogStream"

  depends_on = [aws_iam_role_policy.log_delivery]
}
