"""Helpers shared by the compatibility modules (not a gap of its own: it has no `apply`)."""

import datetime

import moto

PINNED = "5.2.5"


def check_version(module_name):
    """Each module patches moto's internals as they are in the pinned version: refuse any other."""
    if moto.__version__ != PINNED:
        raise RuntimeError(f"{module_name} patches moto {PINNED}, found {moto.__version__}")


def epoch(value):
    """An ISO-8601 string or datetime as seconds since the epoch (what AWS JSON protocols send)."""
    if value is None or isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.timestamp()


def arn_parts(arn):
    """(partition, service, region, account, resource) of an ARN, or None."""
    parts = arn.split(":", 5) if isinstance(arn, str) else []
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return parts[1], parts[2], parts[3], parts[4], parts[5]
