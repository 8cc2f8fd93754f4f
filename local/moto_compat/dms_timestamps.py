"""Gap: moto 5.2.5's DMS responses carry timestamps as ISO-8601 strings (InstanceCreateTime,
ReplicationTaskCreationDate, ReplicationTaskStartDate, the task statistics' dates). DMS speaks JSON 1.1,
where timestamps are numbers (seconds since the epoch); the AWS provider's Go SDK fails with
"expected TStamp to be a JSON Number".

Fix: the replication instance's and task's `to_dict` return those fields as numbers.
"""

from moto.dms import models

from ._common import check_version, epoch

INSTANCE_FIELDS = ("InstanceCreateTime", "FreeUntil")
TASK_FIELDS = ("ReplicationTaskCreationDate", "ReplicationTaskStartDate")
STATS_FIELDS = ("FreshStartDate", "StartDate", "StopDate", "FullLoadStartDate", "FullLoadFinishDate")


def _numbers(d, fields):
    for f in fields:
        if d.get(f) is not None:
            d[f] = epoch(d[f])


def apply():
    check_version(__name__)
    instance_to_dict = models.FakeReplicationInstance.to_dict
    task_to_dict = models.FakeReplicationTask.to_dict

    def instance(self):
        d = instance_to_dict(self)
        _numbers(d, INSTANCE_FIELDS)
        return d

    def task(self):
        d = task_to_dict(self)
        _numbers(d, TASK_FIELDS)
        if isinstance(d.get("ReplicationTaskStats"), dict):
            _numbers(d["ReplicationTaskStats"], STATS_FIELDS)
        return d

    models.FakeReplicationInstance.to_dict = instance
    models.FakeReplicationTask.to_dict = task
