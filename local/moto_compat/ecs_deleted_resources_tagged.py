"""Gap: moto 5.2.5 keeps deleted ECS clusters and services (status INACTIVE) and the Resource Groups
Tagging API (GetResources) still lists them with their tags, so an event tier that was destroyed
cleanly looks as if its cluster and service were left behind. In ECS a deleted service or cluster is
gone (DescribeServices/DescribeClusters may show it INACTIVE for a while; it is not a resource of the
account any more).

Fix: GetResources skips INACTIVE ECS clusters and services. Deregistered task definitions are left
listed: in ECS they stay (INACTIVE, with their tags) until DeleteTaskDefinitions, so they are a real
leftover to handle.
"""

from moto.ecs import models

from ._common import check_version


def apply():
    check_version(__name__)
    Backend = models.EC2ContainerServiceBackend
    iterate = Backend.iter_tagged_resources

    def iter_tagged_resources(self):
        inactive = {s.physical_resource_id for s in self.services.values() if s.status == "INACTIVE"}
        inactive |= {c.arn for c in self.clusters.values() if c.status == "INACTIVE"}
        for resource in iterate(self):
            if resource.arn not in inactive:
                yield resource

    Backend.iter_tagged_resources = iter_tagged_resources
