"""A Lambda Runtime API on 127.0.0.1, enough to run a function's `bootstrap` as Lambda does: the
function asks for its next invocation, gets the event with its request id and deadline, and posts a
response or an error. Used by `make package` (does the binary start?) and `make bench`.

    api = RuntimeApi()
    proc = api.spawn(["./bootstrap"], env)   # AWS_LAMBDA_RUNTIME_API and Lambda's own variables set
    api.first_next(timeout=5)                # monotonic ns of the first GET .../invocation/next
    result = api.invoke({"event_id": "x"}, deadline_s=900)   # ("response"|"error", body)
    api.close()
"""

import http.server
import json
import os
import queue
import subprocess
import threading
import time
import uuid

PREFIX = "/2018-06-01/runtime"


class RuntimeApi:
    def __init__(self):
        self._events = queue.Queue()
        self._results = queue.Queue()
        self._next_calls = queue.Queue()
        self._closing = threading.Event()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, code, body=b"", headers=None):
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path != f"{PREFIX}/invocation/next":
                    return self._reply(404)
                api._next_calls.put(time.monotonic_ns())
                while not api._closing.is_set():
                    try:
                        request_id, payload, deadline_ms = api._events.get(timeout=0.1)
                    except queue.Empty:
                        continue
                    return self._reply(200, json.dumps(payload).encode(), {
                        "Content-Type": "application/json",
                        "Lambda-Runtime-Aws-Request-Id": request_id,
                        "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                        "Lambda-Runtime-Invoked-Function-Arn":
                            "arn:aws:lambda:us-east-1:123456789012:function:bench",
                        "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
                    })
                self.close_connection = True

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = self.path[len(PREFIX):].strip("/").split("/")
                if parts[:1] == ["init"]:
                    api._results.put(("init_error", body))
                elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                    api._results.put((parts[2], body))
                else:
                    return self._reply(404)
                self._reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a function process killed mid-request (the bench ends them so)

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def address(self):
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def spawn(self, argv, env, name="bench", **popen):
        """Starts a function process as Lambda would (memory 128 MB, our runtime API)."""
        env = dict(env)
        env.update({
            "AWS_LAMBDA_RUNTIME_API": self.address,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        })
        return subprocess.Popen(argv, env=env, **popen)

    def first_next(self, timeout):
        """When the function first asked for an invocation (time.monotonic_ns), or None."""
        try:
            return self._next_calls.get(timeout=timeout)
        except queue.Empty:
            return None

    def invoke(self, payload, deadline_s, timeout=None):
        """Hands the function one invocation and waits for its answer: (kind, parsed body)."""
        deadline_ms = int(time.time() * 1000 + deadline_s * 1000)
        self._events.put((str(uuid.uuid4()), payload, deadline_ms))
        try:
            kind, body = self._results.get(timeout=timeout or deadline_s + 60)
        except queue.Empty:
            return ("timeout", None)
        try:
            return (kind, json.loads(body))
        except ValueError:
            return (kind, body.decode(errors="replace"))

    def close(self):
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()


def stop(proc):
    """Ends a function process (never polled before: wait4 reaps it); its resource usage, whose
    ru_maxrss (KiB) is the process's peak RSS."""
    try:
        proc.kill()
    except ProcessLookupError:
        pass
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except ChildProcessError:
        # Already reaped (a process that exited on its own can be, by Popen's own bookkeeping):
        # its status stands, its usage is gone.
        proc.wait()
        return None
    proc.returncode = status
    return usage
