"""`make bench`: where the functions' time and memory go, measured on the packaged binaries (the
`bootstrap` in dist/*.zip, built by `make package`) under a local Lambda Runtime API, against the
local stack (run through local/with-stack.sh, which puts its settings in the environment).

Measures, prints as a table and writes to target/bench/bench.json:
- init: process start to the first request for an invocation, each function, median of N cold starts;
- peak RSS (wait4's ru_maxrss) through a full event-start flow and a full event-stop flow of the real
  event tier;
- the start flow's own overhead: wall time less the runner's boot wait and Terraform's own time (as
  the runner measured it), split into AWS calls (with their count), SSH connect and authentication,
  the transfer of the run's files, remote commands, Slack and the rest, from the `timings` line the
  function logs; and the true floor: the same calls (the `steps` of that line) replayed back to back
  by a separate harness (crates/event-floor, built like the functions, path in BENCH_FLOOR_BIN),
  the fastest of FLOOR_RUNS fresh processes (what the calls cost at the least);
- zip sizes;
- many events at once: K = 1 and K = 4 lifecycles of the fixture tier started together, their wall
  times and how busy the cores were (`--only concurrency` runs this part alone).
Each figure is checked against its target; the exit status is 1 if any is missed.
"""

import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambda_api import RuntimeApi, stop  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
OUT = ROOT / "target" / "bench"
FUNCTIONS = ["event-start", "event-stop", "event-alarm"]
COLD_STARTS = int(os.environ.get("BENCH_COLD_STARTS", "15"))
FLOOR_RUNS = 5
TARGETS = {"init_ms": 15.0, "rss_mib": 32.0, "own_ms": 400.0, "own_over_floor": 1.3, "zip_mib": 8.0,
           "k4_over_k1": 2.0}
# The alternative the issue measured on this machine (Python, boto3 and paramiko).
PYTHON_REFERENCE = {"init_ms": "330-410", "rss_mib": "about 86"}


def say(text):
    print(text, flush=True)


def unpack():
    """The bootstrap of each packaged function, unzipped under target/bench/<function>/. With
    BENCH_BIN_DIR set, the binaries `<dir>/<function>` instead (a debug build, to try the bench
    itself out: its figures are not the functions')."""
    out = {}
    bins = os.environ.get("BENCH_BIN_DIR")
    for name in FUNCTIONS:
        if bins:
            out[name] = {"bootstrap": Path(bins) / name, "zip_bytes": 0}
            continue
        zip_path = DIST / f"{name}.zip"
        if not zip_path.exists():
            sys.exit(f"{zip_path} is missing: run `make package` first")
        dest = OUT / name
        dest.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(zip_path) as z:
            z.extract("bootstrap", dest)
        (dest / "bootstrap").chmod(0o755)
        out[name] = {"bootstrap": dest / "bootstrap", "zip_bytes": zip_path.stat().st_size}
    return out


def function_env():
    env = {k: v for k, v in os.environ.items()
           if k.startswith(("AWS_", "EVENT_TIER_")) or k in ("PATH", "HOME", "TF_CLI_CONFIG_FILE")}
    if "AWS_ENDPOINT_URL" not in env:
        sys.exit("the local stack's settings are not in the environment: run through local/with-stack.sh")
    env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
    return env


def cold_starts(bootstrap, name, n):
    """Milliseconds from process start to its first request for an invocation, n times."""
    times = []
    for _ in range(n):
        api = RuntimeApi()
        t0 = time.monotonic_ns()
        proc = api.spawn([str(bootstrap)], function_env(), name=name,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        asked = api.first_next(timeout=10)
        stop(proc)
        api.close()
        if asked is None:
            sys.exit(f"{name} did not ask for an invocation within 10 s")
        times.append((asked - t0) / 1e6)
    return times


def timings_line(log_path):
    for line in Path(log_path).read_text(errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("message") == "timings":  # JSON logs carry the fields flat (event_core::timing)
            return rec
    return None


def run_flow(bootstrap, name, payload, log_path, during=None):
    """One invocation in a fresh process: (kind, answer, peak RSS in MiB, wall s, timings)."""
    api = RuntimeApi()
    with open(log_path, "w") as log:
        proc = api.spawn([str(bootstrap)], function_env(), name=name, stdout=log, stderr=log)
        if api.first_next(timeout=10) is None:
            stop(proc)
            api.close()
            sys.exit(f"{name} did not start")
        t0 = time.monotonic()
        done = threading.Event()
        helper = None
        if during:
            helper = threading.Thread(target=during, args=(done,), daemon=True)
            helper.start()
        kind, answer = api.invoke(payload, deadline_s=900)
        wall = time.monotonic() - t0
        done.set()
        # The runtime asks for the next invocation once the answer is posted: the flow is over.
        usage = stop(proc)
        api.close()
    if helper:
        helper.join(timeout=5)
    if usage is None:
        sys.exit(f"{name}'s process was reaped before the bench could read its peak RSS")
    return kind, answer, usage.ru_maxrss / 1024, wall, timings_line(log_path)


def http_json(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None


def finish_migration(event_id):
    """moto's DMS moves no data: mark the final migration's load finished once it runs (as the demo)."""
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    region = os.environ.get("AWS_REGION", "us-east-1")

    def run(done):
        while not done.is_set():
            code, task = http_json(
                "GET", f"{endpoint}/event-tier-compat/dms/replication-task?id=event-tier-{event_id}&region={region}")
            if code == 200 and task["status"] == "running" and task.get("start_type"):
                http_json("POST", f"{endpoint}/event-tier-compat/dms/replication-task", {
                    "arn": task["arn"], "status": "stopped",
                    "stop_reason": "Stop Reason FULL_LOAD_ONLY_FINISHED"})
                return
            done.wait(0.2)
    return run


def floor(event_id, steps):
    """The true floor: the start's calls replayed back to back by crates/event-floor, in FLOOR_RUNS
    fresh processes (their clients made before the clock starts); the fastest run (what the calls
    cost at the least: a slower run is the machine's noise, which would flatter the function), and
    each run's total."""
    binary = os.environ.get("BENCH_FLOOR_BIN")
    if not binary or not Path(binary).exists():
        sys.exit("BENCH_FLOOR_BIN is not a built crates/event-floor (make bench builds it)")
    runs = []
    for _ in range(FLOOR_RUNS):
        out = subprocess.run([binary, event_id, steps], env=function_env(), capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"the floor harness failed: {out.stderr.strip()}")
        runs.append(json.loads(out.stdout))
    runs.sort(key=lambda r: r["total_ms"])
    fastest = runs[0]
    return {"floor_ms": fastest["total_ms"], "runs_ms": [round(r["total_ms"], 1) for r in runs],
            "fastest_run": fastest["steps"]}


def warm_up(event_id):
    """One untimed pass of every call the floor harness knows, before anything is timed: moto serves
    the first request of each operation in its process more slowly than the next (RunInstances
    75-94 ms the first time, 19 after), which AWS does not; the function would pay that, and the
    floor, made after it, would not."""
    binary = os.environ.get("BENCH_FLOOR_BIN")
    if not binary or not Path(binary).exists():
        sys.exit("BENCH_FLOOR_BIN is not a built crates/event-floor (make bench builds it)")
    say("warming the local stack up: every call of the floor harness once, untimed")
    out = subprocess.run([binary, event_id, "warm-up"], env=function_env(), capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"the warm-up failed: {out.stderr.strip()}")


def concurrency():
    """K = 1 and K = 4 whole lifecycles of the fixture tier started together (tests/src/bin/
    concurrency.rs, path in BENCH_CONCURRENCY_BIN): wall times and how busy the cores were."""
    binary = os.environ.get("BENCH_CONCURRENCY_BIN")
    if not binary or not Path(binary).exists():
        sys.exit("BENCH_CONCURRENCY_BIN is not a built tests/src/bin/concurrency.rs (make bench builds it)")
    out = OUT / "concurrency.json"
    say("many events at once: K = 1, then K = 4 lifecycles of the fixture tier started together")
    run = subprocess.run([binary, "--k", "1", "--k", "4", "--json", str(out)], env=dict(os.environ))
    if run.returncode != 0:
        sys.exit("the concurrency run failed")
    rounds = json.loads(out.read_text())
    k4 = next(r for r in rounds if r["k"] == 4)
    # Within 2 x K = 1, or the cores were saturated: then the rest is the machine's, not the code's.
    saturated = k4["cores_busy"] >= 0.9 * k4["cores"]
    return {"rounds": rounds, "k4_over_k1": k4["over_k1"], "cores_saturated_at_k4": saturated,
            "met": k4["over_k1"] <= TARGETS["k4_over_k1"] or saturated}


def concurrency_table(c):
    rows = ["", "| K lifecycles at once | wall (s) | × K = 1 | cores busy | CPU s: all / the flows |",
            "|---|---|---|---|---|"]
    for r in c["rounds"]:
        rows.append(f"| {r['k']} | {r['wall_s']:.1f} | {r['over_k1']:.2f} | {r['cores_busy']:.2f} of {r['cores']} "
                    f"| {r['cpu_s']:.0f} / {r['own_cpu_s']:.1f} |")
    return "\n".join(rows)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    if sys.argv[1:] == ["--only", "concurrency"]:
        c = concurrency()
        say(concurrency_table(c))
        return 0 if c["met"] else 1
    fns = unpack()
    result = {"machine": machine(), "cold_starts": COLD_STARTS, "targets": TARGETS,
              "python_reference": PYTHON_REFERENCE, "functions": {}}
    missed = []

    say(f"init: {COLD_STARTS} cold starts of each function")
    for name, f in fns.items():
        times = cold_starts(f["bootstrap"], name, COLD_STARTS)
        r = result["functions"].setdefault(name, {})
        r["init_ms"] = {"median": statistics.median(times), "min": min(times), "max": max(times),
                        "all": [round(t, 2) for t in times]}
        r["zip_mib"] = f["zip_bytes"] / 1024 / 1024
        if r["init_ms"]["median"] > TARGETS["init_ms"]:
            missed.append(f"{name} init")
        if r["zip_mib"] > TARGETS["zip_mib"]:
            missed.append(f"{name} zip")

    event_id = f"bench-{int(time.time()) % 1_000_000}"
    warm_up(f"warm-{event_id}")
    say(f"event-start flow of {event_id} (the real event tier; Terraform takes minutes)")
    kind, answer, rss, wall, t = run_flow(fns["event-start"]["bootstrap"], "event-start",
                                          {"event_id": event_id}, OUT / "event-start.log")
    if kind != "response" or answer.get("status") != "applied" or not t:
        sys.exit(f"event-start did not apply: {kind} {answer} (log: {OUT / 'event-start.log'})")
    own = t["own_ms"]
    say(f"the true floor: the start's {len(t['steps'].split(','))} calls replayed back to back, {FLOOR_RUNS} times")
    f = floor(event_id, t["steps"])
    result["functions"]["event-start"]["flow"] = {
        "rss_mib": rss, "wall_s": wall, "timings": t,
        "own_ms": own, "floor_ms": f["floor_ms"], "own_over_floor": own / f["floor_ms"], "floor": f,
        "calls": call_by_call(t, f["fastest_run"]),
        "breakdown_ms": {"aws": t["aws_ms"], "ssh_connect": t["ssh_connect_ms"], "upload": t["upload_ms"],
                         "remote_commands": t["remote_ms"], "slack": t["slack_ms"],
                         "other": own - t["io_ms"]},
    }
    say(f"event-stop flow of {event_id}")
    kind, answer, rss_stop, wall_stop, t_stop = run_flow(
        fns["event-stop"]["bootstrap"], "event-stop", {"event_id": event_id}, OUT / "event-stop.log",
        during=finish_migration(event_id))
    if kind != "response" or answer.get("status") != "destroyed":
        sys.exit(f"event-stop did not destroy: {kind} {answer} (log: {OUT / 'event-stop.log'})")
    result["functions"]["event-stop"]["flow"] = {"rss_mib": rss_stop, "wall_s": wall_stop, "timings": t_stop}

    for name, value in (("event-start", rss), ("event-stop", rss_stop)):
        if value > TARGETS["rss_mib"]:
            missed.append(f"{name} peak RSS")
    if own > TARGETS["own_ms"]:
        missed.append("start overhead")
    if own / f["floor_ms"] > TARGETS["own_over_floor"]:
        missed.append("start overhead over the true floor")
    if os.environ.get("BENCH_SKIP_CONCURRENCY") != "1":
        result["concurrency"] = concurrency()
        if not result["concurrency"]["met"]:
            missed.append("K = 4 over K = 1 (cores not saturated)")
    result["missed"] = missed
    (OUT / "bench.json").write_text(json.dumps(result, indent=2))
    say(table(result) + (concurrency_table(result["concurrency"]) if "concurrency" in result else ""))
    say(f"written: {OUT / 'bench.json'}")
    if missed:
        say("MISSED: " + ", ".join(missed))
        return 1
    return 0


def table(r):
    f = r["functions"]
    s = f["event-start"]["flow"]
    t = s["timings"]
    rows = ["| measure | event-start | event-stop | event-alarm | target | Python + boto3 |",
            "|---|---|---|---|---|---|"]
    init = [f[n]["init_ms"] for n in FUNCTIONS]
    rows.append("| init, median of {} cold starts (ms) | {} | ≤ {:.0f} | {} |".format(
        r["cold_starts"], " | ".join(f"{i['median']:.1f} (min {i['min']:.1f}, max {i['max']:.1f})" for i in init),
        TARGETS["init_ms"], PYTHON_REFERENCE["init_ms"]))
    rows.append("| peak RSS through a full flow (MiB) | {:.1f} | {:.1f} | - | ≤ {:.0f} | {} |".format(
        s["rss_mib"], f["event-stop"]["flow"]["rss_mib"], TARGETS["rss_mib"], PYTHON_REFERENCE["rss_mib"]))
    rows.append("| zip (MiB) | {} | ≤ {:.0f} | |".format(
        " | ".join(f"{f[n]['zip_mib']:.2f}" for n in FUNCTIONS), TARGETS["zip_mib"]))
    b = s["breakdown_ms"]
    lines = [
        "",
        "| event-start flow | ms |",
        "|---|---|",
        f"| wall time of the invocation | {t['wall_ms']:.0f} |",
        f"| runner boot wait (excluded) | {t['boot_wait_ms']:.0f} |",
        f"| Terraform's own time on the runner (excluded) | {t['terraform_ms']:.0f} |",
        f"| **own overhead** (target ≤ {TARGETS['own_ms']:.0f} and ≤ {TARGETS['own_over_floor']}× floor) "
        f"| **{s['own_ms']:.0f}** |",
        f"| - AWS calls ({t['aws_calls']}) | {b['aws']:.0f} |",
        f"| - SSH connect and authentication ({t['ssh_connects']}) | {b['ssh_connect']:.0f} |",
        f"| - transfers of the run's files ({t['uploads']}) | {b['upload']:.0f} |",
        f"| - remote commands outside the run ({t['remote_commands']}) | {b['remote_commands']:.0f} |",
        f"| - Slack ({t['slack_posts']}) | {b['slack']:.0f} |",
        f"| - everything else (noticing the run's end, logic, logging) | {b['other']:.0f} |",
        f"| **true floor**: the same {len(s['floor']['fastest_run'])} calls replayed back to back "
        f"(fastest of {len(s['floor']['runs_ms'])} runs: {', '.join(f'{x:.0f}' for x in s['floor']['runs_ms'])}) "
        f"| **{s['floor_ms']:.0f}** |",
        f"| own overhead / true floor | {s['own_over_floor']:.2f} |",
    ]
    calls = ["", "| call (in order) | the function (ms) | the floor's fastest run (ms) |", "|---|---|---|"]
    calls += [f"| {c['step']} | {fmt_ms(c['function_ms'])} | {fmt_ms(c['floor_ms'])} |" for c in s["calls"]]
    return "\n".join(rows + lines + calls)


def fmt_ms(v):
    return "-" if v is None else f"{v:.1f}"


def call_by_call(t, floor_run):
    """The function's calls beside the floor's, in order (a call inside another, such as the
    webhook's GetSecretValue inside the Slack post, is also inside its parent's figure)."""
    steps = t["steps"].split(",")
    ms = [float(x) for x in t.get("step_ms", "").split(",") if x]
    return [{"step": step, "function_ms": ms[i] if i < len(ms) else None,
             "floor_ms": floor_run[i]["ms"] if i < len(floor_run) else None}
            for i, step in enumerate(steps)]


def machine():
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem}


if __name__ == "__main__":
    sys.exit(main())
