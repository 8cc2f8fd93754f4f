# The control plane's own key: the secrets, the state bucket, the functions' and runners' logs, the
# log archive, and the alarm topics (the control plane's and the event tiers'). Rotated yearly. Principals of this account get access through their IAM policies (the
# functions' and the runner's roles name this key); AWS services get only what they need below.

resource "aws_kms_key" "control" {
  description             = "event-tier control plane (${var.name}): secrets, Terraform state, logs, alarms"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "control" {
  name          = "alias/${var.name}-control"
  target_key_id = aws_kms_key.control.key_id
}

data "aws_iam_policy_document" "kms" {
  #parliament:skip=RESOURCE_STAR@AccountAdministersAndDelegatesToIam:a key policy's Resource "*" is this key only
  #parliament:skip=RESOURCE_STAR@FunctionLogGroups:a key policy's Resource "*" is this key only
  #parliament:skip=RESOURCE_STAR@AlarmsPublishToTheEncryptedTopic:a key policy's Resource "*" is this key only
  #parliament:skip=UNKNOWN_CONDITION_FOR_ACTION@FunctionLogGroups:CloudWatch Logs' documented key policy puts kms:Describe* under the same encryption-context condition; parliament's data lacks the key for DescribeKey
  #parliament:skip=MISMATCHED_TYPE@FunctionLogGroups:kms:EncryptionContext:aws:logs:arn holds a log group ARN; ArnLike is the operator CloudWatch Logs documents for it
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" is this key only; administration stays with the account root, which delegates to IAM.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" is this key only; the services get encrypt/decrypt with source conditions.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" is this key only.
  # A key policy's Resource is always "*": the key the policy is attached to.
  statement {
    sid       = "AccountAdministersAndDelegatesToIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid = "FunctionLogGroups"
    actions = [
      "kms:Encrypt",
      "kms:Decrypt",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:DescribeKey",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values = [
        "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${var.name}-*",
        "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/${var.name}/runner",
        "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/kinesisfirehose/${var.name}-logs",
      ]
    }
  }

  statement {
    sid       = "AlarmsPublishToTheEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}
