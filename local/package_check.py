"""Checks the functions' zips (`make package`): each holds an executable `bootstrap`, is at most
8 MiB, links dynamically to nothing but glibc (what provided.al2023 has), and starts: under a local
Lambda Runtime API it asks for its first invocation within 5 s. The supply-chain records: the
bootstrap carries its dependency list (`cargo auditable`: the zlib-compressed JSON of its `.dep-v0`
section), the zip has its CycloneDX SBOM beside it (dist/<function>.cdx.json), and both agree with
Cargo.lock: every crate they name is locked at that version, the SBOM lists every crate compiled
into the bootstrap and none it was not built with (proc macros: in the SBOM, compile-time in the
bootstrap's list).

    python local/package_check.py [--lock Cargo.lock] [--sbom-only] dist/event-start.zip ...
Exit status 0 when every zip passes; each problem is printed with the zip's name. With --sbom-only
(`make sbom-check`, part of `make lint`: no release build) only the SBOMs beside the given names are
checked against Cargo.lock; the zips need not exist.
"""

import json
import os
import stat
import subprocess
import sys
import tempfile
import tomllib
import zipfile
import zlib

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
    "EVENT_TIER_RUNNER_SUBNET_IDS": "subnet-12345678",
    "EVENT_TIER_RUNNER_SECURITY_GROUP_ID": "sg-12345678",
    "EVENT_TIER_RUNNER_INSTANCE_PROFILE": "check",
    "EVENT_TIER_RUNNER_HOST_KEY_SHA256": "SHA256:" + "A" * 43,
    "EVENT_TIER_RUNNER_ARTIFACTS_BUCKET": "check",
    "EVENT_TIER_RUNNER_TERRAFORM_SHA256": "0" * 64,
    "EVENT_TIER_RUNNER_PROVIDER_MIRROR_SHA256": "0" * 64,
    # event-slack moves the events' stops and verifies requests: it refuses to start without these.
    "EVENT_TIER_EVENTS_SCHEDULE_GROUP": "check-events",
    "EVENT_TIER_FOLLOW_UP_ROLE_ARN": "arn:aws:iam::123456789012:role/check",
    "EVENT_TIER_SLACK_SIGNING_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:signing",
}


def needed(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True).stdout
    return [line.split("[", 1)[1].split("]", 1)[0] for line in out.splitlines() if "(NEEDED)" in line]


def locked(lock_path):
    """{(name, version)} of Cargo.lock."""
    with open(lock_path, "rb") as f:
        return {(p["name"], p["version"]) for p in tomllib.load(f)["package"]}


def audit_data(path):
    """({(name, version)} compiled into the binary, {(name, version)} it was built with, compile-time
    crates too), other than itself, as `cargo auditable` embedded them (compile-time crates, such as
    proc macros, are marked `kind: build`); None when it has no `.dep-v0` section."""
    with tempfile.NamedTemporaryFile() as out:
        dump = subprocess.run(["objcopy", "--dump-section", f".dep-v0={out.name}", path, os.devnull],
                              capture_output=True, text=True)
        data = open(out.name, "rb").read()
        if dump.returncode or not data:  # objcopy only warns when the section is missing
            return None
        packages = [p for p in json.loads(zlib.decompress(data))["packages"] if not p.get("root")]
    return ({(p["name"], p["version"]) for p in packages if p.get("kind") != "build"},
            {(p["name"], p["version"]) for p in packages})


def sbom(path):
    """{(name, version)} of a CycloneDX SBOM's components; None when the file is missing."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        bom = json.load(f)
    if bom.get("bomFormat") != "CycloneDX":
        return set()
    return {(c["name"], c["version"]) for c in bom.get("components", [])}


def supply_chain(zip_path, bootstrap, lock):
    """Problems of the embedded dependency list and the SBOM against Cargo.lock."""
    problems = []
    audit = audit_data(bootstrap)
    embedded, built_with = audit if audit else (None, None)
    sbom_path = zip_path[:-len(".zip")] + ".cdx.json"
    listed = sbom(sbom_path)
    if embedded is None:
        problems.append("bootstrap has no dependency list (.dep-v0): not built with cargo auditable")
    if listed is None:
        problems.append(f"no SBOM at {sbom_path}")
    for what, found in (("bootstrap's dependency list", embedded), (f"SBOM {sbom_path}", listed)):
        if found is not None:
            stray = sorted(found - lock)
            if stray:
                problems.append(f"{what} names {len(stray)} crates not in Cargo.lock: "
                                + ", ".join(f"{n} {v}" for n, v in stray[:10]))
    # They agree when the SBOM lists every crate compiled into the bootstrap, and nothing it was not
    # built with: cargo-cyclonedx counts proc macros (run by the compiler, not in the binary) as
    # dependencies, cargo auditable marks them compile-time.
    if embedded is not None and listed is not None and not embedded <= listed <= built_with:
        problems.append(f"the SBOM and the bootstrap disagree: in the bootstrap, not in the SBOM "
                        f"{sorted(embedded - listed)[:10]}; in the SBOM, not in the bootstrap {sorted(listed - built_with)[:10]}")
    return problems, embedded


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


def check(zip_path, lock):
    """(problems, size in bytes, libraries the bootstrap needs, crates it embeds)."""
    problems = []
    size = os.path.getsize(zip_path)
    if size > MAX_BYTES:
        problems.append(f"{size} bytes, over the {MAX_BYTES} limit")
    with zipfile.ZipFile(zip_path) as z, tempfile.TemporaryDirectory() as tmp:
        names = z.namelist()
        if "bootstrap" not in names:
            return problems + [f"no bootstrap in it (it has {names})"], size, [], None
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
        chain, crates = supply_chain(zip_path, path, lock)
        problems += chain
    return problems, size, libs, crates


def sbom_only(zip_path, lock):
    """Problems of the SBOM beside a zip against Cargo.lock, and its number of crates."""
    sbom_path = zip_path[:-len(".zip")] + ".cdx.json"
    listed = sbom(sbom_path)
    if listed is None:
        return [f"no SBOM at {sbom_path}"], 0
    if not listed:
        return [f"{sbom_path} is not a CycloneDX SBOM with components"], 0
    stray = sorted(listed - lock)
    if stray:
        return [f"SBOM {sbom_path} names {len(stray)} crates not in Cargo.lock: "
                + ", ".join(f"{n} {v}" for n, v in stray[:10])], len(listed)
    return [], len(listed)


def main(args):
    lock_path = "Cargo.lock"
    if args[:1] == ["--lock"]:
        lock_path, args = args[1], args[2:]
    lock = locked(lock_path)
    if args[:1] == ["--sbom-only"]:
        failed = False
        for p in args[1:]:
            problems, count = sbom_only(p, lock)
            failed = failed or bool(problems)
            for problem in problems:
                print(f"FAIL {p}: {problem}")
            if not problems:
                print(f"ok   {p[:-len('.zip')]}.cdx.json: {count} crates, all in {lock_path}")
        return 1 if failed else 0
    failed = False
    for p in args:
        problems, size, libs, crates = check(p, lock)
        if problems:
            failed = True
            for problem in problems:
                print(f"FAIL {p}: {problem}")
        else:
            print(f"ok   {p}: {size / 1024 / 1024:.2f} MiB, bootstrap links {', '.join(libs)}; starts; "
                  f"embeds {len(crates)} crates, as its SBOM lists, all in {lock_path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
