"""Checks the functions' zips (`make package`): each holds an executable `bootstrap`, is at most
8 MiB, links dynamically to nothing but glibc (what provided.al2023 has), and starts: under a local
Lambda Runtime API it asks for its first invocation within 5 s.

    python local/package_check.py dist/event-start.zip dist/event-stop.zip ...
Exit status 0 when every zip passes; each problem is printed with the zip's name.
"""

import os
import stat
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambda_api import RuntimeApi, stop  # noqa: E402

MAX_BYTES = 8 * 1024 * 1024
# glibc's own libraries (Amazon Linux 2023 has glibc 2.34).
GLIBC = {"libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libutil.so.1",
         "ld-linux-x86-64.so.2"}
# Settings the functions require at start (never used: the check does not invoke them, and nothing
# listens on port 9).
START_ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "check",
    "AWS_SECRET_ACCESS_KEY": "check",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "EVENT_TIER_STATE_BUCKET": "check",
    "EVENT_TIER_RUNNER_KEY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:check",
    "EVENT_TIER_SLACK_WEBHOOK_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:hook",
    "EVENT_TIER_RUNNER_SUBNET_ID": "subnet-12345678",
    "EVENT_TIER_RUNNER_SECURITY_GROUP_ID": "sg-12345678",
    "EVENT_TIER_RUNNER_INSTANCE_PROFILE": "check",
    "EVENT_TIER_RUNNER_HOST_KEY_SHA256": "SHA256:" + "A" * 43,
}


def needed(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True).stdout
    return [line.split("[", 1)[1].split("]", 1)[0] for line in out.splitlines() if "(NEEDED)" in line]


def starts(path):
    """Whether the binary asks a local Lambda Runtime API for an invocation within 5 s."""
    api = RuntimeApi()
    proc = api.spawn([path], dict(START_ENV, PATH=os.environ.get("PATH", "")),
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return api.first_next(timeout=5) is not None
    finally:
        stop(proc)
        api.close()


def check(zip_path):
    """(problems, size in bytes, libraries the bootstrap needs)."""
    problems = []
    size = os.path.getsize(zip_path)
    if size > MAX_BYTES:
        problems.append(f"{size} bytes, over the {MAX_BYTES} limit")
    with zipfile.ZipFile(zip_path) as z, tempfile.TemporaryDirectory() as tmp:
        names = z.namelist()
        if "bootstrap" not in names:
            return problems + [f"no bootstrap in it (it has {names})"], size, []
        mode = z.getinfo("bootstrap").external_attr >> 16
        if not mode & stat.S_IXUSR:
            problems.append(f"bootstrap is not executable (mode {oct(mode)})")
        path = z.extract("bootstrap", tmp)
        os.chmod(path, 0o755)
        libs = needed(path)
        if not libs:
            problems.append("bootstrap links no glibc at all (static?), expected a glibc dynamic binary")
        foreign = [lib for lib in libs if lib not in GLIBC]
        if foreign:
            problems.append(f"bootstrap needs libraries beyond glibc: {foreign}")
        if not starts(path):
            problems.append("bootstrap did not ask for an invocation within 5 s")
    return problems, size, libs


def main(paths):
    failed = False
    for p in paths:
        problems, size, libs = check(p)
        if problems:
            failed = True
            for problem in problems:
                print(f"FAIL {p}: {problem}")
        else:
            print(f"ok   {p}: {size / 1024 / 1024:.2f} MiB, bootstrap links {', '.join(libs)}; starts")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
