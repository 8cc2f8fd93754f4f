"""Gap: about once in 50 parallel applies of the event tier, moto 5.2.5 answered
`InvalidPermission.NotFound` to the `RevokeSecurityGroupEgress` that the AWS provider sends right after
`CreateSecurityGroup` to remove a new group's default "all traffic to 0.0.0.0/0" rule, and the apply
failed. A new VPC group always has that rule in AWS; in moto it was already gone (moto's backends are
not thread-safe, or a retried request had removed it: the cause was not pinned down).

Fix, as narrow as the symptom: a revoke whose every permission is an all-traffic rule to 0.0.0.0/0 or
::/0 of a VPC group that has no such rule succeeds, since the group is then as the caller wants it
(AWS answers a revoke of unknown rules without an error in a default VPC, too). Any other unknown rule
is still `InvalidPermission.NotFound`, so a wrong revoke in the project's Terraform still fails.
"""

import inspect

from moto.ec2.exceptions import InvalidPermissionNotFoundError
from moto.ec2.models.security_groups import SecurityGroupBackend

from ._common import check_version

_ANYWHERE = ({"CidrIp": "0.0.0.0/0"}, {"CidrIpv6": "::/0"})


def _is_default_egress(ip_protocol, ip_ranges, source_groups, prefix_list_ids, security_rule_ids):
    if str(ip_protocol) != "-1" or source_groups or prefix_list_ids or security_rule_ids:
        return False
    cidrs = [{k: v for k, v in r.items() if k in ("CidrIp", "CidrIpv6")} for r in ip_ranges or []]
    return bool(cidrs) and all(c in _ANYWHERE for c in cidrs)


def _has_default_egress(group):
    for rule in group.egress_rules:
        cidr = (rule.ip_range or {}).get("CidrIp") or (rule.ip_range or {}).get("CidrIpv6")
        if rule.ip_protocol == "-1" and cidr in ("0.0.0.0/0", "::/0"):
            return True
    return False


def apply():
    check_version(__name__)
    revoke = SecurityGroupBackend.revoke_security_group_egress
    signature = inspect.signature(revoke)

    def revoke_security_group_egress(self, *args, **kwargs):
        try:
            return revoke(self, *args, **kwargs)
        except InvalidPermissionNotFoundError:
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            a = bound.arguments
            group = self.get_security_group_by_name_or_id(a["group_name_or_id"], a["vpc_id"])
            if (
                group is not None
                and group.vpc_id
                and _is_default_egress(
                    a["ip_protocol"],
                    a["ip_ranges"],
                    a["source_groups"],
                    a["prefix_list_ids"],
                    a["security_rule_ids"],
                )
                and not _has_default_egress(group)
            ):
                return None
            raise

    SecurityGroupBackend.revoke_security_group_egress = revoke_security_group_egress
