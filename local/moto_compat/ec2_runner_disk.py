"""Gap: on the local stack every runner "instance" moto launches is the one sshd on this machine, and
every instance of an event works in the same directory (`<EVENT_TIER_RUNNER_WORKDIR>/<event>`). On
AWS a runner's disk is gone once the instance is terminated (instance store and the root EBS
volume, DeleteOnTermination: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/terminating-instances.html):
the next runner of the event starts without what the last one wrote. Here the `retired` mark a
runner got before it was terminated (by a stop, or by the dress rehearsal that launched it) stayed,
and refused every later run of the event on its fresh runner.

Fix: when a runner instance (tags `event-tier:role = runner`, `event-tier:event = <event>`) is
terminated, its event's `retired` mark goes with it. Only that mark: the runs' directories stay
(a test may still read a run's log), as does the last-run pointer, which the functions treat as a
run of another runner. Needs EVENT_TIER_LOCAL_RUNNER_WORKDIR in moto's environment (local/stack.py).
"""

import os
import re

from moto.ec2.models import instances

from ._common import check_version

EVENT_ID = re.compile(r"^[a-z][a-z0-9-]{0,39}$")


def _forget_retired(instance):
    workdir = os.environ.get("EVENT_TIER_LOCAL_RUNNER_WORKDIR")
    if not workdir:
        return
    tags = {t["key"]: t["value"] for t in instance.get_tags()}
    event = tags.get("event-tier:event", "")
    if tags.get("event-tier:role") != "runner" or not EVENT_ID.match(event):
        return
    try:
        os.remove(os.path.join(workdir, event, "retired"))
    except FileNotFoundError:
        pass


def apply():
    check_version(__name__)
    terminate = instances.InstanceBackend.terminate_instances

    def terminate_instances(self, instance_ids):
        done = terminate(self, instance_ids)
        for instance, _ in done:
            _forget_retired(instance)
        return done

    instances.InstanceBackend.terminate_instances = terminate_instances
