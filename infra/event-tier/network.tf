# Security groups: the load balancer is public on 80/443, the tasks take traffic only from it, the
# database only from the tasks and DMS. Rules are separate resources because the groups reference each
# other.

resource "aws_security_group" "alb" {
  name        = "${local.name}-alb"
  description = "Load balancer of event ${var.event_id}: HTTP and HTTPS from the internet"
  vpc_id      = local.platform.vpc_id
}

resource "aws_security_group" "service" {
  name        = "${local.name}-service"
  description = "ECS tasks of event ${var.event_id}: traffic from the load balancer only"
  vpc_id      = local.platform.vpc_id
}

resource "aws_security_group" "db" {
  name        = "${local.name}-db"
  description = "RDS of event ${var.event_id}: PostgreSQL from the tasks and DMS only"
  vpc_id      = local.platform.vpc_id
}

resource "aws_security_group" "dms" {
  name        = "${local.name}-dms"
  description = "DMS replication instance of event ${var.event_id}"
  vpc_id      = local.platform.vpc_id
}

# Load balancer.

resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  #checkov:skip=CKV_AWS_260:a public shop front: HTTP from the internet is the point of this load balancer
  security_group_id = aws_security_group.alb.id
  description       = "HTTP from the internet"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from the internet"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "alb_to_service" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the ECS tasks"
  ip_protocol                  = "tcp"
  from_port                    = local.platform.container_port
  to_port                      = local.platform.container_port
  referenced_security_group_id = aws_security_group.service.id
}

# ECS tasks.

resource "aws_vpc_security_group_ingress_rule" "service_from_alb" {
  security_group_id            = aws_security_group.service.id
  description                  = "From the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = local.platform.container_port
  to_port                      = local.platform.container_port
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_vpc_security_group_egress_rule" "service_https" {
  security_group_id = aws_security_group.service.id
  description       = "HTTPS to AWS APIs and the image registry (through the platform's NAT or VPC endpoints)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "service_to_db" {
  security_group_id            = aws_security_group.service.id
  description                  = "PostgreSQL to the event database"
  ip_protocol                  = "tcp"
  from_port                    = local.db_port
  to_port                      = local.db_port
  referenced_security_group_id = aws_security_group.db.id
}

# Database: ingress only, no egress rules.

resource "aws_vpc_security_group_ingress_rule" "db_from_service" {
  security_group_id            = aws_security_group.db.id
  description                  = "PostgreSQL from the ECS tasks"
  ip_protocol                  = "tcp"
  from_port                    = local.db_port
  to_port                      = local.db_port
  referenced_security_group_id = aws_security_group.service.id
}

resource "aws_vpc_security_group_ingress_rule" "db_from_dms" {
  security_group_id            = aws_security_group.db.id
  description                  = "PostgreSQL from DMS"
  ip_protocol                  = "tcp"
  from_port                    = local.db_port
  to_port                      = local.db_port
  referenced_security_group_id = aws_security_group.dms.id
}

# DMS: reads the event database, writes the operations database, fetches its secrets.

resource "aws_vpc_security_group_egress_rule" "dms_to_db" {
  security_group_id            = aws_security_group.dms.id
  description                  = "PostgreSQL to the event database"
  ip_protocol                  = "tcp"
  from_port                    = local.db_port
  to_port                      = local.db_port
  referenced_security_group_id = aws_security_group.db.id
}

resource "aws_vpc_security_group_egress_rule" "dms_to_ops_db" {
  security_group_id = aws_security_group.dms.id
  description       = "PostgreSQL to the operations database (inside the platform VPC)"
  ip_protocol       = "tcp"
  from_port         = local.platform.ops_db_port
  to_port           = local.platform.ops_db_port
  cidr_ipv4         = data.aws_vpc.platform.cidr_block
}

resource "aws_vpc_security_group_egress_rule" "dms_https" {
  security_group_id = aws_security_group.dms.id
  description       = "HTTPS to Secrets Manager (through the platform's NAT or VPC endpoints)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}
