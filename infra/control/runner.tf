# The runners: the EC2 instances (one per event, launched by the functions, not by Terraform) that
# run the event tier's Terraform. Here: their network, their key pair, their role.

# Network: SSH in from the functions only; HTTPS out to AWS's APIs and nothing else. Terraform and
# its provider come from the runner artifacts bucket (artifacts.tf), so no rule is needed for
# HashiCorp, the Terraform registry or a package repository. AWS's regional API endpoints have no
# fixed addresses a rule could name (a VPC with interface endpoints for every service the tier uses
# could narrow this to their prefix lists): the rule is port 443 only.

resource "aws_security_group" "runner" {
  #checkov:skip=CKV2_AWS_5:Attached by the functions when they launch a runner (EVENT_TIER_RUNNER_SECURITY_GROUP_ID), not by Terraform.
  name        = "${var.name}-runner"
  description = "event-tier runners: SSH from the functions only; HTTPS out"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "runner_ssh_from_functions" {
  #checkov:skip=CKV_AWS_24:False positive of checkov 3.3.30: it reads a rule without a CIDR as open and does not know referenced_security_group_id; the only source here is the functions' security group (tests/resources.tftest.hcl).
  security_group_id            = aws_security_group.runner.id
  description                  = "SSH from the event-tier functions, and from nowhere else"
  ip_protocol                  = "tcp"
  from_port                    = 22
  to_port                      = 22
  referenced_security_group_id = aws_security_group.functions.id
}

resource "aws_vpc_security_group_egress_rule" "runner_https" {
  security_group_id = aws_security_group.runner.id
  description       = "HTTPS to AWS APIs only (Terraform, the artifacts bucket, Secrets Manager, CloudWatch Logs)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# The key pair whose private half (the runner key secret) the functions log in with.

resource "aws_key_pair" "runner" {
  key_name   = "${var.name}-runner"
  public_key = trimspace(var.runner_public_key)
}

# The role: what the event tier's Terraform needs, and the host key.

resource "aws_iam_role" "runner" {
  name               = "${var.name}-runner"
  description        = "event-tier runners: apply and destroy event tiers"
  assume_role_policy = data.aws_iam_policy_document.runner_assume.json
}

resource "aws_iam_instance_profile" "runner" {
  name = "${var.name}-runner"
  role = aws_iam_role.runner.name
}

data "aws_iam_policy_document" "runner_assume" {
  #parliament:skip=MALFORMED:a trust policy: it names who may assume the role, and IAM takes no Resource in it
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "runner" {
  name   = "event-tier-terraform"
  role   = aws_iam_role.runner.id
  policy = data.aws_iam_policy_document.runner.json
}

locals {
  # Names the event tiers give their resources (infra/event-tier: `event-tier-<event_id>...`).
  tier_prefix = "event-tier"
  # Load balancers and their target groups: `et-<event_id>` (32 characters at most, infra/event-tier).
  lb_prefix      = "et"
  iam_prefix     = "arn:${local.partition}:iam::${local.account_id}"
  ecs_arn_prefix = "arn:${local.partition}:ecs:${local.region}:${local.account_id}"
  elb_arn_prefix = "arn:${local.partition}:elasticloadbalancing:${local.region}:${local.account_id}"
  rds_arn_prefix = "arn:${local.partition}:rds:${local.region}:${local.account_id}"
  dms_arn_prefix = "arn:${local.partition}:dms:${local.region}:${local.account_id}"

  # What the runner may tag, change or delete in ECS, ELB, RDS, DMS and Application Auto Scaling (in
  # this order): anything of this account and region that carries the event tag (each statement adds
  # the condition); the creates also hold the tiers' name prefixes.
  tier_tagged_arns = [
    for service in ["ecs", "elasticloadbalancing", "rds", "dms", "application-autoscaling"] :
    "arn:${local.partition}:${service}:${local.region}:${local.account_id}:*"
  ]
}

data "aws_iam_policy_document" "runner" {
  #parliament:skip=RESOURCE_STAR@DescribeForTerraform:Describe and List calls that accept no resource but "*" (infra/control/README.md lists them)
  #parliament:skip=RESOURCE_MISMATCH@TierSecurityGroupsInThePlatformVpc:CreateSecurityGroup is split by resource type on purpose: the group needs the event tag, the VPC must be the platform's
  #parliament:skip=RESOURCE_MISMATCH@ManageTierSecurityGroups:ModifySecurityGroupRules is split by resource type on purpose: the group needs the event tag (TierSecurityGroupRules has the rules)
  #parliament:skip=RESOURCE_MISMATCH@TierSecurityGroupRules:the rule half of ManageTierSecurityGroups (split by resource type on purpose)
  #checkov:skip=CKV_AWS_356:"*" only for actions AWS authorizes on "*" alone (Describe/List, subscription attributes, GetRandomPassword); infra/control/README.md lists them. The tiers' services are in runner_tier_services.
  statement {
    sid       = "HostKey"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.runner_host_key.arn]
  }

  statement {
    sid       = "RunnerArtifacts"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.artifacts.arn}/${local.artifacts_prefix}*"]
  }

  statement {
    sid       = "StateObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.state.arn}/events/*"]
  }

  statement {
    sid       = "StateBucket"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.state.arn]
  }

  statement {
    sid       = "ControlKeyThroughS3AndSecretsManager"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.control.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com", "secretsmanager.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "Platform"
    actions   = ["ssm:GetParameter"]
    resources = [aws_ssm_parameter.platform.arn]
  }

  statement {
    sid       = "OperationsDatabaseCredentials"
    actions   = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
    resources = [var.ops_db_secret_arn]
  }

  statement {
    sid = "TierSecrets"
    # The tiers' own secrets, and the RDS-managed master password secrets (rds!...).
    actions = [
      "secretsmanager:CreateSecret",
      "secretsmanager:DeleteSecret",
      "secretsmanager:DescribeSecret",
      "secretsmanager:GetSecretValue",
      "secretsmanager:PutSecretValue",
      "secretsmanager:UpdateSecret",
      "secretsmanager:TagResource",
      "secretsmanager:UntagResource",
      "secretsmanager:GetResourcePolicy",
      "secretsmanager:PutResourcePolicy",
      "secretsmanager:DeleteResourcePolicy",
    ]
    resources = [
      "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:${local.tier_prefix}-*",
      "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:${local.tier_prefix}/*",
      "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:rds!*",
    ]
  }

  statement {
    sid = "RandomPasswords"
    # GetRandomPassword touches no resource: it accepts only "*".
    actions   = ["secretsmanager:GetRandomPassword"]
    resources = ["*"]
  }

  statement {
    sid = "TierRoles"
    actions = [
      "iam:CreateRole",
      "iam:DeleteRole",
      "iam:GetRole",
      "iam:UpdateRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:ListRolePolicies",
      "iam:GetRolePolicy",
      "iam:PutRolePolicy",
      "iam:DeleteRolePolicy",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
      "iam:PassRole",
    ]
    resources = ["${local.iam_prefix}:role/${local.tier_prefix}-*"]
  }

  statement {
    sid       = "TierRolesGetOnlyTheirOwnOrServicePolicies"
    actions   = ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
    resources = ["${local.iam_prefix}:role/${local.tier_prefix}-*"]

    condition {
      test     = "ArnLike"
      variable = "iam:PolicyARN"
      values = [
        "${local.iam_prefix}:policy/${local.tier_prefix}-*",
        "arn:${local.partition}:iam::aws:policy/service-role/*",
      ]
    }
  }

  statement {
    sid = "TierPolicies"
    actions = [
      "iam:CreatePolicy",
      "iam:DeletePolicy",
      "iam:GetPolicy",
      "iam:GetPolicyVersion",
      "iam:ListPolicyVersions",
      "iam:CreatePolicyVersion",
      "iam:DeletePolicyVersion",
      "iam:TagPolicy",
      "iam:UntagPolicy",
    ]
    resources = ["${local.iam_prefix}:policy/${local.tier_prefix}-*"]
  }

  statement {
    sid       = "ServiceLinkedRoles"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["${local.iam_prefix}:role/aws-service-role/*"]

    condition {
      test     = "StringEquals"
      variable = "iam:AWSServiceName"
      values = [
        "ecs.amazonaws.com",
        "elasticloadbalancing.amazonaws.com",
        "rds.amazonaws.com",
        "dms.amazonaws.com",
        "ecs.application-autoscaling.amazonaws.com",
      ]
    }
  }

  statement {
    sid = "TierLogGroups"
    actions = [
      "logs:CreateLogGroup",
      "logs:DeleteLogGroup",
      "logs:PutRetentionPolicy",
      "logs:DeleteRetentionPolicy",
      "logs:TagResource",
      "logs:UntagResource",
      "logs:ListTagsForResource",
      "logs:TagLogGroup",
      "logs:ListTagsLogGroup",
    ]
    # The tier's service logs, its RDS instance's exported logs and its DMS task logs.
    resources = [
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/${local.tier_prefix}/*",
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/rds/instance/${local.tier_prefix}-*",
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:dms-tasks-${local.tier_prefix}-*",
    ]
  }

  statement {
    sid = "TierLogShipping"
    # The tiers' subscription filters (to the log archive stream) and the DMS error metric filter.
    actions = [
      "logs:PutSubscriptionFilter",
      "logs:DeleteSubscriptionFilter",
      "logs:DescribeSubscriptionFilters",
      "logs:PutMetricFilter",
      "logs:DeleteMetricFilter",
      "logs:DescribeMetricFilters",
    ]
    resources = [
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/${local.tier_prefix}/*",
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/rds/instance/${local.tier_prefix}-*",
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:dms-tasks-${local.tier_prefix}-*",
    ]
  }

  statement {
    sid       = "PassTheLogDeliveryRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.log_delivery.arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["logs.amazonaws.com"]
    }
  }

  statement {
    sid = "TierAlarmTopics"
    actions = [
      "sns:CreateTopic",
      "sns:DeleteTopic",
      "sns:GetTopicAttributes",
      "sns:SetTopicAttributes",
      "sns:ListTagsForResource",
      "sns:TagResource",
      "sns:UntagResource",
      "sns:Subscribe",
    ]
    resources = ["arn:${local.partition}:sns:${local.region}:${local.account_id}:${local.tier_prefix}-*"]
  }

  statement {
    sid = "TierAlarmSubscriptions"
    # The event-alarm subscription of a tier's topic. These act on a subscription, which IAM does
    # not know as a resource: they accept "*" only (Subscribe itself is scoped to the topics above).
    actions   = ["sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:Unsubscribe"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [local.region]
    }
  }

  statement {
    sid = "TierAlarmsAndDashboards"
    actions = [
      "cloudwatch:PutMetricAlarm",
      "cloudwatch:DeleteAlarms",
      "cloudwatch:ListTagsForResource",
      "cloudwatch:TagResource",
      "cloudwatch:UntagResource",
      "cloudwatch:PutDashboard",
      "cloudwatch:GetDashboard",
      "cloudwatch:DeleteDashboards",
    ]
    resources = [
      "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${local.tier_prefix}-*",
      "arn:${local.partition}:cloudwatch::${local.account_id}:dashboard/${local.tier_prefix}-*",
    ]
  }

  statement {
    sid = "RunnerLogs"
    # The runner's CloudWatch agent: each run's Terraform output, into the runner log group only.
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [aws_cloudwatch_log_group.runner.arn, "${aws_cloudwatch_log_group.runner.arn}:*"]
  }

  statement {
    sid       = "RunnerLogsEncrypted"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [aws_kms_key.control.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["logs.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid = "DescribeForTerraform"
    # Describe/List calls of EC2 and CloudWatch Logs accept no resource but "*".
    actions = [
      "ec2:Describe*",
      "logs:DescribeLogGroups",
      "cloudwatch:DescribeAlarms",
      "kms:DescribeKey",
      "kms:ListAliases",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "TierSecurityGroups"
    actions   = ["ec2:CreateSecurityGroup"]
    resources = ["${local.ec2_arn_prefix}:security-group/*"]

    condition {
      test     = "Null"
      variable = "aws:RequestTag/event-tier:event"
      values   = ["false"]
    }
  }

  statement {
    sid       = "TierSecurityGroupsInThePlatformVpc"
    actions   = ["ec2:CreateSecurityGroup"]
    resources = ["${local.ec2_arn_prefix}:vpc/${var.vpc_id}"]
  }

  statement {
    sid       = "TagTierSecurityGroupsAtCreation"
    actions   = ["ec2:CreateTags"]
    resources = ["${local.ec2_arn_prefix}:security-group/*", "${local.ec2_arn_prefix}:security-group-rule/*"]

    condition {
      test     = "StringEquals"
      variable = "ec2:CreateAction"
      values   = ["CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress"]
    }
  }

  statement {
    sid = "ManageTierSecurityGroups"
    actions = [
      "ec2:DeleteSecurityGroup",
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:AuthorizeSecurityGroupEgress",
      "ec2:RevokeSecurityGroupIngress",
      "ec2:RevokeSecurityGroupEgress",
      "ec2:ModifySecurityGroupRules",
      "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
      "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
      "ec2:CreateTags",
      "ec2:DeleteTags",
    ]
    resources = ["${local.ec2_arn_prefix}:security-group/*"]

    condition {
      test     = "Null"
      variable = "aws:ResourceTag/event-tier:event"
      values   = ["false"]
    }
  }

  statement {
    sid       = "TierSecurityGroupRules"
    actions   = ["ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:ModifySecurityGroupRules", "ec2:CreateTags", "ec2:DeleteTags"]
    resources = ["${local.ec2_arn_prefix}:security-group-rule/*"]
  }

  statement {
    sid     = "NotTheControlPlaneSchedules"
    effect  = "Deny"
    actions = ["scheduler:*"]
    resources = [
      aws_scheduler_schedule_group.events.arn,
      aws_scheduler_schedule_group.follow_ups.arn,
      "arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule/${aws_scheduler_schedule_group.events.name}/*",
      "arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule/${aws_scheduler_schedule_group.follow_ups.name}/*",
    ]
  }
}

# The services an event tier is made of (ECS, ELB, RDS, DMS, Application Auto Scaling, Scheduler):
# created only with the event tag in the request (aws:RequestTag), changed and deleted only when the
# resource carries it (aws:ResourceTag), in this region and account, by name prefix where the ARN
# holds a name we give. Each action and its condition keys as the Service Authorization Reference
# lists them; infra/control/README.md lists what stays broad and why. A managed policy of its own:
# with the runner's inline policy it would pass IAM's 10,240-character limit for a role's inline
# policies (a managed policy may hold 6,144).

resource "aws_iam_policy" "runner_tier_services" {
  name        = "${var.name}-runner-tier-services"
  description = "event-tier runners: the tiers' ECS, ELB, RDS, DMS, scaling and schedules, by the event tag"
  policy      = data.aws_iam_policy_document.runner_tier_services.minified_json
}

resource "aws_iam_role_policy_attachment" "runner_tier_services" {
  role       = aws_iam_role.runner.name
  policy_arn = aws_iam_policy.runner_tier_services.arn
}

data "aws_iam_policy_document" "runner_tier_services" {
  #checkov:skip=CKV_AWS_356:"*" only for actions AWS authorizes on "*" alone (Describe/List, DeregisterTaskDefinition, ModifyReplicationSubnetGroup, and DMS creates with the event-tag condition), each in this region; infra/control/README.md lists them.
  #parliament:skip=RESOURCE_MISMATCH@TierDatabasesUseTheDefaultOptionGroup:CreateDBInstance and ModifyDBInstance are split by resource type on purpose: the database needs the event tag (CreateTaggedTierResources, ChangeTaggedTierResources), the default option group has none
  #parliament:skip=RESOURCE_STAR@TierServicesUnscopable:read-only Describe/List calls (some of which could name a resource; reading the region's ECS, ELB, RDS, DMS and scaling settings reveals no secret) and the two writes AWS authorizes on "*" only; infra/control/README.md lists them
  #parliament:skip=UNKNOWN_CONDITION_FOR_ACTION@TagTierLoadBalancingAtCreation:elasticloadbalancing:CreateAction is the key ELB documents for tagging on create ("Grant permissions to tag resources during creation"); parliament's data does not tie it to AddTags
  statement {
    sid = "CreateTaggedTierResources"
    actions = [
      "ecs:CreateCluster",
      "ecs:CreateService",
      "ecs:RegisterTaskDefinition",
      "elasticloadbalancing:CreateLoadBalancer",
      "elasticloadbalancing:CreateTargetGroup",
      "elasticloadbalancing:CreateListener",
      "rds:CreateDBInstance",
      "rds:CreateDBSubnetGroup",
      "rds:CreateDBParameterGroup",
      "application-autoscaling:RegisterScalableTarget",
    ]
    resources = [
      "${local.ecs_arn_prefix}:cluster/${local.tier_prefix}-*",
      "${local.ecs_arn_prefix}:service/${local.tier_prefix}-*/*",
      "${local.ecs_arn_prefix}:task-definition/${local.tier_prefix}-*:*",
      "${local.elb_arn_prefix}:loadbalancer/app/${local.lb_prefix}-*/*",
      "${local.elb_arn_prefix}:targetgroup/${local.lb_prefix}-*/*",
      "${local.rds_arn_prefix}:db:${local.tier_prefix}-*",
      "${local.rds_arn_prefix}:subgrp:${local.tier_prefix}-*",
      "${local.rds_arn_prefix}:pg:${local.tier_prefix}-*",
      "arn:${local.partition}:application-autoscaling:${local.region}:${local.account_id}:scalable-target/*",
    ]

    condition {
      test     = "Null"
      variable = "aws:RequestTag/event-tier:event"
      values   = ["false"]
    }
  }

  statement {
    sid = "CreateTaggedTierDmsResources"
    # DMS names no resource on these creates (the ARNs are random ids): "*" with the tag condition.
    actions   = ["dms:CreateReplicationInstance", "dms:CreateReplicationSubnetGroup", "dms:CreateEndpoint"]
    resources = ["*"]

    condition {
      test     = "Null"
      variable = "aws:RequestTag/event-tier:event"
      values   = ["false"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [local.region]
    }
  }

  statement {
    sid = "CreateTaggedTierDmsTasks"
    # Checked on the replication instance and the endpoints the task joins.
    actions   = ["dms:CreateReplicationTask"]
    resources = ["${local.dms_arn_prefix}:rep:*", "${local.dms_arn_prefix}:endpoint:*"]

    condition {
      test     = "Null"
      variable = "aws:RequestTag/event-tier:event"
      values   = ["false"]
    }
  }

  statement {
    sid = "TagTierResourcesAtCreation"
    # Tags sent with a create are authorized as a tagging action too.
    actions   = ["ecs:TagResource"]
    resources = [local.tier_tagged_arns[0]]

    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["CreateCluster", "CreateService", "RegisterTaskDefinition"]
    }
  }

  statement {
    sid       = "TagTierLoadBalancingAtCreation"
    actions   = ["elasticloadbalancing:AddTags"]
    resources = [local.tier_tagged_arns[1]]

    condition {
      test     = "StringEquals"
      variable = "elasticloadbalancing:CreateAction"
      values   = ["CreateLoadBalancer", "CreateTargetGroup", "CreateListener"]
    }
  }

  statement {
    sid = "TagTierResourcesWithTheEventTag"
    # Tag-on-create (RDS, DMS, Application Auto Scaling check the tagging action with the create) and
    # tag updates that carry the event tag.
    actions = [
      "rds:AddTagsToResource",
      "dms:AddTagsToResource",
      "application-autoscaling:TagResource",
    ]
    resources = slice(local.tier_tagged_arns, 2, 5)

    condition {
      test     = "Null"
      variable = "aws:RequestTag/event-tier:event"
      values   = ["false"]
    }
  }

  statement {
    sid = "ChangeTaggedTierResources"
    actions = [
      "ecs:UpdateCluster",
      "ecs:UpdateClusterSettings",
      "ecs:DeleteCluster",
      "ecs:UpdateService",
      "ecs:DeleteService",
      "ecs:DeleteTaskDefinitions",
      "ecs:TagResource",
      "ecs:UntagResource",
      "elasticloadbalancing:ModifyLoadBalancerAttributes",
      "elasticloadbalancing:SetSecurityGroups",
      "elasticloadbalancing:SetSubnets",
      "elasticloadbalancing:DeleteLoadBalancer",
      "elasticloadbalancing:ModifyTargetGroup",
      "elasticloadbalancing:ModifyTargetGroupAttributes",
      "elasticloadbalancing:DeleteTargetGroup",
      "elasticloadbalancing:ModifyListener",
      "elasticloadbalancing:ModifyListenerAttributes",
      "elasticloadbalancing:DeleteListener",
      "elasticloadbalancing:AddTags",
      "elasticloadbalancing:RemoveTags",
      "rds:ModifyDBInstance",
      "rds:DeleteDBInstance",
      "rds:ModifyDBSubnetGroup",
      "rds:DeleteDBSubnetGroup",
      "rds:ModifyDBParameterGroup",
      "rds:ResetDBParameterGroup",
      "rds:DeleteDBParameterGroup",
      "rds:AddTagsToResource",
      "rds:RemoveTagsFromResource",
      "dms:ModifyReplicationInstance",
      "dms:DeleteReplicationInstance",
      "dms:DeleteReplicationSubnetGroup",
      "dms:ModifyEndpoint",
      "dms:DeleteEndpoint",
      "dms:ModifyReplicationTask",
      "dms:StartReplicationTask",
      "dms:StopReplicationTask",
      "dms:DeleteReplicationTask",
      "dms:AddTagsToResource",
      "dms:RemoveTagsFromResource",
      "application-autoscaling:RegisterScalableTarget",
      "application-autoscaling:DeregisterScalableTarget",
      "application-autoscaling:PutScalingPolicy",
      "application-autoscaling:DeleteScalingPolicy",
      "application-autoscaling:TagResource",
      "application-autoscaling:UntagResource",
    ]
    resources = local.tier_tagged_arns

    condition {
      test     = "Null"
      variable = "aws:ResourceTag/event-tier:event"
      values   = ["false"]
    }
  }

  statement {
    sid = "TierDatabasesUseTheDefaultOptionGroup"
    # CreateDBInstance and ModifyDBInstance are also checked on the option group, and a tier uses
    # RDS's own default one (default:postgres-16), which carries no tag of ours and cannot be changed.
    actions   = ["rds:CreateDBInstance", "rds:ModifyDBInstance"]
    resources = ["${local.rds_arn_prefix}:og:default:*"]
  }

  statement {
    sid = "TierFinalSnapshots"
    # The final snapshot that deleting a tier's database takes, named after it.
    actions   = ["rds:CreateDBSnapshot", "rds:AddTagsToResource"]
    resources = ["${local.rds_arn_prefix}:snapshot:${local.tier_prefix}-*", "${local.rds_arn_prefix}:db:${local.tier_prefix}-*"]
  }

  statement {
    sid = "TierSchedules"
    # Scheduler schedules carry no tags (IAM has no condition key on them): scoped by name, in the
    # default group the tiers use. The control plane's own groups are denied below as well.
    actions = [
      "scheduler:CreateSchedule",
      "scheduler:UpdateSchedule",
      "scheduler:DeleteSchedule",
      "scheduler:GetSchedule",
    ]
    resources = ["arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule/default/${local.tier_prefix}-*"]
  }

  statement {
    sid = "TierServicesUnscopable"
    # Actions these services authorize on "*" only (no resource type in the Service Authorization
    # Reference): reading, and two writes. infra/control/README.md lists them with the reason.
    actions = [
      "ecs:Describe*",
      "ecs:List*",
      "ecs:DeregisterTaskDefinition",
      "elasticloadbalancing:Describe*",
      "rds:Describe*",
      "rds:ListTagsForResource",
      "dms:Describe*",
      "dms:ListTagsForResource",
      "dms:ModifyReplicationSubnetGroup",
      "application-autoscaling:Describe*",
      "application-autoscaling:ListTagsForResource",
    ]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = [local.region]
    }
  }

}
