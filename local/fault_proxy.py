"""A fault-injecting HTTP proxy in front of moto, on 127.0.0.1: the AWS faults the local stack cannot
produce by itself (throttling, 5xx, a slow API), injected per service and action.

Every request is forwarded to the upstream (moto) unchanged, unless a rule matches it. A request's
service comes from its SigV4 credential scope, its action from `X-Amz-Target` (JSON protocols), the
`Action` form field (query protocols) or, for S3, from the method and path (PutObject, GetObject, ...).

    POST /_fault/rules   {"service": "ec2", "action": "RunInstances", "fault": "throttling",
                          "count": 2, "match": "runner-ssh-key", "delay": 0, "delay_response": 0}
        adds a rule: the next `count` matching requests (-1: all of them) get the fault instead of an
        answer. `fault`: "throttling" (the protocol's throttling error: ThrottlingException for JSON,
        RequestLimitExceeded for EC2, Throttling for other query services, SlowDown for S3), "500",
        "503", or "none" (forwarded; with `delay` seconds before forwarding and `delay_response`
        seconds after the upstream answered: a slow API). `code` overrides the error code. `match`,
        if set, must occur in the request's path or body. Omitted `service`/`action`: any.
    POST /_fault/reset   {} forgets every rule and counter
    GET  /_fault/counters
        {"ec2:RunInstances": {"requests": 3, "faulted": 2, "forwarded": 1}, ...}

    python3 local/fault_proxy.py --upstream http://127.0.0.1:5000 [--port 0]
        prints "listening on 127.0.0.1:<port>" once it accepts connections.

Standard library only; loopback only. Used by tests/tests/faults_aws.rs and faults_runner.rs.
"""

import argparse
import http.client
import json
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

rules = []  # each {"service", "action", "fault", "code", "count", "match", "delay", "delay_response"}
counters = {}  # "service:action" -> {"requests", "faulted", "forwarded"}
lock = threading.Lock()
upstream = ("127.0.0.1", 5000)

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
              "upgrade"}
JSON_SERVICES_QUERY = {"ec2"}  # query protocol with EC2's own error shape
CREDENTIAL = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


def service_of(headers):
    m = CREDENTIAL.search(headers.get("Authorization", ""))
    return m.group(1) if m else "unknown"


def action_of(service, method, path, headers, body):
    target = headers.get("X-Amz-Target")
    if target:
        return "json", target.rsplit(".", 1)[-1]
    ctype = headers.get("Content-Type", "")
    if "x-www-form-urlencoded" in ctype:
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        if "Action" in form:
            return "query", form["Action"][0]
    if service == "s3":
        parsed = urllib.parse.urlsplit(path)
        parts = [p for p in parsed.path.split("/") if p]
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        if len(parts) >= 2:
            name = {"GET": "GetObject", "PUT": "PutObject", "DELETE": "DeleteObject",
                    "HEAD": "HeadObject", "POST": "PostObject"}.get(method, method)
        elif "list-type" in query or method == "GET":
            name = "ListObjects"
        else:
            name = {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket"}.get(method, method)
        return "s3", name
    return "rest", f"{method} {urllib.parse.urlsplit(path).path}"


def fault_response(protocol, service, fault, code):
    """(status, headers, body) of an injected error, shaped as the protocol's own errors."""
    status = {"500": 500, "503": 503}.get(fault, 400)
    if protocol == "json":
        code = code or {"500": "InternalFailure", "503": "ServiceUnavailable"}.get(fault, "ThrottlingException")
        body = json.dumps({"__type": code, "message": f"injected by fault_proxy: {code}"}).encode()
        return status, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code}, body
    if protocol == "s3":
        status = {"500": 500}.get(fault, 503)
        code = code or {"500": "InternalError"}.get(fault, "SlowDown" if fault == "throttling" else "ServiceUnavailable")
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code>"
                f"<Message>injected by fault_proxy: {code}</Message><RequestId>fault</RequestId></Error>").encode()
        return status, {"Content-Type": "application/xml"}, body
    if service in JSON_SERVICES_QUERY:
        # EC2 throttles with 503 RequestLimitExceeded.
        if fault == "throttling":
            status = 503
        code = code or {"500": "InternalError", "503": "Unavailable"}.get(fault, "RequestLimitExceeded")
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code>"
                f"<Message>injected by fault_proxy: {code}</Message></Error></Errors>"
                f"<RequestID>fault</RequestID></Response>").encode()
        return status, {"Content-Type": "text/xml"}, body
    code = code or {"500": "InternalFailure", "503": "ServiceUnavailable"}.get(fault, "Throttling")
    kind = "Receiver" if fault in ("500", "503") else "Sender"
    body = (f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code>"
            f"<Message>injected by fault_proxy: {code}</Message></Error>"
            f"<RequestId>fault</RequestId></ErrorResponse>").encode()
    return status, {"Content-Type": "text/xml"}, body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep stderr quiet
        pass

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status, headers, body, length=None):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        # A HEAD answer says the length of what a GET would get.
        self.send_header("Content-Length", length if length is not None else str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _control(self, body):
        if self.path == "/_fault/counters" and self.command == "GET":
            with lock:
                data = json.dumps(counters).encode()
            return self._send(200, {"Content-Type": "application/json"}, data)
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            return self._send(400, {}, b"bad json")
        with lock:
            if self.path == "/_fault/rules" and self.command == "POST":
                rules.append({
                    "service": req.get("service"), "action": req.get("action"),
                    "fault": str(req.get("fault", "throttling")), "code": req.get("code"),
                    "count": int(req.get("count", -1)), "match": req.get("match"),
                    "delay": float(req.get("delay", 0)),
                    "delay_response": float(req.get("delay_response", 0)),
                })
            elif self.path == "/_fault/reset" and self.command == "POST":
                rules.clear()
                counters.clear()
            else:
                return self._send(404, {}, b"unknown control path")
        return self._send(200, {"Content-Type": "application/json"}, b"{}")

    def _handle(self):
        body = self._read_body()
        if self.path.startswith("/_fault/"):
            return self._control(body)
        service = service_of(self.headers)
        protocol, action = action_of(service, self.command, self.path, self.headers, body)
        key = f"{service}:{action}"
        rule = None
        with lock:
            c = counters.setdefault(key, {"requests": 0, "faulted": 0, "forwarded": 0})
            c["requests"] += 1
            for r in rules:
                if r["count"] == 0:
                    continue
                if r["service"] not in (None, service) or r["action"] not in (None, action):
                    continue
                if r["match"] and r["match"] not in self.path and r["match"].encode() not in body:
                    continue
                rule = r
                if r["count"] > 0:
                    r["count"] -= 1
                break
            faulted = rule is not None and rule["fault"] != "none"
            c["faulted" if faulted else "forwarded"] += 1
        if rule and rule["delay"]:
            time.sleep(rule["delay"])
        if faulted:
            return self._send(*fault_response(protocol, service, rule["fault"], rule["code"]))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection(*upstream, timeout=120)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            length = resp.getheader("Content-Length") if self.command == "HEAD" else None
            out = {k: v for k, v in resp.getheaders()
                   if k.lower() not in HOP_BY_HOP and k.lower() not in ("content-length", "server", "date")}
            status = resp.status
        finally:
            conn.close()
        if rule and rule["delay_response"]:
            time.sleep(rule["delay_response"])
        self._send(status, out, data, length)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle


def main():
    global upstream
    p = argparse.ArgumentParser()
    p.add_argument("--upstream", required=True, help="http://127.0.0.1:<moto port>")
    p.add_argument("--port", type=int, default=0)
    a = p.parse_args()
    u = urllib.parse.urlsplit(a.upstream)
    if u.hostname not in ("127.0.0.1", "localhost"):
        sys.exit("the upstream must be on loopback")
    upstream = (u.hostname, u.port or 80)
    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
