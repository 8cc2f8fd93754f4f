"""Gap: moto 5.2.5's Service Quotas knows only the `vpc` quotas, answers them as defaults, and has no
GetAWSDefaultServiceQuota; its DMS has no DescribeAccountAttributes. The dress rehearsal reads the
quotas the event tier counts against (issue 13, part 3), so both would fail.

Fix, as AWS documents them:
- GetServiceQuota answers the applied value of a quota. Service Quotas documents that it answers
  NoSuchResourceException for a quota whose applied value is not available; AWS's default is then
  read with GetAWSDefaultServiceQuota
  (https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_GetServiceQuota.html,
  API_GetAWSDefaultServiceQuota.html). Here a quota is "applied" once a test set it.
- The defaults added, from each service's quotas page: `fargate` L-3032A538 "Fargate On-Demand vCPU
  resource count" 6 (Amazon ECS service quotas), `elasticloadbalancing` L-53DA6B97 "Application Load
  Balancers per Region" 50 (Elastic Load Balancing quotas), `rds` L-7B6409FD "DB instances" 40
  (Amazon RDS quotas); moto's own `vpc` list stays.
- DMS DescribeAccountAttributes answers `AccountQuotas` with `ReplicationInstances` (Used: the
  replication instances of the region, Max: 60, "Replication instances per user account" in the DMS
  quotas page) (https://docs.aws.amazon.com/dms/latest/APIReference/API_DescribeAccountAttributes.html).

Extension (not an AWS API, tests only): `POST /event-tier-compat/quotas` with
`{"service_code", "quota_code", "value"}` applies a value (null: back to not applied); for DMS,
`{"service_code": "dms", "quota_code": "ReplicationInstances", "value"}` sets its Max. 400 on a bad
request, 404 for an unknown quota. Documented in local/EMULATOR-GAPS.md.
"""

import copy
import json

from moto.dms import responses as dms_responses
from moto.dms.models import dms_backends
from moto.servicequotas import models, responses
from moto.servicequotas.exceptions import NoSuchResource

from ._common import check_version, json_body, mount

PATH = "/event-tier-compat/quotas"
DMS_MAX = {"ReplicationInstances": 60}

ADDED = [
    ("fargate", "AWS Fargate", "L-3032A538", "Fargate On-Demand vCPU resource count", 6.0),
    ("elasticloadbalancing", "Elastic Load Balancing (ELB)", "L-53DA6B97",
     "Application Load Balancers per Region", 50.0),
    ("rds", "Amazon Relational Database Service (Amazon RDS)", "L-7B6409FD", "DB instances", 40.0),
]

# (service_code, quota_code) -> applied value; DMS's own maximums by quota name.
APPLIED = {}
DMS_APPLIED = {}


def _defaults(service_code, region="us-east-1"):
    quotas = [q for q in models.VPC_DEFAULT_QUOTAS] if service_code == "vpc" else []
    for code, name, quota_code, quota_name, value in ADDED:
        if code == service_code:
            quotas.append({
                "Adjustable": True,
                "GlobalQuota": False,
                "QuotaArn": f"arn:aws:servicequotas:{region}::{code}/{quota_code}",
                "QuotaCode": quota_code,
                "QuotaName": quota_name,
                "ServiceCode": code,
                "ServiceName": name,
                "Unit": "None",
                "Value": value,
            })
    return quotas


def _default(service_code, quota_code):
    for q in _defaults(service_code):
        if q["QuotaCode"] == quota_code:
            return q
    return None


def _handle(environ):
    if environ["REQUEST_METHOD"] != "POST":
        return 405, {"error": "POST only"}
    body = json_body(environ)
    if not isinstance(body, dict) or not {"service_code", "quota_code", "value"} <= set(body):
        return 400, {"error": "expected {service_code, quota_code, value}"}
    value = body["value"]
    if value is not None and (not isinstance(value, (int, float)) or value < 0):
        return 400, {"error": "value must be a number >= 0 or null"}
    if body["service_code"] == "dms":
        if body["quota_code"] not in DMS_MAX:
            return 404, {"error": f"unknown DMS quota {body['quota_code']}"}
        DMS_APPLIED.pop(body["quota_code"], None)
        if value is not None:
            DMS_APPLIED[body["quota_code"]] = int(value)
        return 200, {"service_code": "dms", "quota_code": body["quota_code"], "value": value}
    key = (body["service_code"], body["quota_code"])
    if _default(*key) is None:
        return 404, {"error": f"unknown quota {key}"}
    APPLIED.pop(key, None)
    if value is not None:
        APPLIED[key] = float(value)
    return 200, {"service_code": key[0], "quota_code": key[1], "value": value}


def apply():
    check_version(__name__)

    def list_aws_default_service_quotas(self, service_code):
        quotas = _defaults(service_code, self.region_name)
        if not quotas:
            raise NoSuchResource
        return quotas

    def get_service_quota(self, service_code, quota_code):
        applied = APPLIED.get((service_code, quota_code))
        if applied is None:
            raise NoSuchResource
        quota = copy.deepcopy(_default(service_code, quota_code))
        quota["Value"] = applied
        return quota

    def get_aws_default_service_quota(self, service_code, quota_code):
        quota = _default(service_code, quota_code)
        if quota is None:
            raise NoSuchResource
        return copy.deepcopy(quota)

    models.ServiceQuotasBackend.list_aws_default_service_quotas = list_aws_default_service_quotas
    models.ServiceQuotasBackend.get_service_quota = get_service_quota
    models.ServiceQuotasBackend.get_aws_default_service_quota = get_aws_default_service_quota

    def get_aws_default_service_quota_response(self):
        params = json.loads(self.body)
        quota = self.backend.get_aws_default_service_quota(
            str(params.get("ServiceCode")), str(params.get("QuotaCode")))
        return json.dumps({"Quota": quota})

    responses.ServiceQuotasResponse.get_aws_default_service_quota = (
        get_aws_default_service_quota_response)

    def describe_account_attributes(self):
        backend = dms_backends[self.current_account][self.region]
        quotas = [{
            "AccountQuotaName": name,
            "Used": len(backend.replication_instances),
            "Max": DMS_APPLIED.get(name, default),
        } for name, default in DMS_MAX.items()]
        return json.dumps({"AccountQuotas": quotas})

    dms_responses.DatabaseMigrationServiceResponse.describe_account_attributes = (
        describe_account_attributes)
    mount(PATH, _handle)
