# Least privilege: the functions' and the runner's policies are scoped by ARN and by the event tags;
# "*" only where AWS accepts nothing else (each such statement is listed here by its sid).

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

# Distinct ARNs for everything a policy names, so a policy naming the wrong one fails.
override_resource {
  target = aws_iam_role.runner
  values = { arn = "arn:aws:iam::123456789012:role/event-runner" }
}

override_resource {
  target = aws_iam_role.scheduler
  values = { arn = "arn:aws:iam::123456789012:role/event-scheduler" }
}

override_resource {
  target = aws_iam_role.start
  values = { arn = "arn:aws:iam::123456789012:role/event-start" }
}

override_resource {
  target = aws_iam_role.stop
  values = { arn = "arn:aws:iam::123456789012:role/event-stop" }
}

override_resource {
  target = aws_secretsmanager_secret.runner_ssh_key
  values = { arn = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:event/runner-ssh-key-20261201-AbCdEf" }
}

override_resource {
  target = aws_secretsmanager_secret.slack_webhook
  values = { arn = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:event/slack-webhook-20261201-GhIjKl" }
}

override_resource {
  target = aws_secretsmanager_secret.runner_host_key
  values = { arn = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:event/runner-host-key-20261201-MnOpQr" }
}

override_resource {
  target = aws_s3_bucket.state
  values = { arn = "arn:aws:s3:::event-tier-state-123456789012-ap-northeast-2" }
}

override_resource {
  target = aws_security_group.runner
  values = {
    id  = "sg-0aaaaaaaaaaaaaaa1"
    arn = "arn:aws:ec2:ap-northeast-2:123456789012:security-group/sg-0aaaaaaaaaaaaaaa1"
  }
}

run "functions_use_a_wildcard_resource_only_where_aws_accepts_nothing_else" {
  assert {
    condition = alltrue([
      for s in concat(
        data.aws_iam_policy_document.functions_common.statement,
        data.aws_iam_policy_document.start.statement,
        data.aws_iam_policy_document.stop.statement,
      ) : !contains(s.resources, "*") || contains(["VpcNetworkInterfaces", "XRay", "FindRunners", "FindTheReplicationTask", "FindLeftovers", "TierReadinessTargetsAndConnections"], s.sid)
    ])
    error_message = "a function statement outside the unscopable Describe/ENI/X-Ray/tagging ones uses \"*\""
  }
  assert {
    condition = alltrue([
      for s in concat(
        data.aws_iam_policy_document.functions_common.statement,
        data.aws_iam_policy_document.start.statement,
        data.aws_iam_policy_document.stop.statement,
      ) : !contains(s.resources, "*") || alltrue([for a in s.actions : can(regex("^(ec2:(Describe|CreateNetworkInterface|DeleteNetworkInterface|AssignPrivate|UnassignPrivate)|xray:Put|dms:Describe|elasticloadbalancing:Describe|tag:GetResources)", a))])
    ])
    error_message = "a \"*\" statement holds an action that could be scoped"
  }
  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.functions_common.statement : alltrue([for a in s.actions : !endswith(a, ":*")])])
    error_message = "the functions get no service-wide action"
  }
}

# Readiness (docs/readiness.md) is read-only: event-start looks at the tier, it changes nothing there
# but a DMS connection test, and only on the event tiers' own resources where AWS can scope it.
run "event_start_only_reads_the_tiers_readiness" {
  assert {
    condition = sort(flatten([
      for s in data.aws_iam_policy_document.tier_readiness.statement : s.actions if startswith(s.sid, "TierReadiness")
      ])) == sort([
      "dms:DescribeConnections", "dms:TestConnection", "ecs:DescribeServices",
      "elasticloadbalancing:DescribeTargetHealth", "rds:DescribeDBInstances", "scheduler:GetSchedule",
    ])
    error_message = "event-start's readiness statements hold exactly the six read or test actions"
  }
  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.tier_readiness.statement :
      alltrue([for r in s.resources : r == "*" || can(regex("event-tier-\\*|:endpoint:\\*$|:rep:\\*$", r))])
      if startswith(s.sid, "TierReadiness")
    ])
    error_message = "readiness reads only the event tiers' resources (event-tier-*) where AWS can scope it"
  }
  assert {
    condition     = length([for s in data.aws_iam_policy_document.stop.statement : s if startswith(s.sid, "TierReadiness")]) == 0
    error_message = "event-stop does not check readiness"
  }
  assert {
    condition     = data.aws_iam_policy_document.start.source_policy_documents[1] == data.aws_iam_policy_document.tier_readiness.json && length(data.aws_iam_policy_document.alarm_watchdogs.source_policy_documents) == 1 && data.aws_iam_policy_document.alarm_watchdogs.source_policy_documents[0] == data.aws_iam_policy_document.tier_readiness.json
    error_message = "event-start, and the watchdog at the opening, look at the checks with the same statements"
  }
}

# The watchdogs (event-alarm) look and page; they change nothing of a tier or a runner.
run "the_watchdogs_only_look_page_and_schedule_their_next_look" {
  assert {
    condition = sort(distinct(flatten([
      for s in data.aws_iam_policy_document.alarm_watchdogs.statement : s.actions if !startswith(s.sid, "TierReadiness")
      ]))) == sort([
      "ec2:DescribeInstances", "tag:GetResources", "s3:GetObject", "s3:ListBucket", "kms:Decrypt", "kms:GenerateDataKey",
      "sns:Publish", "scheduler:GetSchedule", "scheduler:CreateSchedule", "iam:PassRole",
    ])
    error_message = "the watchdogs' own actions are reads, a publish to the alarm topic and their one-off schedule"
  }
  assert {
    condition = flatten([
      for s in data.aws_iam_policy_document.alarm_watchdogs.statement : s.resources if contains(s.actions, "scheduler:CreateSchedule")
    ]) == ["arn:aws:scheduler:ap-northeast-2:123456789012:schedule/event-follow-ups/event-tier-wdg-*"]
    error_message = "the one schedule it may make is its own next look (event-tier-wdg-*)"
  }
  assert {
    condition = flatten([
      for s in data.aws_iam_policy_document.alarm_watchdogs.statement : s.resources if contains(s.actions, "s3:GetObject")
    ]) == ["arn:aws:s3:::event-tier-state-123456789012-ap-northeast-2/events/*"]
    error_message = "it reads the event records, and writes none"
  }
  assert {
    condition     = length([for s in data.aws_iam_policy_document.alarm_watchdogs.statement : s if contains(s.actions, "secretsmanager:GetSecretValue")]) == 0
    error_message = "no secret beyond the webhook's (event_alarm.tf)"
  }
}

run "runners_are_launched_only_tagged_as_runners_imdsv2_encrypted_of_the_configured_type" {
  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.functions_common.statement :
      anytrue([for c in s.condition : c.test == "StringEquals" && c.variable == "aws:RequestTag/event-tier:role" && join(",", c.values) == "runner"])
      if contains(s.actions, "ec2:RunInstances") && anytrue([for r in s.resources : endswith(r, ":instance/*") || endswith(r, ":volume/*")])
    ])
    error_message = "every RunInstances statement on instances or volumes must require the tag event-tier:role = runner"
  }
  assert {
    condition = [
      for s in data.aws_iam_policy_document.functions_common.statement : {
        for c in s.condition : c.variable => join(",", c.values)
      } if s.sid == "LaunchRunnerInstances"
      ][0] == {
      "aws:RequestTag/event-tier:role"  = "runner"
      "aws:RequestTag/event-tier:event" = "false"
      "ec2:InstanceType"                = "t3.small,t3a.small"
      "ec2:MetadataHttpTokens"          = "required"
    }
    error_message = "an instance must carry both event tags, be one of the runner instance types and require IMDSv2"
  }
  assert {
    condition = [
      for s in data.aws_iam_policy_document.functions_common.statement : toset(s.resources) if s.sid == "LaunchIntoTheRunnerNetwork"
      ][0] == toset([
        "arn:aws:ec2:ap-northeast-2:123456789012:subnet/subnet-0b000000000000001",
        "arn:aws:ec2:ap-northeast-2:123456789012:subnet/subnet-0b000000000000002",
        "arn:aws:ec2:ap-northeast-2:123456789012:security-group/sg-0aaaaaaaaaaaaaaa1",
        "arn:aws:ec2:ap-northeast-2:123456789012:network-interface/*",
        "arn:aws:ec2:ap-northeast-2:123456789012:key-pair/event-runner",
    ])
    error_message = "runners launch only into the runner subnets (by default every private subnet) and security group, with the runner key pair"
  }
  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.functions_common.statement :
      anytrue([for c in s.condition : c.variable == "ec2:CreateAction" && join(",", c.values) == "RunInstances"])
      if contains(s.actions, "ec2:CreateTags")
    ])
    error_message = "the functions may tag only what they launch"
  }
}

run "pass_role_is_limited_to_the_runner_role_for_ec2_and_the_scheduler_role_for_scheduler" {
  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.functions_common.statement : s.resources if contains(s.actions, "iam:PassRole")
    ])) == toset(["arn:aws:iam::123456789012:role/event-runner", "arn:aws:iam::123456789012:role/event-scheduler"])
    error_message = "iam:PassRole must name the runner role and the scheduler role only"
  }
  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.functions_common.statement :
      length(s.resources) == 1 && anytrue([for c in s.condition : c.variable == "iam:PassedToService" && join(",", c.values) == (one(s.resources) == "arn:aws:iam::123456789012:role/event-runner" ? "ec2.amazonaws.com" : "scheduler.amazonaws.com")])
      if contains(s.actions, "iam:PassRole")
    ])
    error_message = "the runner role may be passed to EC2 only, the scheduler role to Scheduler only"
  }
}

run "the_functions_terminate_only_runners" {
  assert {
    condition = [
      for s in concat(data.aws_iam_policy_document.functions_common.statement, data.aws_iam_policy_document.start.statement, data.aws_iam_policy_document.stop.statement) : {
        resources = join(",", s.resources)
        condition = join(";", [for c in s.condition : "${c.test} ${c.variable} ${join(",", c.values)}"])
      } if contains(s.actions, "ec2:TerminateInstances")
      ] == [{
        resources = "arn:aws:ec2:ap-northeast-2:123456789012:instance/*"
        condition = "StringEquals aws:ResourceTag/event-tier:role runner"
    }]
    error_message = "event-start and event-stop may terminate only instances tagged event-tier:role = runner"
  }
  assert {
    condition = alltrue([
      for d in [data.aws_iam_policy_document.start, data.aws_iam_policy_document.stop] :
      d.source_policy_documents[0] == data.aws_iam_policy_document.functions_common.json
    ])
    error_message = "both functions terminate runners (functions_common): event-stop after the destroy, event-start one that never became usable"
  }
  assert {
    condition     = data.aws_iam_policy_document.alarm.source_policy_documents == null && length(flatten([for d in [data.aws_iam_policy_document.alarm, data.aws_iam_policy_document.alarm_watchdogs] : [for s in d.statement : s if contains(s.actions, "ec2:TerminateInstances")]])) == 0
    error_message = "event-alarm (alarms and watchdogs) terminates nothing"
  }
}

run "secrets_s3_and_ssm_are_scoped_to_their_own_resources" {
  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.functions_common.statement : s.resources if contains(s.actions, "secretsmanager:GetSecretValue")
      ])) == toset([
      "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:event/runner-ssh-key-20261201-AbCdEf",
      "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:event/slack-webhook-20261201-GhIjKl",
    ])
    error_message = "the functions read the runner key and the webhook, not the host key"
  }
  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.functions_common.statement : s.resources if anytrue([for a in s.actions : startswith(a, "s3:")])
      ])) == toset([
      "arn:aws:s3:::event-tier-state-123456789012-ap-northeast-2/events/*",
      "arn:aws:s3:::event-tier-state-123456789012-ap-northeast-2",
    ])
    error_message = "S3: objects under events/ of the state bucket (and listing it, so a missing record is a 404)"
  }
  assert {
    condition = flatten([
      for s in data.aws_iam_policy_document.functions_common.statement : s.resources if contains(s.actions, "ssm:GetParameter")
    ]) == ["arn:aws:ssm:ap-northeast-2::parameter/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"]
    error_message = "ssm:GetParameter on the AMI parameter only"
  }
  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.functions_common.statement : s.resources if contains(s.actions, "scheduler:CreateSchedule")
    ])) == toset(["arn:aws:scheduler:ap-northeast-2:123456789012:schedule/event-follow-ups/event-tier-follow-*", "arn:aws:scheduler:ap-northeast-2:123456789012:schedule/event-follow-ups/event-tier-end-*"])
    error_message = "follow-up schedules and moved stops only in their own group"
  }
}

run "each_secret_value_is_readable_by_its_roles_only" {
  assert {
    condition     = join(",", one(data.aws_iam_policy_document.secret_readers["runner_host_key"].statement[0].condition).values) == "arn:aws:iam::123456789012:role/event-runner"
    error_message = "only the runner role may read the host key"
  }
  assert {
    condition     = toset(one(data.aws_iam_policy_document.secret_readers["runner_ssh_key"].statement[0].condition).values) == toset(["arn:aws:iam::123456789012:role/event-start", "arn:aws:iam::123456789012:role/event-stop"])
    error_message = "only the functions may read the runner's SSH key"
  }
  assert {
    condition     = alltrue([for d in data.aws_iam_policy_document.secret_readers : d.statement[0].effect == "Deny" && one(d.statement[0].condition).test == "StringNotEquals" && one(d.statement[0].condition).variable == "aws:PrincipalArn"])
    error_message = "everyone else is denied"
  }
}

run "runner_manages_only_event_tier_iam_secrets_logs_and_state" {
  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.runner.statement : [
        for r in s.resources : can(regex("^arn:aws:iam::123456789012:(role|policy)/event-tier-\\*$", r)) || r == "arn:aws:iam::123456789012:role/aws-service-role/*"
      ] if anytrue([for a in s.actions : startswith(a, "iam:")]) && s.sid != "PassTheLogDeliveryRole"
    ]))
    error_message = "the runner's IAM permissions must be limited to roles and policies named event-tier-*"
  }
  assert {
    condition = [for s in data.aws_iam_policy_document.runner.statement : {
      actions   = s.actions
      resources = s.resources
      condition = [for c in s.condition : "${c.test} ${c.variable}=${join(",", c.values)}"]
      } if s.sid == "PassTheLogDeliveryRole"] == [{
      actions   = toset(["iam:PassRole"])
      resources = toset([aws_iam_role.log_delivery.arn])
      condition = ["StringEquals iam:PassedToService=logs.amazonaws.com"]
    }]
    error_message = "beside event-tier-* roles, the runner may only pass the log delivery role, to CloudWatch Logs (the tiers' subscription filters)"
  }
  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.runner.statement : [
        for r in s.resources : can(regex("^arn:aws:(sns:ap-northeast-2:123456789012:event-tier-\\*|cloudwatch:ap-northeast-2:123456789012:alarm:event-tier-\\*|cloudwatch::123456789012:dashboard/event-tier-\\*)$", r))
      ] if anytrue([for a in s.actions : startswith(a, "sns:") || (startswith(a, "cloudwatch:") && a != "cloudwatch:DescribeAlarms")]) && s.sid != "TierAlarmSubscriptions"
    ]))
    error_message = "the runner's SNS and CloudWatch writes are limited to topics, alarms and dashboards named event-tier-*"
  }
  assert {
    condition = [
      for s in data.aws_iam_policy_document.runner.statement : toset(s.actions) if s.sid == "TierAlarmSubscriptions"
    ] == [toset(["sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:Unsubscribe"])]
    error_message = "only the subscription actions that accept \"*\" alone are outside the event-tier-* topics"
  }
  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.runner.statement : [
        for r in s.resources : can(regex("^arn:aws:logs:ap-northeast-2:123456789012:log-group:(/event-tier/\\*|/aws/rds/instance/event-tier-\\*|dms-tasks-event-tier-\\*)$", r))
      ] if s.sid == "TierLogShipping"
    ]))
    error_message = "the runner's subscription and metric filters are limited to the tiers' log groups"
  }
  assert {
    condition = alltrue([
      for r in [aws_iam_role.start.name, aws_iam_role.stop.name, aws_iam_role.runner.name, aws_iam_role.scheduler.name] : !startswith(r, "event-tier-")
    ])
    error_message = "no control-plane role may fall under the runner's event-tier-* IAM permissions"
  }
  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.runner.statement : [
        for r in s.resources : startswith(r, "arn:aws:s3:::event-tier-state-123456789012-ap-northeast-2")
      ] if anytrue([for a in s.actions : startswith(a, "s3:")]) && s.sid != "RunnerArtifacts"
    ]))
    error_message = "the runner's S3 permissions are the state bucket's, beside reading its artifacts (tests/artifacts.tftest.hcl)"
  }
  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.runner.statement :
      !contains(s.resources, "*") || contains(["RandomPasswords", "DescribeForTerraform", "TierAlarmSubscriptions"], s.sid)
    ])
    error_message = "a runner statement outside the listed ones uses \"*\""
  }
  assert {
    condition = alltrue([
      for s in concat(data.aws_iam_policy_document.runner.statement, data.aws_iam_policy_document.runner_tier_services.statement) :
      anytrue([for c in s.condition : c.variable == "aws:RequestedRegion" && join(",", c.values) == "ap-northeast-2"])
      if contains(s.resources, "*") && s.sid != "RandomPasswords" && s.sid != "DescribeForTerraform"
    ])
    error_message = "the runner's \"*\" statements for the tier's services hold in the control plane's region only"
  }
  assert {
    condition = length([
      for s in data.aws_iam_policy_document.runner.statement : s if s.effect == "Deny" && contains(s.actions, "scheduler:*")
    ]) == 1
    error_message = "the runner must not touch the control plane's schedules"
  }
}

run "the_control_plane_name_cannot_take_the_tiers_prefix" {
  command = plan

  variables {
    name = "event-tier"
  }

  expect_failures = [var.name]
}

# The runner's Terraform permissions for the tier's services (ECS, ELB, RDS, DMS, Application Auto
# Scaling): no service-wide action; creates need the event tag in the request, changes and deletes
# need it on the resource; "*" only for what AWS authorizes on "*" alone; schedules by name.
run "runner_tier_services_are_scoped_by_the_event_tag" {
  assert {
    condition = alltrue(flatten([
      for s in concat(data.aws_iam_policy_document.runner.statement, data.aws_iam_policy_document.runner_tier_services.statement) : [for a in s.actions : !endswith(a, ":*")] if s.effect != "Deny"
    ]))
    error_message = "the runner gets no service-wide action (ecs:*, rds:*, ...)"
  }
  assert {
    condition     = aws_iam_role_policy_attachment.runner_tier_services.role == aws_iam_role.runner.name && aws_iam_role_policy_attachment.runner_tier_services.policy_arn == aws_iam_policy.runner_tier_services.arn
    error_message = "the tier services policy is attached to the runner role"
  }
  assert {
    condition     = length([for s in data.aws_iam_policy_document.runner.statement : s if anytrue([for a in s.actions : can(regex("^(ecs|elasticloadbalancing|rds|dms|application-autoscaling|scheduler):", a))]) && s.effect != "Deny"]) == 0
    error_message = "the runner's inline policy holds none of the tier services (they are in runner_tier_services)"
  }
  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.runner_tier_services.statement :
      [for c in s.condition : "${c.test} ${c.variable}=${join(",", c.values)}" if c.variable == "aws:RequestTag/event-tier:event"] == ["Null aws:RequestTag/event-tier:event=false"]
      if anytrue([for a in s.actions : can(regex("^(ecs|elasticloadbalancing|rds|dms|application-autoscaling):(Create|Register)", a))]) && !contains(["TierDatabasesUseTheDefaultOptionGroup", "TierFinalSnapshots", "ChangeTaggedTierResources"], s.sid)
    ])
    error_message = "every create of a tier resource requires the event tag in the request (aws:RequestTag/event-tier:event)"
  }
  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.runner_tier_services.statement : [
        for a in s.actions :
        !can(regex("^(ecs|elasticloadbalancing|rds|dms|application-autoscaling):(Delete|Modify|Update|Deregister|Put|Set|Reboot|Reset|Start|Stop|Remove|Untag)", a)) ||
        s.sid == "ChangeTaggedTierResources" ||
        (s.sid == "TierDatabasesUseTheDefaultOptionGroup" && a == "rds:ModifyDBInstance") ||
        (s.sid == "TierServicesUnscopable" && contains(["dms:ModifyReplicationSubnetGroup", "ecs:DeregisterTaskDefinition"], a))
      ] if s.effect != "Deny"
    ]))
    error_message = "changes and deletes of tier resources are allowed only in ChangeTaggedTierResources (or on RDS's default option group, or the two writes AWS checks on \"*\" only)"
  }
  assert {
    condition = [
      for s in data.aws_iam_policy_document.runner_tier_services.statement : [for c in s.condition : "${c.test} ${c.variable}=${join(",", c.values)}"] if s.sid == "ChangeTaggedTierResources"
    ][0] == ["Null aws:ResourceTag/event-tier:event=false"]
    error_message = "changes and deletes require the event tag on the resource (aws:ResourceTag/event-tier:event)"
  }
  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.runner_tier_services.statement : [
        for r in s.resources : r == "*" || (contains(["arn:aws:ecs:ap-northeast-2:123456789012:*", "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:*", "arn:aws:rds:ap-northeast-2:123456789012:*", "arn:aws:dms:ap-northeast-2:123456789012:*", "arn:aws:application-autoscaling:ap-northeast-2:123456789012:*"], r) && length([for c in s.condition : c if contains(["aws:ResourceTag/event-tier:event", "aws:RequestTag/event-tier:event", "ecs:CreateAction", "elasticloadbalancing:CreateAction"], c.variable)]) > 0) || can(regex("^arn:aws:(ecs:ap-northeast-2:123456789012:(cluster|service|task-definition)/event-tier-|elasticloadbalancing:ap-northeast-2:123456789012:(loadbalancer/app|targetgroup|listener/app)/et-|rds:ap-northeast-2:123456789012:(db|subgrp|pg|snapshot):event-tier-|rds:ap-northeast-2:123456789012:og:default:|dms:ap-northeast-2:123456789012:(rep|subgrp|endpoint|task):|application-autoscaling:ap-northeast-2:123456789012:scalable-target/)", r))
      ] if anytrue([for a in s.actions : can(regex("^(ecs|elasticloadbalancing|rds|dms|application-autoscaling):", a))])
    ]))
    error_message = "tier service statements name this account and region, and either a tag condition or the tiers' name prefixes (event-tier-, et-) where the ARN holds a name"
  }
  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.runner_tier_services.statement : s.resources if s.effect != "Deny" && anytrue([for a in s.actions : startswith(a, "scheduler:")])
    ])) == toset(["arn:aws:scheduler:ap-northeast-2:123456789012:schedule/default/event-tier-*"])
    error_message = "schedules carry no tags: the runner may manage only schedules named event-tier-* in the default group"
  }
}
