# The dress rehearsals (docs/rehearsal.md): for each dated event, unless it sets
# rehearsal_days_before = 0, one schedule `<id>-rehearsal` that many days before its opening
# (var.rehearsal_days_before, 2, by default) invokes event-start with "rehearsal" and the event's
# own variables and lead time. event-start then plans the tier on a runner (only creates, and how
# many), checks the quotas the plan needs, the image, the runner AMI, the operations secret and
# whether the lead time covers what the module's applies take, says GO or NO-GO in Slack, and
# creates nothing: the runner it launched is terminated. A recurring event has none: its cron
# expressions name no single opening.

locals {
  rehearsals = {
    for id, e in local.events : id => {
      at    = "at(${formatdate("YYYY-MM-DD'T'hh:mm:ss", timeadd("${e.start}Z", "-${e.rehearsal_days_before * 24}h"))})"
      input = jsonencode({ event_id = id, vars = e.vars, rehearsal = { lead_time_minutes = e.lead_time_minutes } })
      about = "${e.rehearsal_days_before} days before ${e.start} ${e.timezone}"
    } if !e.recurring && e.rehearsal_days_before > 0
  }
}

resource "aws_scheduler_schedule" "rehearsal" {
  #checkov:skip=CKV_AWS_297:The payload is an event id, the tier's sizing variables and a lead time, no secret; an AWS-owned key encrypts it.
  for_each = local.rehearsals

  name        = "${each.key}-rehearsal"
  group_name  = aws_scheduler_schedule_group.events.name
  description = "event-tier: rehearse ${each.key}, ${each.value.about}"

  schedule_expression          = each.value.at
  schedule_expression_timezone = local.events[each.key].timezone

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.start.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = each.value.input

    retry_policy {
      maximum_retry_attempts       = var.schedule_retry_attempts
      maximum_event_age_in_seconds = var.schedule_max_event_age_seconds
    }

    dead_letter_config {
      arn = aws_sqs_queue.dead_letters.arn
    }
  }
}

# What event-start reads for a rehearsal, besides what a start does: quotas and what counts against
# them, the image, the runner AMI (its parameter is in functions_common), the platform parameter
# and the operations secret's metadata. Read-only; never the secret's value.
resource "aws_iam_role_policy" "start_rehearsal" {
  name   = "event-start-rehearsal"
  role   = aws_iam_role.start.id
  policy = data.aws_iam_policy_document.start_rehearsal.json
}

data "aws_iam_policy_document" "start_rehearsal" {
  #checkov:skip=CKV_AWS_356:"*" only for reads that take no other resource (Service Quotas' default values, DMS account attributes) or that count what exists account-wide (load balancers, DB instances, security groups, images).
  statement {
    sid = "QuotasAndWhatCountsAgainstThem"
    actions = [
      "servicequotas:GetServiceQuota",
      "servicequotas:GetAWSDefaultServiceQuota",
      "dms:DescribeAccountAttributes",
      "elasticloadbalancing:DescribeLoadBalancers",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeImages",
    ]
    resources = ["*"]
  }

  statement {
    sid = "DbInstancesInUse"
    # Every DB instance of the account counts against the quota, not only the event tiers'.
    actions   = ["rds:DescribeDBInstances"]
    resources = ["arn:${local.partition}:rds:${local.region}:${local.account_id}:db:*"]
  }

  statement {
    sid       = "TheImage"
    actions   = ["ecr:DescribeImages"]
    resources = ["arn:${local.partition}:ecr:${local.region}:*:repository/*"]
  }

  statement {
    sid       = "ThePlatform"
    actions   = ["ssm:GetParameter"]
    resources = [aws_ssm_parameter.platform.arn]
  }

  statement {
    sid       = "TheOperationsSecretExists"
    actions   = ["secretsmanager:DescribeSecret"]
    resources = [var.ops_db_secret_arn]
  }
}
