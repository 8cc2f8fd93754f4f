"""Gap: moto 5.2.5 answers no description for a security group rule that references another security
group (DescribeSecurityGroupRules reads the description of CIDR rules only), although it keeps the one
it was given. The AWS provider's aws_vpc_security_group_ingress_rule / egress_rule with
`referenced_security_group_id` and a `description` plan `+ description` after every apply.

Fix: a rule's description is that of its CIDR range or, for a group reference, of the group pair.
"""

from moto.ec2.models import security_groups

from ._common import check_version


def apply():
    check_version(__name__)

    def description(self):
        return self.ip_range.get("Description") or (self.source_group or {}).get("Description")

    security_groups.SecurityGroupRule.description = property(description)
