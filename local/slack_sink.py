"""A stand-in for Slack's incoming webhooks, on 127.0.0.1.

Every POST is appended to a JSONL file as {"time", "path", "status", "text", "body"}. The sink can be
told to fail or to answer slowly:

    POST /_sink/fail   {"status": 500, "count": 2}   the next 2 posts get 500 (count -1: until reset)
    POST /_sink/delay  {"seconds": 3}                every post waits 3 s before answering
    POST /_sink/reset  {}                             back to answering 200 at once
"""

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

state = {"fail_status": 0, "fail_count": 0, "delay": 0.0}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    log_path = ""

    def log_message(self, fmt, *args):  # keep stderr quiet
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return {"_raw": raw.decode("utf-8", "replace")}

    def _answer(self, status, text):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._answer(200, "slack sink")

    def do_POST(self):
        body = self._body()
        if self.path.startswith("/_sink/"):
            with lock:
                if self.path == "/_sink/fail":
                    state["fail_status"] = int(body.get("status", 500))
                    state["fail_count"] = int(body.get("count", -1))
                elif self.path == "/_sink/delay":
                    state["delay"] = float(body.get("seconds", 0))
                elif self.path == "/_sink/reset":
                    state.update(fail_status=0, fail_count=0, delay=0.0)
            return self._answer(200, "ok")
        with lock:
            delay = state["delay"]
            status = 200
            if state["fail_count"] != 0:
                status = state["fail_status"]
                if state["fail_count"] > 0:
                    state["fail_count"] -= 1
        if delay:
            time.sleep(delay)
        record = {
            "time": time.time(),
            "path": self.path,
            "status": status,
            "text": body.get("text") if isinstance(body, dict) else None,
            "body": body,
        }
        with lock, open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        self._answer(status, "ok" if status == 200 else "invalid_payload")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True)
    a = p.parse_args()
    Handler.log_path = a.log
    ThreadingHTTPServer(("127.0.0.1", a.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
