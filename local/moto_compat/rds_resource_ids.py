"""Gap: moto 5.2.5 gives every RDS DB instance the same DbiResourceId (`db-M5ENSHXFPU6XHZ4G4ZEI5QIO2U`).
The AWS provider (5.x) keeps an `aws_db_instance` under its resource ID and reads it back with the
`dbi-resource-id` filter: as soon as a second DB instance exists, that filter answers both, the provider
takes "too many results" for "not found", and an apply fails with
`reading RDS DB Instance (...): couldn't find resource` (or a plan forgets the instance).

Fix: each DB instance gets a resource ID of its own, shaped as RDS's (`db-` and 26 upper-case letters
and digits).
"""

import secrets
import string

from moto.rds import models

from ._common import check_version

_ALPHABET = string.ascii_uppercase + string.digits


def _resource_id():
    return "db-" + "".join(secrets.choice(_ALPHABET) for _ in range(26))


def apply():
    check_version(__name__)
    init = models.DBInstance.__init__

    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.dbi_resource_id = _resource_id()

    models.DBInstance.__init__ = __init__
