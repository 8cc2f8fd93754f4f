# What every event tier builds on, published for infra/event-tier to read (`data "aws_ssm_parameter"`),
# so the functions hand the runner nothing but the event's own variables.

resource "aws_ssm_parameter" "platform" {
  #checkov:skip=CKV2_AWS_34:Ids, ARNs, a host name and a port: no secret (the database password stays in ops_db_secret_arn's secret). A String keeps it readable with plain ssm:GetParameter.
  name        = var.platform_parameter_name
  description = "event-tier platform: the VPC, subnets, container and operations database the event tiers use (JSON)"
  type        = "String"
  tier        = "Standard"
  value = jsonencode({
    vpc_id             = var.vpc_id
    public_subnet_ids  = var.public_subnet_ids
    private_subnet_ids = var.private_subnet_ids
    container_image    = var.container_image
    container_port     = var.container_port
    ops_db_secret_arn  = var.ops_db_secret_arn
    ops_db_server_name = var.ops_db_server_name
    ops_db_port        = var.ops_db_port
    ops_db_name        = var.ops_db_name
    # The tiers' alarms, dashboard and log shipping (infra/event-tier: alarms.tf, dashboard.tf,
    # logs.tf): the forwarder their topics invoke, the key their topics are encrypted with (its
    # policy lets CloudWatch publish), the stream and role of their log subscriptions, and the
    # functions their dashboard shows.
    observability = {
      alarm_function_arn      = aws_lambda_function.alarm.arn
      alarm_kms_key_arn       = aws_kms_key.control.arn
      log_delivery_role_arn   = aws_iam_role.log_delivery.arn
      log_delivery_stream_arn = aws_kinesis_firehose_delivery_stream.logs.arn
      start_function_name     = aws_lambda_function.start.function_name
      stop_function_name      = aws_lambda_function.stop.function_name
    }
  })
}

# AWS DMS needs roles of exactly these names in the account: `dms-vpc-role` before any replication
# subnet group exists, `dms-cloudwatch-logs-role` for task logs. They are account-wide, so they live
# here, not in the tiers (two tiers would both create them).

locals {
  dms_roles = var.create_dms_roles ? {
    "dms-vpc-role"             = "AmazonDMSVPCManagementRole"
    "dms-cloudwatch-logs-role" = "AmazonDMSCloudWatchLogsRole"
  } : {}
}

resource "aws_iam_role" "dms" {
  for_each = local.dms_roles

  name               = each.key
  description        = "AWS DMS service role (event tiers' replication): ${each.value}"
  assume_role_policy = data.aws_iam_policy_document.dms_assume.json
}

resource "aws_iam_role_policy_attachment" "dms" {
  for_each = local.dms_roles

  role       = aws_iam_role.dms[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/${each.value}"
}

data "aws_iam_policy_document" "dms_assume" {
  #parliament:skip=MALFORMED:a trust policy: it names who may assume the role, and IAM takes no Resource in it
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["dms.amazonaws.com"]
    }
  }
}
