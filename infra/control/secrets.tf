# The secrets. Terraform creates them empty and never holds their values: an operator puts each
# value with `aws secretsmanager put-secret-value` (README, "Secret values"). Names are prefixes: a
# re-created secret gets a new name, so a destroyed one waiting out its recovery window never
# blocks the next deploy.

resource "aws_secretsmanager_secret" "runner_ssh_key" {
  #checkov:skip=CKV2_AWS_57:The key pair is rotated by hand with runner_public_key (README); a rotation Lambda could not update the EC2 key pair and this secret together.
  name_prefix             = "${var.name}/runner-ssh-key-"
  description             = "SSH private key (PEM) the ${var.name}-start/-stop functions log in to the event-tier runners with; its public half is the ${var.name}-runner key pair."
  kms_key_id              = aws_kms_key.control.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret" "slack_webhook" {
  #checkov:skip=CKV2_AWS_57:A Slack incoming-webhook URL is issued by Slack, not generated: rotated by hand (README).
  name_prefix             = "${var.name}/slack-webhook-"
  description             = "Slack incoming-webhook URL the ${var.name}-start/-stop functions report to, and ${var.name}-alarm posts alarms to."
  kms_key_id              = aws_kms_key.control.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret" "slack_bot_token" {
  #checkov:skip=CKV2_AWS_57:A Slack bot token is issued by Slack, not generated: rotated by hand (README).
  count = var.slack_channel_id == null ? 0 : 1

  name_prefix             = "${var.name}/slack-bot-token-"
  description             = "Slack bot token (xoxb-) the ${var.name}-start/-stop functions post to channel ${var.slack_channel_id} with, one thread per event."
  kms_key_id              = aws_kms_key.control.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret" "runner_host_key" {
  #checkov:skip=CKV2_AWS_57:Rotating the host key means changing runner_host_key_sha256 at the same time; done by hand (README).
  name_prefix             = "${var.name}/runner-host-key-"
  description             = "SSH host private key (OpenSSH ed25519) the event-tier runners install at boot; the functions pin its fingerprint. Only the runner role may read it."
  kms_key_id              = aws_kms_key.control.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

# Who may read each value, beside nobody: a resource policy denies everyone else, administrators
# included (they can still put values, and change this policy through Terraform).
locals {
  secret_readers = merge({
    runner_ssh_key  = { arn = aws_secretsmanager_secret.runner_ssh_key.arn, roles = [aws_iam_role.start.arn, aws_iam_role.stop.arn] }
    slack_webhook   = { arn = aws_secretsmanager_secret.slack_webhook.arn, roles = concat([aws_iam_role.start.arn, aws_iam_role.stop.arn, aws_iam_role.alarm.arn], [for r in aws_iam_role.slack : r.arn]) }
    runner_host_key = { arn = aws_secretsmanager_secret.runner_host_key.arn, roles = [aws_iam_role.runner.arn] }
    }, var.slack_channel_id == null ? {} : {
    slack_bot_token = { arn = aws_secretsmanager_secret.slack_bot_token[0].arn, roles = concat([aws_iam_role.start.arn, aws_iam_role.stop.arn], [for r in aws_iam_role.slack : r.arn]) }
  }, { for k, s in aws_secretsmanager_secret.slack_signing : "slack_signing" => { arn = s.arn, roles = [aws_iam_role.slack[k].arn] } })
}

resource "aws_secretsmanager_secret_policy" "readers" {
  for_each = local.secret_readers

  secret_arn = each.value.arn
  policy     = data.aws_iam_policy_document.secret_readers[each.key].json
}

data "aws_iam_policy_document" "secret_readers" {
  for_each = local.secret_readers

  statement {
    sid       = "OnlyTheseRolesReadTheValue"
    effect    = "Deny"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotEquals"
      variable = "aws:PrincipalArn"
      values   = each.value.roles
    }
  }
}
