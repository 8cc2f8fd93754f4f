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
