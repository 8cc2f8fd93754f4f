"""Gaps: moto 5.2.5 runs no ECS tasks and tests no DMS connection, so nothing a tier's readiness
depends on behaves as in AWS:

- An ECS service's runningCount is one process-wide value (MOTO_ECS_SERVICE_RUNNING, 0 by default),
  so a new Fargate service never runs its tasks and its deployment stays IN_PROGRESS. In ECS the
  scheduler starts desiredCount tasks and the deployment's rolloutState becomes COMPLETED once they
  run (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html).
- ECS registers each running task of a service with a load balancer in the service's target group
  (by its IP for `awsvpc` tasks) and deregisters it when the task stops
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb.html): moto registers none, so
  DescribeTargetHealth answers no targets.
- TestConnection answers a connection that becomes `successful` at the next describe, and a second
  TestConnection of the same pair does not test again; nothing can fail, and DescribeConnections
  always answers an empty LastFailureMessage. In DMS each TestConnection starts a new test
  (https://docs.aws.amazon.com/dms/latest/APIReference/API_TestConnection.html).

Fix: a service's running count follows its desired count (its deployment COMPLETED) and that many
targets, with made-up IPs of the 10.99.0.0/16 range, stand registered in each target group of its
loadBalancers while it is ACTIVE (deregistered when it is deleted); each TestConnection tests again.

Extension (not an AWS API, tests only): `POST /event-tier-compat/readiness` with one of
    {"ecs_service": {"cluster": "...", "service": "...", "running": 1}}   (null: follow desiredCount)
    {"target_group": {"arn": "...", "state": "unhealthy", "reason": "Target.ResponseCodeMismatch"}}
    {"dms_endpoint": {"arn": "...", "status": "failed", "message": "..."}}   (null status: as moto)
    {"db_instance": {"id": "...", "status": "modifying"}}
makes that part of the tier not ready, as AWS would show it (state null: healthy again). 400 on a
bad request, 404 for an unknown resource. Documented in local/EMULATOR-GAPS.md.
"""

import hashlib

from moto.dms import models as dms
from moto.ecs import models as ecs
from moto.elbv2 import models as elbv2
from moto.rds import models as rds

from ._common import check_version, json_body, mount

PATH = "/event-tier-compat/readiness"
# Overrides set through the extension: (account, region, cluster, service) -> running count;
# target group ARN -> (state, reason); endpoint ARN -> (status, message).
RUNNING = {}
TARGET_HEALTH = {}
CONNECTIONS = {}


def _ips(service, n):
    """n made-up task IPs, the same for the same service."""
    h = int(hashlib.sha256(service.arn.encode()).hexdigest()[:4], 16)
    return [f"10.99.{h % 250}.{i + 10}" for i in range(n)]


def _sync(backend, service):
    """Running count, deployment and registered targets of one service, as ECS keeps them."""
    key = (backend.account_id, backend.region_name, service.cluster_name, service.name)
    active = service.status == "ACTIVE"
    running = RUNNING.get(key, service.desired_count) if active else 0
    service.running_count = running
    service.pending_count = max(service.desired_count - running, 0) if active else 0
    for d in service.deployments:
        if d.get("status") == "PRIMARY":
            done = running >= service.desired_count
            d["runningCount"], d["pendingCount"] = running, service.pending_count
            d["rolloutState"] = "COMPLETED" if done else "IN_PROGRESS"
            d["rolloutStateReason"] = (f"ECS deployment {d['id']} completed." if done
                                       else f"ECS deployment {d['id']} in progress.")
    lb_backend = elbv2.elbv2_backends[backend.account_id][backend.region_name]
    for lb in service.load_balancers:
        tg = lb_backend.target_groups.get(lb.get("targetGroupArn"))
        if tg is None:
            continue
        want = _ips(service, running)
        mine = set(_ips(service, max(service.desired_count, len(tg.targets), 64)))
        stale = [{"Id": t} for t in list(tg.targets) if t in mine and t not in want]
        if stale:
            tg.deregister(stale)
        tg.register([{"Id": ip, "Port": lb.get("containerPort", tg.port)} for ip in want
                     if ip not in tg.targets])


def _sync_all(account, region):
    backend = ecs.ecs_backends[account][region]
    for service in list(backend.services.values()):
        _sync(backend, service)


def _set(body):
    if len(body) != 1:
        return 400, {"error": "give exactly one of ecs_service, target_group, dms_endpoint, db_instance"}
    (kind, spec), = body.items()
    if not isinstance(spec, dict):
        return 400, {"error": f"`{kind}` must be an object"}
    if kind == "ecs_service":
        running = spec.get("running")
        if running is not None and (not isinstance(running, int) or running < 0):
            return 400, {"error": "`running` must be a whole number or null"}
        for account, regions in ecs.ecs_backends.items():
            for region, backend in regions.items():
                service = backend.services.get(f"{spec.get('cluster')}:{spec.get('service')}")
                if service is not None:
                    key = (account, region, service.cluster_name, service.name)
                    if running is None:
                        RUNNING.pop(key, None)
                    else:
                        RUNNING[key] = running
                    _sync(backend, service)
                    return 200, {"running": service.running_count, "desired": service.desired_count}
        return 404, {"error": "no such service"}
    if kind == "target_group":
        if not any(b.target_groups.get(spec.get("arn")) for r in elbv2.elbv2_backends.values()
                   for b in r.values()):
            return 404, {"error": "no such target group"}
        if spec.get("state") is None:
            TARGET_HEALTH.pop(spec["arn"], None)
        else:
            TARGET_HEALTH[spec["arn"]] = (spec["state"], spec.get("reason"))
        return 200, {"arn": spec["arn"], "state": spec.get("state")}
    if kind == "dms_endpoint":
        if not any(e.endpoint_arn == spec.get("arn") for r in dms.dms_backends.values()
                   for b in r.values() for e in b.endpoints.values()):
            return 404, {"error": "no such endpoint"}
        if spec.get("status") is None:
            CONNECTIONS.pop(spec["arn"], None)
        else:
            CONNECTIONS[spec["arn"]] = (spec["status"], spec.get("message") or "")
        return 200, {"arn": spec["arn"], "status": spec.get("status")}
    if kind == "db_instance":
        for regions in rds.rds_backends.values():
            for backend in regions.values():
                db = backend.databases.get(spec.get("id") or "")
                if db is not None:
                    db.status = spec.get("status") or "available"
                    return 200, {"id": db.db_instance_identifier, "status": db.status}
        return 404, {"error": "no such DB instance"}
    return 400, {"error": f"unknown kind `{kind}`"}


def handle(environ):
    """(status, body) of a request to the extension."""
    if environ.get("REQUEST_METHOD") != "POST":
        return 405, {"error": "POST"}
    req = json_body(environ)
    if not isinstance(req, dict):
        return 400, {"error": "the body must be a JSON object"}
    return _set(req)


def apply():
    check_version(__name__)
    Backend = ecs.EC2ContainerServiceBackend

    describe = Backend.describe_services

    def describe_services(self, cluster_str, names):
        _sync_all(self.account_id, self.region_name)
        return describe(self, cluster_str, names)

    Backend.describe_services = describe_services

    delete = Backend.delete_service

    def delete_service(self, cluster_name, service_name, force):
        service = delete(self, cluster_name, service_name, force)
        _sync(self, service)  # INACTIVE: its targets are deregistered
        return service

    Backend.delete_service = delete_service

    health = elbv2.ELBv2Backend.describe_target_health

    def describe_target_health(self, target_group_arn, targets):
        _sync_all(self.account_id, self.region_name)
        answer = health(self, target_group_arn, targets)
        override = TARGET_HEALTH.get(target_group_arn)
        if override:
            for h in answer:
                if h.status == "healthy":
                    h.status, h.reason = override
                    h.description = f"Health checks failed ({override[1] or override[0]})"
        return answer

    elbv2.ELBv2Backend.describe_target_health = describe_target_health

    test = dms.DatabaseMigrationServiceBackend.test_connection

    def test_connection(self, replication_instance_arn, endpoint_arn):
        # Each TestConnection is a new test: `testing` until the next describe answers its result.
        # (moto's own answers its first test only: a second one of the same pair fails on an
        # unbound variable.)
        for c in self.connections:
            if c.replication_instance_arn == replication_instance_arn and c.endpoint_arn == endpoint_arn:
                c.status = "testing"
                return c
        connection = test(self, replication_instance_arn, endpoint_arn)
        connection.status = "testing"
        return connection

    dms.DatabaseMigrationServiceBackend.test_connection = test_connection

    connections = dms.DatabaseMigrationServiceBackend.describe_connections

    def describe_connections(self, filters, max_records, marker):
        answer = connections(self, filters, max_records, marker)
        for c in answer:
            status, message = CONNECTIONS.get(c.endpoint_arn, (None, ""))
            c.compat_failure = message
            if status is not None:
                c.status = status
            elif c.status == "testing":
                c.status = "successful"  # a test finishes by the next describe, as moto's first does
        return answer

    dms.DatabaseMigrationServiceBackend.describe_connections = describe_connections

    to_dict = dms.FakeConnection.to_dict

    def connection_dict(self):
        d = to_dict(self)
        d["LastFailureMessage"] = getattr(self, "compat_failure", "")
        return d

    dms.FakeConnection.to_dict = connection_dict

    mount(PATH, handle)
