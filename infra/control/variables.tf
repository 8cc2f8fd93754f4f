# Where, and under which names.

variable "aws_region" {
  description = "Region of the control plane and of every event tier it brings up."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region name such as ap-northeast-2."
  }
}

variable "aws_endpoint_url" {
  description = "AWS endpoint of the local stack (moto), e.g. http://127.0.0.1:5000; null in AWS."
  type        = string
  default     = null

  validation {
    condition     = var.aws_endpoint_url == null || can(regex("^https?://", var.aws_endpoint_url))
    error_message = "aws_endpoint_url must be an http(s) URL, or null."
  }
}

variable "name" {
  description = "Prefix of every name this module gives: functions `<name>-start` and `<name>-stop`, roles `<name>-...`. It must not start with `event-tier`: that prefix belongs to the event tiers, and the runner may manage IAM roles named `event-tier-*`."
  type        = string
  default     = "event"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,19}$", var.name)) && !startswith(var.name, "event-tier")
    error_message = "name must be 1-20 lower-case letters, digits or '-', start with a letter, and not start with \"event-tier\"."
  }
}

variable "tags" {
  description = "Tags added to every resource (beside ManagedBy and event-tier:component)."
  type        = map(string)
  default     = {}
  nullable    = false
}

# The network (the shop's everyday VPC).

variable "vpc_id" {
  description = "VPC of the functions, the runners and the event tiers."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^vpc-[0-9a-f]{8,17}$", var.vpc_id))
    error_message = "vpc_id must look like vpc-0123456789abcdef0."
  }
}

variable "public_subnet_ids" {
  description = "Public subnets (two AZs at least) for the event tiers' load balancers; published in the platform parameter."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.public_subnet_ids) >= 2 && alltrue([for s in var.public_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "public_subnet_ids must hold two subnet ids (subnet-...) at least."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets (two AZs at least, with a NAT route to the AWS APIs and Slack): the functions run in them, the event tiers' tasks and databases too."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.private_subnet_ids) >= 2 && alltrue([for s in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "private_subnet_ids must hold two subnet ids (subnet-...) at least."
  }
}

variable "runner_subnet_ids" {
  description = "Subnets the runners may be launched in, in order of preference (one per zone: a launch refused for capacity in one tries the next); null: private_subnet_ids."
  type        = list(string)
  default     = null

  validation {
    condition = var.runner_subnet_ids == null ? true : (
      length(var.runner_subnet_ids) > 0 && length(distinct(var.runner_subnet_ids)) == length(var.runner_subnet_ids)
      && alltrue([for s in var.runner_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    )
    error_message = "runner_subnet_ids must hold distinct subnet ids such as subnet-0123456789abcdef0, one at least, or be null."
  }
}

# The functions.

variable "start_zip_path" {
  description = "Deployment package of event-start (a zip holding `bootstrap`), relative to the working directory."
  type        = string
  default     = "../../dist/event-start.zip"
  nullable    = false

  validation {
    condition     = fileexists(var.start_zip_path)
    error_message = "start_zip_path names no file: build the packages first (make package; docs/deploying.md)."
  }
}

variable "stop_zip_path" {
  description = "Deployment package of event-stop (a zip holding `bootstrap`), relative to the working directory."
  type        = string
  default     = "../../dist/event-stop.zip"
  nullable    = false

  validation {
    condition     = fileexists(var.stop_zip_path)
    error_message = "stop_zip_path names no file: build the packages first (make package; docs/deploying.md)."
  }
}

variable "alarm_zip_path" {
  description = "Deployment package of event-alarm (a zip holding `bootstrap`), relative to the working directory."
  type        = string
  default     = "../../dist/event-alarm.zip"
  nullable    = false

  validation {
    condition     = fileexists(var.alarm_zip_path)
    error_message = "alarm_zip_path names no file: build the packages first (make package; docs/deploying.md)."
  }
}

variable "function_memory_mb" {
  description = "Memory of each function, in MB."
  type        = number
  default     = 512
  nullable    = false

  validation {
    condition     = var.function_memory_mb >= 128 && var.function_memory_mb <= 10240 && floor(var.function_memory_mb) == var.function_memory_mb
    error_message = "function_memory_mb must be a whole number from 128 to 10240."
  }
}

variable "function_reserved_concurrency" {
  description = "Concurrent executions reserved for (and capping) each function; -1: none reserved, no cap."
  type        = number
  default     = 5
  nullable    = false

  validation {
    condition     = var.function_reserved_concurrency == -1 || (var.function_reserved_concurrency >= 1 && floor(var.function_reserved_concurrency) == var.function_reserved_concurrency)
    error_message = "function_reserved_concurrency must be -1 or a whole number of at least 1."
  }
}

variable "function_retry_attempts" {
  description = "Lambda's own retries of a failed asynchronous invocation (0-2); after the last, the event goes to the dead-letter queue."
  type        = number
  default     = 1
  nullable    = false

  validation {
    condition     = contains([0, 1, 2], var.function_retry_attempts)
    error_message = "function_retry_attempts must be 0, 1 or 2."
  }
}

variable "function_log_level" {
  description = "Lowest level of the functions' application logs that Lambda keeps (JSON logging)."
  type        = string
  default     = "INFO"
  nullable    = false

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.function_log_level)
    error_message = "function_log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  }
}

variable "log_retention_days" {
  description = "Retention of the functions' log groups, in days."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, ..., 365, ..., 3653)."
  }
}

variable "function_environment" {
  description = "Further settings of the functions listed in docs/configuration.md (e.g. EVENT_TIER_RUNNER_READY_TIMEOUT_SECS). The settings this module sets itself cannot be overridden here."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k in keys(var.function_environment) : can(regex("^EVENT_TIER_[A-Z0-9_]+$", k))])
    error_message = "function_environment keys must be EVENT_TIER_* settings."
  }
}

# The events.

variable "events" {
  description = <<-EOT
    The sales events to schedule, by event id (lower-case letters, digits and '-', starting with a
    letter, at most 40 characters). Each value is an object:
      start             = "2026-12-19T09:00:00" (local wall-clock time in `timezone`), or a
                          "cron(...)" expression when recurring
      end               = the same, for the stop
      timezone          = optional IANA time zone, default "UTC" (e.g. "Asia/Seoul")
      lead_time_minutes = optional: the start fires this long before `start` (dated events
                          only; a recurring event's cron expression says when). Default: the
                          lead time learned from this module's recorded runs (learned.tf), 30
                          before any run is recorded
      recurring         = optional, default false
      reminder_minutes  = optional, default 60: with slack_app, Slack is reminded this long before
                          the end, with buttons to extend, hold or stop now (0: no reminder;
                          dated events only)
      vars              = optional object of the event tier's variables (JSON scalars), default {}
      watchdogs         = optional, default true: the watchdogs at the opening and after the end
                          (watchdogs.tf; dated events only)
      rehearsal_days_before = optional, default var.rehearsal_days_before (2): the dress
                          rehearsal this many days before `start` (rehearsals.tf; 0: none; dated
                          events only)
    Typed `any` on purpose: a map(object({vars = map(any)})) makes Terraform convert the vars of
    every event to one common type, so `desired_count = 4` would reach the function as "4" as soon
    as another event sets a string. The shape is checked by the validations below.
  EOT
  type        = any
  default     = {}
  nullable    = false

  validation {
    condition     = can(keys(var.events)) && alltrue([for k in try(keys(var.events), []) : can(regex("^[a-z][a-z0-9-]{0,39}$", k))])
    error_message = "Each key of events must be an event id: lower-case letters, digits and '-', starting with a letter, at most 40 characters."
  }

  # As the functions and the event tier check it: RDS and DMS identifiers take no '--' and no trailing '-'.
  validation {
    condition     = alltrue([for k in try(keys(var.events), []) : !strcontains(k, "--") && !endswith(k, "-")])
    error_message = "An event id must not contain '--' or end with '-': the event tier's RDS and DMS identifiers are named after it."
  }

  validation {
    condition = try(alltrue([for k, e in var.events :
      length(setsubtract(keys(e), ["start", "end", "timezone", "lead_time_minutes", "recurring", "reminder_minutes", "vars", "watchdogs", "rehearsal_days_before"])) == 0 && can(tostring(e.start)) && can(tostring(e.end))
    ]), false)
    error_message = "Each event must be an object with start and end, and only timezone, lead_time_minutes, recurring, reminder_minutes, vars, watchdogs and rehearsal_days_before besides."
  }

  validation {
    condition = try(alltrue([for k, e in var.events :
      tonumber(try(e.rehearsal_days_before, 0)) >= 0 && tonumber(try(e.rehearsal_days_before, 0)) <= 30 && floor(tonumber(try(e.rehearsal_days_before, 0))) == tonumber(try(e.rehearsal_days_before, 0))
    ]), false)
    error_message = "An event's rehearsal_days_before must be a whole number from 0 (no rehearsal) to 30."
  }

  validation {
    condition = try(alltrue([for k, e in var.events :
      tonumber(try(e.reminder_minutes, 60)) >= 0 && tonumber(try(e.reminder_minutes, 60)) <= 1440 && floor(tonumber(try(e.reminder_minutes, 60))) == tonumber(try(e.reminder_minutes, 60))
    ]), false)
    error_message = "An event's reminder_minutes must be a whole number from 0 (no reminder) to 1440."
  }

  validation {
    condition = try(alltrue([for k, e in var.events :
      can(tobool(try(e.recurring, false))) && can(tobool(try(e.watchdogs, true))) && can(regex("^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$", try(e.timezone, "UTC")))
    ]), false)
    error_message = "An event's recurring and watchdogs must be bools and its timezone an IANA time zone name such as \"UTC\" or \"Asia/Seoul\"."
  }

  validation {
    condition = try(alltrue([for k, e in var.events :
      tobool(try(e.recurring, false)) ?
      can(regex("^cron\\(.+\\)$", e.start)) && can(regex("^cron\\(.+\\)$", e.end)) :
      can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$", e.start)) && can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$", e.end)) && timecmp("${e.start}Z", "${e.end}Z") < 0
    ]), false)
    error_message = "A dated event's start and end must be times like 2026-12-19T09:00:00 (wall clock in its timezone), end after start; a recurring event's must be cron(...) expressions."
  }

  validation {
    condition = try(alltrue([for k, e in var.events :
      tonumber(try(e.lead_time_minutes, 30)) >= 0 && tonumber(try(e.lead_time_minutes, 30)) <= 1440 && floor(tonumber(try(e.lead_time_minutes, 30))) == tonumber(try(e.lead_time_minutes, 30))
    ]), false)
    error_message = "An event's lead_time_minutes must be a whole number from 0 to 1440."
  }

  validation {
    condition = try(alltrue([for k, e in var.events :
      alltrue([for n, v in try(e.vars, {}) : can(regex("^[a-z][a-z0-9_]*$", n)) && v != null && can(tostring(v))])
    ]), false)
    error_message = "An event's vars must be an object of the event tier's variables (snake_case names) with scalar values (number, string or bool)."
  }
}

variable "rehearsal_days_before" {
  description = "How many days before an event's opening its dress rehearsal runs, unless the event sets its own rehearsal_days_before (0: none); rehearsals.tf."
  type        = number
  default     = 2
  nullable    = false

  validation {
    condition     = var.rehearsal_days_before >= 0 && var.rehearsal_days_before <= 30 && floor(var.rehearsal_days_before) == var.rehearsal_days_before
    error_message = "rehearsal_days_before must be a whole number from 0 (no rehearsals) to 30."
  }
}

variable "watchdog_grace_minutes" {
  description = "How long after an event's end (as moved from Slack) its watchdog expects it down: the stop's final migration, destroy and checks must fit in it (watchdogs.tf)."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.watchdog_grace_minutes >= 5 && var.watchdog_grace_minutes <= 1440 && floor(var.watchdog_grace_minutes) == var.watchdog_grace_minutes
    error_message = "watchdog_grace_minutes must be a whole number from 5 to 1440."
  }
}

variable "schedule_retry_attempts" {
  description = "How often EventBridge Scheduler retries delivering an invocation before it goes to the dead-letter queue."
  type        = number
  default     = 3
  nullable    = false

  validation {
    condition     = var.schedule_retry_attempts >= 0 && var.schedule_retry_attempts <= 185 && floor(var.schedule_retry_attempts) == var.schedule_retry_attempts
    error_message = "schedule_retry_attempts must be a whole number from 0 to 185."
  }
}

variable "schedule_max_event_age_seconds" {
  description = "How long EventBridge Scheduler keeps trying to deliver one invocation, in seconds."
  type        = number
  default     = 3600
  nullable    = false

  validation {
    condition     = var.schedule_max_event_age_seconds >= 60 && var.schedule_max_event_age_seconds <= 86400 && floor(var.schedule_max_event_age_seconds) == var.schedule_max_event_age_seconds
    error_message = "schedule_max_event_age_seconds must be a whole number from 60 to 86400."
  }
}

# The runner.

variable "runner_instance_types" {
  description = "EC2 instance types of the runners, in order of preference: each is tried in every runner subnet before the next (the functions may launch no other)."
  type        = list(string)
  default     = ["t3.small", "t3a.small"]
  nullable    = false

  validation {
    condition = length(var.runner_instance_types) > 0 && length(distinct(var.runner_instance_types)) == length(var.runner_instance_types) && alltrue([
      for t in var.runner_instance_types : can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", t))
    ])
    error_message = "runner_instance_types must hold distinct instance types such as t3.small, one at least."
  }
}

variable "runner_ami_parameter" {
  description = "SSM parameter naming the runners' AMI (Amazon Linux 2023: the runner's user data uses dnf)."
  type        = string
  default     = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
  nullable    = false

  validation {
    condition     = can(regex("^/[A-Za-z0-9_./-]+$", var.runner_ami_parameter))
    error_message = "runner_ami_parameter must be an SSM parameter name starting with '/'."
  }
}

variable "runner_public_key" {
  description = "Public half of the runners' SSH key (OpenSSH format). The private half goes into the runner key secret (docs/deploying.md)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( [^\\n]*)?$", trimspace(var.runner_public_key)))
    error_message = "runner_public_key must be an OpenSSH public key (ssh-ed25519 AAAA..., ssh-rsa AAAA... or ecdsa-sha2-...)."
  }
}

variable "runner_host_key_sha256" {
  description = "Fingerprint of the runners' SSH host key, `SHA256:...` as `ssh-keygen -lf` prints it; the key itself goes into the host key secret (docs/deploying.md)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^SHA256:[A-Za-z0-9+/]{43}$", var.runner_host_key_sha256))
    error_message = "runner_host_key_sha256 must be SHA256: followed by 43 base64 characters."
  }
}

# Secrets and state.

variable "slack_channel_id" {
  description = "Slack channel id (C0123ABCD) for a Slack bot: when set, a bot-token secret is made and event-start and event-stop post through chat.postMessage to this channel, one thread per event, instead of the webhook (event-alarm keeps the webhook). Null: the webhook only."
  type        = string
  default     = null

  validation {
    condition     = var.slack_channel_id == null || can(regex("^[CGD][A-Z0-9]{2,}$", var.slack_channel_id))
    error_message = "slack_channel_id must be a Slack channel id such as C0123ABCD (not the channel's name)."
  }
}

variable "slack_app" {
  description = "The Slack app (event-slack and its function URL): who may take each action (Slack user ids per action: extend, hold, release, stop-now, retry; status is open to the channel) and how far past its scheduled end an event may be taken (minutes, all extensions together). Null: no Slack app."
  type = object({
    allow                 = map(list(string))
    extension_cap_minutes = optional(number, 240)
  })
  default = null

  validation {
    condition = var.slack_app == null || alltrue([
      for action, ids in try(var.slack_app.allow, {}) :
      contains(["extend", "hold", "release", "stop-now", "retry"], action) && alltrue([for id in ids : can(regex("^[UW][A-Z0-9]{1,31}$", id))])
    ])
    error_message = "slack_app.allow maps extend, hold, release, stop-now or retry to Slack user ids such as U012AB3CD (ids, not names)."
  }

  validation {
    condition     = var.slack_app == null || try(var.slack_app.extension_cap_minutes >= 0 && var.slack_app.extension_cap_minutes <= 10080 && floor(var.slack_app.extension_cap_minutes) == var.slack_app.extension_cap_minutes, false)
    error_message = "slack_app.extension_cap_minutes must be a whole number of minutes from 0 to 10080 (seven days)."
  }
}

variable "slack_zip_path" {
  description = "Deployment package of event-slack (a zip holding `bootstrap`), relative to the working directory; used when slack_app is set."
  type        = string
  default     = "../../dist/event-slack.zip"

  validation {
    condition     = var.slack_app == null || fileexists(var.slack_zip_path)
    error_message = "slack_zip_path names no file: build the packages first (make package; docs/deploying.md)."
  }
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can be restored (0: deleted at once, 7-30)."
  type        = number
  default     = 7
  nullable    = false

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or from 7 to 30."
  }
}

variable "state_bucket_name" {
  description = "Name of the event tiers' Terraform state bucket; null: `<name>-tier-state-<account id>-<region>`."
  type        = string
  default     = null

  validation {
    condition     = var.state_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name))
    error_message = "state_bucket_name must be a valid S3 bucket name (3-63 lower-case letters, digits, '.' and '-')."
  }
}

variable "state_bucket_force_destroy" {
  description = "Let `terraform destroy` delete the state bucket with every event's state in it."
  type        = bool
  default     = false
  nullable    = false
}

variable "state_noncurrent_version_days" {
  description = "Days an overwritten or deleted state version is kept."
  type        = number
  default     = 90
  nullable    = false

  validation {
    condition     = var.state_noncurrent_version_days >= 1 && floor(var.state_noncurrent_version_days) == var.state_noncurrent_version_days
    error_message = "state_noncurrent_version_days must be a whole number of at least 1."
  }
}

# The platform the event tiers build on (published in an SSM parameter).

variable "platform_parameter_name" {
  description = "SSM parameter the event tiers read the platform from."
  type        = string
  default     = "/event-tier/platform"
  nullable    = false

  validation {
    condition     = can(regex("^/[A-Za-z0-9_./-]+$", var.platform_parameter_name))
    error_message = "platform_parameter_name must start with '/'."
  }
}

variable "container_image" {
  description = "Image of the shop's service that the event tiers run (registry/repository:tag or @digest)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._/:@-]*[a-z0-9A-Za-z]$", var.container_image)) && length(var.container_image) <= 255
    error_message = "container_image must be an image reference such as 123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/shop:1.2.3."
  }
}

variable "container_port" {
  description = "Port the shop's container listens on."
  type        = number
  default     = 8080
  nullable    = false

  validation {
    condition     = var.container_port >= 1 && var.container_port <= 65535 && floor(var.container_port) == var.container_port
    error_message = "container_port must be a port number (1-65535)."
  }
}

variable "ops_db_secret_arn" {
  description = "Secrets Manager secret with the operations database's credentials (the DMS target); the runners may read it."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.ops_db_secret_arn))
    error_message = "ops_db_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "ops_db_server_name" {
  description = "Host name of the operations database (PostgreSQL)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9.-]*$", var.ops_db_server_name))
    error_message = "ops_db_server_name must be a host name."
  }
}

variable "ops_db_port" {
  description = "Port of the operations database."
  type        = number
  default     = 5432
  nullable    = false

  validation {
    condition     = var.ops_db_port >= 1 && var.ops_db_port <= 65535 && floor(var.ops_db_port) == var.ops_db_port
    error_message = "ops_db_port must be a port number (1-65535)."
  }
}

variable "ops_db_name" {
  description = "Database name of the operations database."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_$]{0,62}$", var.ops_db_name))
    error_message = "ops_db_name must be a PostgreSQL database name."
  }
}

variable "create_dms_roles" {
  description = "Create the account-wide roles AWS DMS needs for the event tiers (`dms-vpc-role`, `dms-cloudwatch-logs-role`). Set false when the account has them already."
  type        = bool
  default     = true
  nullable    = false
}

# Alarms.

variable "alarm_topic_arn" {
  description = "Existing SNS topic for the alarms; null: the module creates one (`<name>-alarms`; subscribe to it). The watchdogs publish to it when Slack cannot be reached: an existing topic must be unencrypted or use the control plane's KMS key (output kms_key_arn), the only key event-alarm may use."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:.+$", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be an SNS topic ARN, or null."
  }
}

# The log archive (logs.tf).

variable "log_bucket_name" {
  description = "Name of the log archive bucket; null: `<name>-logs-<account id>-<region>`."
  type        = string
  default     = null

  validation {
    condition     = var.log_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.log_bucket_name))
    error_message = "log_bucket_name must be a valid S3 bucket name (3-63 lower-case letters, digits, '.' and '-')."
  }
}

variable "log_archive_days" {
  description = "Days the archived logs are kept in S3."
  type        = number
  default     = 400
  nullable    = false

  validation {
    condition     = var.log_archive_days >= 1 && floor(var.log_archive_days) == var.log_archive_days
    error_message = "log_archive_days must be a whole number of at least 1."
  }
}

variable "log_bucket_force_destroy" {
  description = "Let `terraform destroy` delete the log archive bucket with the archived logs in it."
  type        = bool
  default     = false
  nullable    = false
}

# The runners' artifacts (artifacts.tf).

variable "runner_artifacts_dir" {
  description = "Directory holding the runners' artifacts that `make artifacts` builds (`terraform_1.11.4_linux_amd64.zip`, `provider-mirror_linux_amd64.zip`), relative to the working directory."
  type        = string
  default     = "../../dist/artifacts"
  nullable    = false

  validation {
    condition = alltrue([
      for f in ["terraform_1.11.4_linux_amd64.zip", "provider-mirror_linux_amd64.zip"] :
      fileexists("${var.runner_artifacts_dir}/${f}")
    ])
    error_message = "runner_artifacts_dir lacks terraform_1.11.4_linux_amd64.zip or provider-mirror_linux_amd64.zip: build them first (make artifacts; docs/deploying.md)."
  }
}

variable "runner_artifacts_bucket_name" {
  description = "Name of the runner artifacts bucket; null: `<name>-runner-artifacts-<account>-<region>`."
  type        = string
  default     = null
}

variable "runner_artifacts_force_destroy" {
  description = "Let `terraform destroy` delete the artifacts bucket with its objects' old versions in it."
  type        = bool
  default     = false
  nullable    = false
}
