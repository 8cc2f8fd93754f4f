"""Gap: moto 5.2.5's server handles requests on many threads, but its backends are not thread-safe:
under the tests' parallel load an EC2 security group's default egress rule was once not found by the
RevokeSecurityGroupEgress that Terraform sends right after CreateSecurityGroup
(InvalidPermission.NotFound, a failed apply).

Fix: one request at a time through moto's WSGI application (each takes milliseconds; the provider's
waits are on the client side, so throughput is not what limits the tests).
"""

import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from ._common import check_version

_lock = threading.RLock()


def apply():
    check_version(__name__)
    call = DomainDispatcherApplication.__call__

    def __call__(self, environ, start_response):
        with _lock:
            # Materialise the response inside the lock: moto builds it in full anyway.
            return list(call(self, environ, start_response))

    DomainDispatcherApplication.__call__ = __call__
