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


def mount(path, handle):
    """Serves an extension of the compatibility layer (not an AWS API) at `path` in moto's server:
    `handle(environ)` answers (status, JSON body), under the server's lock."""
    import json

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    call = DomainDispatcherApplication.__call__
    reasons = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").rstrip("/") != path:
            return call(self, environ, start_response)
        with self.lock:
            status, body = handle(environ)
        data = json.dumps(body).encode()
        start_response(f"{status} {reasons[status]}", [("Content-Type", "application/json"),
                                                        ("Content-Length", str(len(data)))])
        return [data]

    DomainDispatcherApplication.__call__ = __call__


def json_body(environ):
    """The request's JSON body, or None when it is not JSON."""
    import json

    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        return json.loads(environ["wsgi.input"].read(length) or b"null")
    except (ValueError, KeyError):
        return None
