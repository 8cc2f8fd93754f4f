"""Signed samples of each Slack request kind, for `cargo lambda invoke event-slack --data-file`.

Each sample is what Lambda hands event-slack for a request to its function URL (the payload format
2.0 of function URLs), with the headers Slack sends: `X-Slack-Request-Timestamp` (now) and
`X-Slack-Signature`, `v0=` HMAC-SHA256 of `v0:<timestamp>:<body>` under the signing secret
(https://api.slack.com/authentication/verifying-requests-from-slack). The secret is the local
stack's, made at set-up (`make local-up`) and never committed; so are the samples (`.gitignore`).

A sample is good for five minutes (the app refuses an older timestamp) and once (a second delivery
is a replay): `make slack-samples` signs them again.

    python local/slack_samples.py [--secret-file F] [--out-dir D] [--event ID] [--user U]
"""

import argparse
import hashlib
import hmac
import json
import os
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET_FILE = ROOT / ".local" / "stack" / "slack-signing-secret"


def slash(event, user, text):
    return urllib.parse.urlencode({
        "command": "/event",
        "text": text.format(event=event),
        "user_id": user,
        "user_name": "local-operator",
        "channel_id": "C0LOCAL01",
        "response_url": "http://127.0.0.1:9/response",
    })


def button(event, user, action_id, value):
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "local-operator"},
        "channel": {"id": "C0LOCAL01"},
        "response_url": "http://127.0.0.1:9/response",
        "actions": [{"action_id": action_id, "type": "button", "value": value.format(event=event)}],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


# The request kinds: the slash commands, then the buttons our messages carry.
KINDS = {
    "status": lambda e, u: slash(e, u, "status {event}"),
    "extend": lambda e, u: slash(e, u, "extend {event} 1h"),
    "hold": lambda e, u: slash(e, u, "hold {event} 30m"),
    "release": lambda e, u: slash(e, u, "release {event}"),
    "stop-now": lambda e, u: slash(e, u, "stop-now {event}"),
    "button-extend": lambda e, u: button(e, u, "extend", "{event}:1h"),
    "button-hold": lambda e, u: button(e, u, "hold", "{event}"),
    "button-stop-now": lambda e, u: button(e, u, "stop-now", "{event}"),
    "button-retry-start": lambda e, u: button(e, u, "retry", "{event}:start"),
}


def envelope(body, secret, stamp):
    base = f"v0:{stamp}:{body}".encode()
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "version": "2.0",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {
            "content-type": "application/x-www-form-urlencoded",
            "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "x-slack-request-timestamp": str(stamp),
            "x-slack-signature": signature,
        },
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "local",
            "domainName": "local.lambda-url.us-east-1.on.aws",
            "domainPrefix": "local",
            "http": {"method": "POST", "path": "/", "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "Slackbot 1.0"},
            "requestId": f"local-{stamp}",
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(stamp)),
            "timeEpoch": stamp * 1000,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def write(secret_file=SECRET_FILE, out_dir=ROOT / "events", event="winter-sale-2026", user="U0LOCAL01"):
    """Signs every kind now and writes them to `out_dir`; returns the stamp."""
    if not secret_file.exists():
        raise SystemExit(f"{secret_file} is missing: `make local-up` makes the local signing secret")
    secret = secret_file.read_text().strip()
    stamp = int(time.time())
    out_dir.mkdir(parents=True, exist_ok=True)
    for kind, body in KINDS.items():
        path = out_dir / f"slack-{kind}.json"
        # Written owner-only: a signed request is a credential for five minutes.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(envelope(body(event, user), secret, stamp), f, indent=1)
            f.write("\n")
    return stamp


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--secret-file", type=Path, default=SECRET_FILE)
    p.add_argument("--out-dir", type=Path, default=ROOT / "events")
    p.add_argument("--event", default="winter-sale-2026")
    p.add_argument("--user", default="U0LOCAL01")
    a = p.parse_args()
    stamp = write(a.secret_file, a.out_dir, a.event, a.user)
    print(f"slack samples signed at {stamp} (good for 5 minutes, once each) in {a.out_dir}: "
          + ", ".join(f"slack-{k}.json" for k in KINDS))


if __name__ == "__main__":
    main()
