# Capacity shaped to the event: scheduled scaling that raises the service's minimum at the opening
# and relaxes it after the declared peak, in the event's time zone. Target tracking (ecs.tf) still
# scales on CPU above the minimum. The ALB's LCU reservation is in alb.tf (minimum_load_balancer_capacity).
# https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scheduled-scaling.html

resource "aws_appautoscaling_scheduled_action" "opening" {
  count              = var.peak_min_count == null ? 0 : 1
  name               = "${local.name}-opening"
  service_namespace  = aws_appautoscaling_target.service.service_namespace
  resource_id        = aws_appautoscaling_target.service.resource_id
  scalable_dimension = aws_appautoscaling_target.service.scalable_dimension
  schedule           = "at(${var.opens_at})"
  timezone           = var.timezone

  scalable_target_action {
    min_capacity = var.peak_min_count
    max_capacity = var.max_count
  }
}

resource "aws_appautoscaling_scheduled_action" "after_peak" {
  count              = var.peak_ends_at == null ? 0 : 1
  name               = "${local.name}-after-peak"
  service_namespace  = aws_appautoscaling_target.service.service_namespace
  resource_id        = aws_appautoscaling_target.service.resource_id
  scalable_dimension = aws_appautoscaling_target.service.scalable_dimension
  schedule           = "at(${var.peak_ends_at})"
  timezone           = var.timezone

  scalable_target_action {
    min_capacity = var.desired_count
    max_capacity = var.max_count
  }
}
