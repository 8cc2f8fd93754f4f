"""Gap: moto 5.2.5's DMS replication subnet groups forget their subnets: describe answers
`subnet-12345` in `us-east-1a` and `vpc-12345` (for the group, and inside every replication instance
that uses it), and their tags are stored under the group's name instead of its ARN, so
ListTagsForResource finds none. The AWS provider sees drift on every plan.

Fix: a group keeps its subnet ids (which must exist in EC2, as in DMS), answers their real VPC and
availability zones, and is tagged under its ARN (arn:...:dms:<region>:<account>:subgrp:<name>).
"""

from moto.dms import models
from moto.dms.exceptions import ResourceAlreadyExistsFault, ResourceNotFoundFault
from moto.ec2.models import ec2_backends
from moto.utilities.utils import get_partition

from ._common import check_version


def _arn(backend, name):
    return f"arn:{get_partition(backend.region_name)}:dms:{backend.region_name}:{backend.account_id}:subgrp:{name}"


def _subnets(backend, subnet_ids):
    ec2 = ec2_backends[backend.account_id][backend.region_name]
    found = []
    for sid in subnet_ids or []:
        subnet = ec2.get_subnet(sid)  # raises InvalidSubnetID.NotFound, as DMS refuses unknown subnets
        found.append((subnet.id, subnet.availability_zone, subnet.vpc_id))
    return found


def _group_dict(group):
    subnets = getattr(group, "compat_subnets", None) or []
    return {
        "ReplicationSubnetGroupIdentifier": group.replication_subnet_group_identifier,
        "ReplicationSubnetGroupDescription": group.description,
        "VpcId": subnets[0][2] if subnets else None,
        "SubnetGroupStatus": "Complete",
        "Subnets": [
            {"SubnetIdentifier": sid, "SubnetAvailabilityZone": {"Name": az}, "SubnetStatus": "Active"}
            for sid, az, _ in subnets
        ],
        "SupportedNetworkTypes": ["IPV4"],
    }


def apply():
    check_version(__name__)
    Backend = models.DatabaseMigrationServiceBackend
    instance_to_dict = models.FakeReplicationInstance.to_dict

    def create_replication_subnet_group(self, replication_subnet_group_identifier,
                                        replication_subnet_group_description, subnet_ids, tags=None):
        if replication_subnet_group_identifier in self.replication_subnet_groups:
            raise ResourceAlreadyExistsFault("The resource you are attempting to create already exists.")
        subnets = _subnets(self, subnet_ids)
        group = models.FakeReplicationSubnetGroup(
            replication_subnet_group_identifier=replication_subnet_group_identifier,
            replication_subnet_group_description=replication_subnet_group_description,
            subnetIds=[s[0] for s in subnets],
        )
        group.compat_subnets = subnets
        group.arn = _arn(self, replication_subnet_group_identifier)
        if tags:
            self.tagger.tag_resource(group.arn, tags)
        self.replication_subnet_groups[replication_subnet_group_identifier] = group
        return group

    def delete_replication_subnet_group(self, replication_subnet_group_identifier):
        group = self.replication_subnet_groups.pop(replication_subnet_group_identifier, None)
        if group is None:
            raise ResourceNotFoundFault("Replication subnet group could not be found.")
        self.tagger.delete_all_tags_for_resource(_arn(self, replication_subnet_group_identifier))
        return group

    def instance_dict(self):
        d = instance_to_dict(self)
        if self.replication_subnet_group_identifier:
            account = self.arn.split(":")[4]
            backend = models.dms_backends[account][self.region]
            group = backend.replication_subnet_groups.get(self.replication_subnet_group_identifier)
            if group is not None:
                d["ReplicationSubnetGroup"] = _group_dict(group)
        return d

    models.FakeReplicationSubnetGroup.to_dict = _group_dict
    models.FakeReplicationInstance.to_dict = instance_dict
    Backend.create_replication_subnet_group = create_replication_subnet_group
    Backend.delete_replication_subnet_group = delete_replication_subnet_group
