# Set by the functions, never by a payload.

variable "event_id" {
  description = "The event this tier serves: lower-case letters, digits and '-', starting with a letter, at most 40 characters."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,39}$", var.event_id))
    error_message = "event_id must be lower-case letters, digits and '-', start with a letter, and be at most 40 characters."
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
}
