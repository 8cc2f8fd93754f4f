"""The event tiers' site behind their load balancers, on 127.0.0.1 (the local stack): what the
readiness check's GET reaches through `EVENT_TIER_READY_HTTP_ENDPOINT`. Moto's load balancers have
made-up DNS names that nothing answers, so the function sends its GET here with the load balancer's
name as `Host`, and this server answers for that host.

    GET <path>        200 "ok", or what was set for the request's Host
    POST /_site       {"host": "<load balancer DNS name>", "status": 503}  that host answers 503
                      {"host": "...", "status": null}                      200 again
                      {"host": "...", "delay": 3}                          answers after 3 s

Every GET is appended to a JSONL log as {"time", "host", "path", "status"}.
"""

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

hosts = {}  # host -> {"status": int|None, "delay": float}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    log_path = ""

    def log_message(self, fmt, *args):  # keep stderr quiet
        pass

    def _answer(self, status, text):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0]
        with lock:
            rule = dict(hosts.get(host, {}))
        if rule.get("delay"):
            time.sleep(rule["delay"])
        status = rule.get("status") or 200
        with lock, open(self.log_path, "a") as f:
            f.write(json.dumps({"time": time.time(), "host": host, "path": self.path,
                                "status": status}) + "\n")
        self._answer(status, "ok" if status < 400 else "unavailable")

    def do_POST(self):
        if self.path != "/_site":
            return self._answer(404, "no such path")
        n = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(n) or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("host"), str):
            return self._answer(400, 'give {"host": ..., "status": ...}')
        status, delay = body.get("status"), body.get("delay", 0)
        if status is not None and (not isinstance(status, int) or not 100 <= status <= 599):
            return self._answer(400, "status must be an HTTP status or null")
        with lock:
            hosts[body["host"]] = {"status": status, "delay": float(delay or 0)}
        self._answer(200, "set")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True)
    args = p.parse_args()
    Handler.log_path = args.log
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
