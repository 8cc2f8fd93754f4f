"""Gap: moto 5.2.5's DMS replication tasks stay in `creating` forever (the AWS provider waits for
`ready` until its timeout); StartReplicationTask ignores StartReplicationTaskType; tasks report no
StopReason or LastFailureMessage.

Fix, as DMS behaves:
- a task is `creating` in the CreateReplicationTask answer and `ready` from the next describe on;
- StartReplicationTask refuses a task that is `creating`, `deleting`, `modifying`, `starting`, `running`
  or `stopping` (InvalidResourceStateFault); otherwise the task is `running`, and a new run clears the
  last stop reason and failure message;
- StopReplicationTask records the stop reason `Stop Reason STOPPED_BY_USER`;
- describe answers StopReason and LastFailureMessage when set.
The start types are recorded (the extension in dms_task_control.py shows them): DMS documents that a
full-load task's first run must be `start-replication`, any other type "will result in data errors",
which the emulator cannot show; tests assert on the recorded types instead. Loads never finish by
themselves (moto moves no data): tests drive a task's state through that extension.
"""

from moto.core.utils import utcnow
from moto.dms import models, responses
from moto.dms.exceptions import InvalidResourceStateFault

from ._common import check_version


def _init_extra(task):
    if not hasattr(task, "compat_start_types"):
        task.compat_start_type = None
        task.compat_start_types = []
        task.stop_reason = None
        task.last_failure_message = None


def start(task, start_type):
    """Starts a run of the task as DMS does; raises InvalidResourceStateFault where DMS does."""
    _init_extra(task)
    start_type = start_type or "start-replication"
    if task.status in ("creating", "deleting", "modifying"):
        raise InvalidResourceStateFault(
            f"Replication task {task.id} is in state {task.status} and cannot be started")
    if task.status in ("running", "starting", "stopping"):
        raise InvalidResourceStateFault(f"Replication task {task.id} is already {task.status}")
    task.status = "running"
    task.start_date = utcnow()
    task.stop_date = None
    task.stop_reason = None
    task.last_failure_message = None
    task.compat_start_type = start_type
    task.compat_start_types.append(start_type)
    return task


def apply():
    check_version(__name__)
    Task = models.FakeReplicationTask
    Backend = models.DatabaseMigrationServiceBackend
    init = Task.__init__
    to_dict = Task.to_dict
    describe = Backend.describe_replication_tasks

    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        _init_extra(self)

    def task_to_dict(self):
        _init_extra(self)
        d = to_dict(self)
        if self.stop_reason is not None:
            d["StopReason"] = self.stop_reason
        if self.last_failure_message is not None:
            d["LastFailureMessage"] = self.last_failure_message
        return d

    def stop(self):
        _init_extra(self)
        if self.status != "running":
            raise InvalidResourceStateFault("Replication task is not running")
        self.status = "stopped"
        self.stop_date = utcnow()
        self.stop_reason = "Stop Reason STOPPED_BY_USER"
        return self

    def describe_replication_tasks(self, filters, max_records):
        tasks = describe(self, filters, max_records)
        for t in tasks:
            if t.status == "creating":
                t.status = "ready"
        return tasks

    def start_replication_task(self, replication_task_arn, start_type=None):
        task = self.replication_tasks.get(replication_task_arn)
        if task is None:
            from moto.dms.exceptions import ResourceNotFoundFault
            raise ResourceNotFoundFault("Replication task could not be found.")
        return start(task, start_type)

    def response_start(self):
        import json
        task = self.dms_backend.start_replication_task(
            replication_task_arn=self._get_param("ReplicationTaskArn"),
            start_type=self._get_param("StartReplicationTaskType"),
        )
        return json.dumps({"ReplicationTask": task.to_dict()})

    Task.__init__ = __init__
    Task.to_dict = task_to_dict
    Task.stop = stop
    Backend.describe_replication_tasks = describe_replication_tasks
    Backend.start_replication_task = start_replication_task
    responses.DatabaseMigrationServiceResponse.start_replication_task = response_start
