# Set by the functions, never by a payload.

variable "event_id" {
  description = "The event this tier serves: lower-case letters, digits and '-', starting with a letter, at most 40 characters."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,39}$", var.event_id))
    error_message = "event_id must be lower-case letters, digits and '-', start with a letter, and be at most 40 characters."
  }

  # RDS and DMS identifiers (event-tier-<event_id>) take no '--' and no trailing '-'.
  validation {
    condition     = !strcontains(var.event_id, "--") && !endswith(var.event_id, "-")
    error_message = "event_id must not contain '--' or end with '-': RDS and DMS identifiers are named after it."
  }
}

variable "aws_region" {
  description = "Region the tier is created in."
  type        = string
  nullable    = false
}

variable "aws_endpoint_url" {
  description = "AWS endpoint of the local stack (moto); null in AWS."
  type        = string
  default     = null
}

# Settable from the start payload's `vars`.

variable "desired_count" {
  description = "ECS tasks running when the event starts (also the autoscaling minimum)."
  type        = number
  default     = 2
  nullable    = false

  validation {
    condition     = var.desired_count >= 1 && floor(var.desired_count) == var.desired_count
    error_message = "desired_count must be a whole number of at least 1."
  }
}

variable "max_count" {
  description = "Most ECS tasks autoscaling may run."
  type        = number
  default     = 10
  nullable    = false

  validation {
    condition     = var.max_count >= 1 && var.max_count <= 200 && floor(var.max_count) == var.max_count
    error_message = "max_count must be a whole number from 1 to 200."
  }

  validation {
    condition     = var.max_count >= var.desired_count
    error_message = "max_count must be at least desired_count."
  }
}

variable "task_cpu" {
  description = "CPU units of one ECS task (Fargate: 256, 512, 1024, 2048, 4096, 8192 or 16384)."
  type        = number
  default     = 512
  nullable    = false

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.task_cpu)
    error_message = "task_cpu must be one of Fargate's sizes: 256, 512, 1024, 2048, 4096, 8192, 16384."
  }
}

variable "task_memory" {
  description = "Memory of one ECS task in MiB; must be a size Fargate offers for task_cpu."
  type        = number
  default     = 1024
  nullable    = false

  validation {
    condition = contains(lookup({
      "256"   = [512, 1024, 2048]
      "512"   = range(1024, 4097, 1024)
      "1024"  = range(2048, 8193, 1024)
      "2048"  = range(4096, 16385, 1024)
      "4096"  = range(8192, 30721, 1024)
      "8192"  = range(16384, 61441, 4096)
      "16384" = range(32768, 122881, 8192)
    }, tostring(var.task_cpu), []), var.task_memory)
    error_message = "task_memory must be a memory size Fargate offers for task_cpu (for 512 CPU units: 1024 to 4096 in steps of 1024)."
  }
}

variable "cpu_target_percent" {
  description = "Average CPU utilisation of the service that autoscaling keeps (target tracking), in percent."
  type        = number
  default     = 60
  nullable    = false

  validation {
    condition     = var.cpu_target_percent >= 10 && var.cpu_target_percent <= 90
    error_message = "cpu_target_percent must be from 10 to 90."
  }
}

variable "db_instance_class" {
  description = "RDS instance class of the event database, e.g. db.m7g.large."
  type        = string
  default     = "db.t4g.large"
  nullable    = false

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.db_instance_class))
    error_message = "db_instance_class must look like db.<family>.<size>, e.g. db.m7g.large."
  }
}

variable "db_allocated_storage" {
  description = "Initial storage of the event database in GiB (storage autoscaling may grow it to four times this)."
  type        = number
  default     = 50
  nullable    = false

  validation {
    condition     = var.db_allocated_storage >= 20 && var.db_allocated_storage <= 16384 && floor(var.db_allocated_storage) == var.db_allocated_storage
    error_message = "db_allocated_storage must be a whole number of GiB from 20 to 16384."
  }
}

variable "db_multi_az" {
  description = "Whether the event database has a standby in a second availability zone."
  type        = bool
  default     = true
  nullable    = false
}

variable "dms_instance_class" {
  description = "DMS replication instance class, e.g. dms.t3.medium."
  type        = string
  default     = "dms.t3.medium"
  nullable    = false

  validation {
    condition     = can(regex("^dms\\.[a-z0-9]+\\.[a-z0-9]+$", var.dms_instance_class))
    error_message = "dms_instance_class must look like dms.<family>.<size>, e.g. dms.t3.medium."
  }
}

variable "db_connections_alarm" {
  description = "Connections to the event database above which the tier alarms (RDS PostgreSQL allows about memory / 9.5 MB: some 900 on db.t4g.large)."
  type        = number
  default     = 700
  nullable    = false

  validation {
    condition     = var.db_connections_alarm >= 1 && floor(var.db_connections_alarm) == var.db_connections_alarm
    error_message = "db_connections_alarm must be a whole number of at least 1."
  }
}

# Capacity shaped to the event (capacity.tf). All optional: unset, the tier scales on CPU alone.

variable "timezone" {
  description = "IANA time zone of opens_at and peak_ends_at (the event's own, as in infra/control's events map)."
  type        = string
  default     = "UTC"
  nullable    = false

  validation {
    condition     = can(regex("^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$", var.timezone))
    error_message = "timezone must be an IANA time zone name such as \"UTC\" or \"Asia/Seoul\"."
  }
}

variable "opens_at" {
  description = "The opening, wall clock in timezone (2026-12-19T09:00:00): the service's minimum rises to peak_min_count then. Null: no scheduled raise."
  type        = string
  default     = null

  validation {
    condition     = var.opens_at == null ? true : can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$", var.opens_at))
    error_message = "opens_at must be a wall-clock time such as 2026-12-19T09:00:00, or null."
  }
}

variable "peak_min_count" {
  description = "ECS tasks kept running at least from opens_at until peak_ends_at (between desired_count and max_count). Null: desired_count throughout."
  type        = number
  default     = null

  validation {
    condition     = var.peak_min_count == null ? true : floor(var.peak_min_count) == var.peak_min_count && var.peak_min_count >= var.desired_count && var.peak_min_count <= var.max_count
    error_message = "peak_min_count must be a whole number from desired_count to max_count, or null."
  }

  validation {
    condition     = var.peak_min_count == null || var.opens_at != null
    error_message = "peak_min_count needs opens_at: the minimum rises at the opening."
  }
}

variable "peak_ends_at" {
  description = "End of the declared peak, wall clock in timezone, after opens_at: the minimum relaxes back to desired_count then. Null: it stays at peak_min_count until the tier is destroyed."
  type        = string
  default     = null

  validation {
    condition     = var.peak_ends_at == null ? true : can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$", var.peak_ends_at))
    error_message = "peak_ends_at must be a wall-clock time such as 2026-12-19T12:00:00, or null."
  }

  validation {
    # Both are wall clock in one zone, of one fixed format: as 14-digit numbers they order as times.
    condition = var.peak_ends_at == null ? true : (var.peak_min_count == null || var.opens_at == null ? false : (
      can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$", var.opens_at)) && can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$", var.peak_ends_at))
      ? tonumber(replace(replace(replace(var.opens_at, "-", ""), "T", ""), ":", "")) < tonumber(replace(replace(replace(var.peak_ends_at, "-", ""), "T", ""), ":", ""))
      : false
    ))
    error_message = "peak_ends_at needs peak_min_count and opens_at, and must come after opens_at."
  }
}

variable "lb_capacity_units" {
  description = "Load balancer Capacity Units (LCU) reserved on the tier's ALB for the event: its capacity never drops below this while the tier lives; released with the tier. 0: no reservation (billed per reserved LCU-hour, see docs/operations.md)."
  type        = number
  default     = 0
  nullable    = false

  validation {
    condition     = var.lb_capacity_units >= 0 && floor(var.lb_capacity_units) == var.lb_capacity_units
    error_message = "lb_capacity_units must be a whole number, 0 for no reservation."
  }
}
