"""A stand-in for Slack's incoming webhooks, on 127.0.0.1.

Every POST is appended to a JSONL file as {"time", "path", "status", "text", "body"}. The sink can be
told to fail or to answer slowly, for every post or only for posts whose text contains `match` (so
tests running at the same time don't disturb each other):

    POST /_sink/fail   {"status": 500, "count": 2, "match": "flash-1"}   the next 2 such posts get 500
                                                                          (count -1: until reset)
    POST /_sink/delay  {"seconds": 3, "match": "flash-1"}                 such posts wait 3 s
    POST /_sink/reset  {"match": "flash-1"}                               forget the rules for "flash-1"
                                                                          ({} forgets all)
"""

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

rules = []  # each {"match": str, "status": int, "count": int, "delay": float}
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
            match = str(body.get("match", ""))
            with lock:
                if self.path == "/_sink/fail":
                    rules.append({"match": match, "status": int(body.get("status", 500)),
                                  "count": int(body.get("count", -1)), "delay": 0.0})
                elif self.path == "/_sink/delay":
                    rules.append({"match": match, "status": 200, "count": -1,
                                  "delay": float(body.get("seconds", 0))})
                elif self.path == "/_sink/reset":
                    rules[:] = [r for r in rules if match and r["match"] != match]
            return self._answer(200, "ok")
        text = body.get("text") if isinstance(body, dict) else None
        status, delay = 200, 0.0
        with lock:
            for r in rules:
                if r["count"] != 0 and r["match"] in (text or ""):
                    status, delay = r["status"], r["delay"]
                    if r["count"] > 0:
                        r["count"] -= 1
                    break
        if delay:
            time.sleep(delay)
        record = {
            "time": time.time(),
            "path": self.path,
            "status": status,
            "text": text,
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
