# The platform the tier runs in: network, image, operations database. infra/control owns it and writes it
# to one SSM String parameter as a JSON object; it is not a payload variable (see README).

data "aws_ssm_parameter" "platform" {
  name = "/event-tier/platform"

  lifecycle {
    postcondition {
      condition = (
        can(jsondecode(self.insecure_value)) &&
        length(setsubtract(toset(local.platform_keys), try(keys(jsondecode(self.insecure_value)), []))) == 0 &&
        length(setsubtract(try(keys(jsondecode(self.insecure_value)), []), toset(concat(local.platform_keys, ["observability"])))) == 0 &&
        can(tostring(jsondecode(self.insecure_value).vpc_id)) &&
        can(tolist(jsondecode(self.insecure_value).public_subnet_ids)) &&
        can(tolist(jsondecode(self.insecure_value).private_subnet_ids)) &&
        can(tostring(jsondecode(self.insecure_value).container_image)) &&
        can(tonumber(jsondecode(self.insecure_value).container_port)) &&
        can(tostring(jsondecode(self.insecure_value).ops_db_secret_arn)) &&
        can(tostring(jsondecode(self.insecure_value).ops_db_server_name)) &&
        can(tonumber(jsondecode(self.insecure_value).ops_db_port)) &&
        can(tostring(jsondecode(self.insecure_value).ops_db_name))
      )
      error_message = "SSM parameter /event-tier/platform must be a JSON object with exactly the keys ${join(", ", local.platform_keys)}, and optionally observability (strings, lists of subnet ids, and numbers for the ports)."
    }
    postcondition {
      condition = try(jsondecode(self.insecure_value).observability, null) == null || try(
        toset(keys(jsondecode(self.insecure_value).observability)) == toset(local.observability_keys) &&
        alltrue([for k in local.observability_keys : can(regex("^[^ ]+$", jsondecode(self.insecure_value).observability[k]))]),
        false
      )
      error_message = "The observability object of SSM parameter /event-tier/platform must have exactly the keys ${join(", ", local.observability_keys)}, each a non-empty string (ARNs and function names)."
    }
    postcondition {
      condition     = try(length(jsondecode(self.insecure_value).public_subnet_ids) >= 2 && length(jsondecode(self.insecure_value).private_subnet_ids) >= 2, false)
      error_message = "SSM parameter /event-tier/platform must list at least two public and two private subnets (in two availability zones): the load balancer, RDS and DMS need two."
    }
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_vpc" "platform" {
  id = local.platform.vpc_id
}

locals {
  platform_keys = [
    "container_image",
    "container_port",
    "ops_db_name",
    "ops_db_port",
    "ops_db_secret_arn",
    "ops_db_server_name",
    "private_subnet_ids",
    "public_subnet_ids",
    "vpc_id",
  ]
  platform = jsondecode(data.aws_ssm_parameter.platform.insecure_value)

  # What infra/control adds for the tiers' alarms, dashboard and log shipping (README, "Observability").
  # Optional, so that a platform document written before it still applies: then the tier's alarms go
  # to its topic with no one subscribed and its logs stay in CloudWatch Logs (check "observability").
  observability_keys = [
    "alarm_function_arn",
    "alarm_kms_key_arn",
    "log_delivery_role_arn",
    "log_delivery_stream_arn",
    "start_function_name",
    "stop_function_name",
  ]
  observability = try(local.platform.observability, null)

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # Names: every per-event resource carries the event id. Load balancer and target group names are
  # limited to 32 characters, so long event ids are shortened with a hash that keeps them distinct.
  name     = "event-tier-${var.event_id}"
  lb_name  = length(var.event_id) <= 29 ? "et-${var.event_id}" : "et-${substr(var.event_id, 0, 20)}-${substr(sha1(var.event_id), 0, 8)}"
  db_port  = 5432
  db_name  = "shop"
  db_user  = "event_admin"
  app_name = "app"

  # The target schema in the operations database: PostgreSQL identifiers take no '-'.
  target_schema = "event_${replace(var.event_id, "-", "_")}"
}

check "observability" {
  assert {
    condition     = local.observability != null
    error_message = "The platform document has no observability settings (infra/control publishes them): the tier's alarms reach no one and its logs are not shipped to S3."
  }
}
