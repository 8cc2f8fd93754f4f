# The public entry of the event: an application load balancer in the platform's public subnets.

resource "aws_lb" "this" {
  #checkov:skip=CKV_AWS_150:the tier is destroyed after the event; deletion protection would block the stop
  #checkov:skip=CKV_AWS_91:access logs need a log bucket that outlives the tier; the platform does not provide one yet
  #checkov:skip=CKV2_AWS_28:a WAF web ACL is a platform decision (infra/control), not per event
  #checkov:skip=CKV2_AWS_20:no certificate in the platform document yet, so no HTTPS listener to redirect to (see README)
  name                       = local.lb_name
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = local.platform.public_subnet_ids
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = false
  idle_timeout               = 60

  # An LCU reservation for the event (AWS's advice for "an upcoming event" with sudden high
  # traffic); it goes with the load balancer when the tier is destroyed.
  dynamic "minimum_load_balancer_capacity" {
    for_each = var.lb_capacity_units > 0 ? [var.lb_capacity_units] : []
    content {
      capacity_units = minimum_load_balancer_capacity.value
    }
  }
}

resource "aws_lb_target_group" "this" {
  #checkov:skip=CKV_AWS_378:TLS ends at the load balancer; the hop to the tasks stays inside the VPC, allowed only from the load balancer
  name                 = local.lb_name
  vpc_id               = local.platform.vpc_id
  target_type          = "ip"
  protocol             = "HTTP"
  port                 = local.platform.container_port
  deregistration_delay = 30

  health_check {
    path                = "/"
    matcher             = "200-399"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "http" {
  #checkov:skip=CKV_AWS_2:no certificate in the platform document yet; HTTPS (443 is open) needs one (see README)
  #checkov:skip=CKV_AWS_103:no TLS listener yet, see CKV_AWS_2
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }
}
