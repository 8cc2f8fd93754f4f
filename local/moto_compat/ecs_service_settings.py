"""Gap: moto 5.2.5's ECS CreateService drops the settings it does not model, among them
availabilityZoneRebalancing, healthCheckGracePeriodSeconds, deploymentConfiguration (circuit breaker),
enableECSManagedTags and enableExecuteCommand: DescribeServices answers none of them, so the AWS
provider (5.100 sends availability_zone_rebalancing, default "DISABLED") shows a diff on every plan.

Fix: the service keeps every CreateService setting moto ignores and DescribeServices answers it;
availabilityZoneRebalancing defaults to ENABLED, as ECS does for a new service.
"""

from botocore import xform_name
from moto.ecs import responses

from ._common import check_version

HANDLED = {
    "cluster", "serviceName", "taskDefinition", "desiredCount", "loadBalancers", "schedulingStrategy",
    "serviceRegistries", "tags", "deploymentController", "launchType", "platformVersion",
    "propagateTags", "networkConfiguration", "role", "clientToken",
}


def apply():
    check_version(__name__)
    Response = responses.EC2ContainerServiceResponse
    create = Response.create_service

    def create_service(self):
        result = create(self)
        params = self._get_params()
        cluster = self.ecs_backend._get_cluster(self._get_param("cluster", "default"))
        service = self.ecs_backend.services[f"{cluster.name}:{self._get_param('serviceName')}"]
        settings = {k: v for k, v in params.items() if k not in HANDLED and v is not None}
        settings.setdefault("availabilityZoneRebalancing", "ENABLED")
        for key, value in settings.items():
            setattr(service, xform_name(key), value)
        return result

    Response.create_service = create_service
