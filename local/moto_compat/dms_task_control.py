"""Extension (not an AWS API): lets tests drive a DMS replication task's state, since moto's tasks move
no data and never finish a load by themselves.

    POST /event-tier-compat/dms/replication-task
         {"arn": "arn:aws:dms:...:task:...", "status": "stopped" | "failed" | "running" | "ready",
          "stop_reason": "...", "last_failure_message": "..."}
    GET  /event-tier-compat/dms/replication-task?arn=...   (or ?id=<task identifier>&region=...)

POST sets the status and both fields (a field left out is cleared), as if a load had reached that
state. Both answer the task as {"arn", "id", "status", "stop_reason", "last_failure_message",
"start_type", "start_types"}: start_type is the StartReplicationTaskType of the task's last
StartReplicationTask, start_types all of them in order (DMS requires `start-replication` for a
full-load task's first run). 400 on a bad request, 404 for an unknown task. Documented in
local/EMULATOR-GAPS.md.
"""

import urllib.parse

from moto.core.utils import utcnow
from moto.dms import models

from ._common import arn_parts, check_version, json_body, mount

PATH = "/event-tier-compat/dms/replication-task"
STATUSES = ("stopped", "failed", "running", "ready")


def _find(arn=None, task_id=None, region=None):
    if arn:
        parts = arn_parts(arn)
        if parts is None or parts[1] != "dms":
            return None
        _, _, region, account, _ = parts
        try:
            return models.dms_backends[account][region].replication_tasks.get(arn)
        except KeyError:
            return None
    for account, regions in models.dms_backends.items():
        for reg, backend in regions.items():
            if region and reg != region:
                continue
            for task in backend.replication_tasks.values():
                if task.id == task_id:
                    return task
    return None


def _state(task):
    return {
        "arn": task.arn,
        "id": task.id,
        "status": task.status,
        "stop_reason": getattr(task, "stop_reason", None),
        "last_failure_message": getattr(task, "last_failure_message", None),
        "start_type": getattr(task, "compat_start_type", None),
        "start_types": list(getattr(task, "compat_start_types", [])),
    }


def _set(task, body):
    status = body["status"]
    task.status = status
    task.stop_reason = body.get("stop_reason")
    task.last_failure_message = body.get("last_failure_message")
    if status in ("running", "stopped", "failed") and task.start_date is None:
        task.start_date = utcnow()
    if status in ("stopped", "failed"):
        task.stop_date = utcnow()
    elif status == "running":
        task.stop_date = None


def handle(environ):
    """(status, body) of a request to the extension."""
    method = environ.get("REQUEST_METHOD", "GET")
    if method == "GET":
        q = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        arn, task_id = q.get("arn", [None])[0], q.get("id", [None])[0]
        if not arn and not task_id:
            return 400, {"error": "give ?arn=<task arn> or ?id=<task identifier>"}
        task = _find(arn, task_id, q.get("region", [None])[0])
        return (200, _state(task)) if task else (404, {"error": "no such replication task"})
    if method != "POST":
        return 405, {"error": "GET or POST"}
    body = json_body(environ)
    if not isinstance(body, dict):
        return 400, {"error": "the body must be a JSON object"}
    unknown = set(body) - {"arn", "status", "stop_reason", "last_failure_message"}
    if unknown:
        return 400, {"error": f"unknown fields: {sorted(unknown)}"}
    if not isinstance(body.get("arn"), str):
        return 400, {"error": "`arn` (string) is required"}
    if body.get("status") not in STATUSES:
        return 400, {"error": f"`status` must be one of {list(STATUSES)}"}
    for f in ("stop_reason", "last_failure_message"):
        if body.get(f) is not None and not isinstance(body[f], str):
            return 400, {"error": f"`{f}` must be a string"}
    task = _find(arn=body["arn"])
    if task is None:
        return 404, {"error": "no such replication task"}
    _set(task, body)
    return 200, _state(task)


def apply():
    check_version(__name__)
    mount(PATH, handle)
