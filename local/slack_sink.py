"""A stand-in for Slack on 127.0.0.1: its incoming webhooks, and the Web API's chat.postMessage.

Every POST is appended to a JSONL file as {"time", "path", "status", "text", "body"}. The sink can be
told to fail or to answer slowly, for every post or only for posts whose text contains `match` (so
tests running at the same time don't disturb each other):

    POST /_sink/fail   {"status": 500, "count": 2, "match": "flash-1"}   the next 2 such posts get 500
                                                                          (count -1: until reset)
    POST /_sink/fail   {"error": "channel_not_found", "match": "x"}     chat.postMessage answers 200
                                                                          {"ok": false, "error": ...}
    POST /_sink/delay  {"seconds": 3, "match": "flash-1"}                 such posts wait 3 s
    POST /_sink/reset  {"match": "flash-1"}                               forget the rules for "flash-1"
                                                                          ({} forgets all)

POST <anything>/chat.postMessage answers as Slack's Web API does
(https://api.slack.com/methods/chat.postMessage): 200 with {"ok": true, "channel", "ts"}, or
{"ok": false, "error": "not_authed"} without a bearer token and "channel_not_found" without a
channel. Its record adds "ts", "thread_ts" and "token_sha256" (the token itself is never written).
"""

import argparse
import hashlib
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

rules = []  # each {"match": str, "status": int, "count": int, "delay": float, "error": str|None}
lock = threading.Lock()
messages = itertools.count(1)


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
                    error = body.get("error")
                    rules.append({"match": match, "status": 200 if error else int(body.get("status", 500)),
                                  "count": int(body.get("count", -1)), "delay": 0.0, "error": error})
                elif self.path == "/_sink/delay":
                    rules.append({"match": match, "status": 200, "count": -1,
                                  "delay": float(body.get("seconds", 0)), "error": None})
                elif self.path == "/_sink/reset":
                    rules[:] = [r for r in rules if match and r["match"] != match]
            return self._answer(200, "ok")
        text = body.get("text") if isinstance(body, dict) else None
        status, delay, error = 200, 0.0, None
        with lock:
            for r in rules:
                if r["count"] != 0 and r["match"] in (text or ""):
                    status, delay, error = r["status"], r["delay"], r["error"]
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
        api = self.path.endswith("/chat.postMessage")
        if api:
            auth = self.headers.get("Authorization", "")
            token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
            record["token_sha256"] = hashlib.sha256(token.encode()).hexdigest() if token else None
            record["thread_ts"] = body.get("thread_ts") if isinstance(body, dict) else None
            if not token:
                error = "not_authed"
            elif not (isinstance(body, dict) and body.get("channel")):
                error = "channel_not_found"
            if status == 200 and not error:
                record["ts"] = f"{int(time.time())}.{next(messages):06d}"
            record["error"] = error
        with lock, open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        if api and status == 200:
            answer = {"ok": False, "error": error} if error else {
                "ok": True, "channel": body["channel"], "ts": record["ts"]}
            return self._answer_json(answer)
        self._answer(status, "ok" if status == 200 else "invalid_payload")

    def _answer_json(self, value):
        data = json.dumps(value).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True)
    a = p.parse_args()
    Handler.log_path = a.log
    ThreadingHTTPServer(("127.0.0.1", a.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
