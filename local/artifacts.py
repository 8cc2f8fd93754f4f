"""The runners' artifacts (`make artifacts`): the pinned Terraform binary and the provider mirror the
event tier's lock file pins, as two zips and their sha256 sums, built from files on this machine
(nothing is downloaded). `infra/control` uploads them to the runner artifacts bucket; a runner's user
data installs Terraform and the mirror from there and checks both sums.

    python3 local/artifacts.py [--out dist/artifacts] [--terraform PATH] [--mirror /opt/tf-plugins]

- `terraform_<version>_linux_amd64.zip`: `terraform` (the binary on PATH, which must print the pinned
  version), as HashiCorp's release zip holds it;
- `provider-mirror_linux_amd64.zip`: a filesystem mirror in the unpacked layout
  (`registry.terraform.io/<namespace>/<type>/<version>/linux_amd64/...`) holding exactly the providers
  of `infra/event-tier/.terraform.lock.hcl`, each checked against its `h1:` hash there;
- `SHA256SUMS` (`sha256sum -c` reads it).

The zips are reproducible (sorted entries, fixed times), so the sums only change with the inputs.
Nothing is rebuilt when the inputs and the outputs are as the last build left them.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TERRAFORM_VERSION = "1.11.4"
PLATFORM = "linux_amd64"
TERRAFORM_ZIP = f"terraform_{TERRAFORM_VERSION}_{PLATFORM}.zip"
MIRROR_ZIP = f"provider-mirror_{PLATFORM}.zip"
LOCK = ROOT / "infra" / "event-tier" / ".terraform.lock.hcl"
FIXED_TIME = (2026, 1, 1, 0, 0, 0)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def h1(directory):
    """Terraform's `h1:` hash of an unpacked provider package (Go's dirhash.Hash1)."""
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    lines = "".join(f"{sha256(p)}  {p.relative_to(directory).as_posix()}\n" for p in files)
    return "h1:" + base64.b64encode(hashlib.sha256(lines.encode()).digest()).decode()


def locked_providers(lock):
    """(address, version, [h1 hashes]) of each provider the lock file pins."""
    text = lock.read_text()
    out = []
    for m in re.finditer(r'provider "([^"]+)" \{(.*?)\n\}', text, re.S):
        version = re.search(r'version\s*=\s*"([^"]+)"', m.group(2)).group(1)
        hashes = re.findall(r'"(h1:[^"]+)"', m.group(2))
        out.append((m.group(1), version, hashes))
    if not out:
        sys.exit(f"artifacts: {lock} pins no provider")
    return out


def write_zip(dest, entries):
    """entries: (name in the zip, file); reproducible: sorted, fixed times, modes kept."""
    tmp = dest.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, path in sorted(entries):
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100755 if os.access(path, os.X_OK) else 0o100644) << 16
            with open(path, "rb") as src, z.open(info, "w") as out:
                shutil.copyfileobj(src, out, 1 << 20)
    tmp.replace(dest)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "dist" / "artifacts"))
    ap.add_argument("--terraform", default=shutil.which("terraform"))
    ap.add_argument("--mirror", default="/opt/tf-plugins")
    args = ap.parse_args()
    out, mirror = Path(args.out), Path(args.mirror)
    if not args.terraform:
        sys.exit("artifacts: no terraform on PATH (--terraform PATH)")
    terraform = Path(args.terraform).resolve()

    version = json.loads(subprocess.run([str(terraform), "version", "-json"], check=True,
                                        capture_output=True, text=True).stdout)["terraform_version"]
    if version != TERRAFORM_VERSION:
        sys.exit(f"artifacts: {terraform} is Terraform {version}; the runners pin {TERRAFORM_VERSION}")
    packages = []
    for address, pversion, hashes in locked_providers(LOCK):
        package = mirror / address / pversion / PLATFORM
        if not package.is_dir():
            sys.exit(f"artifacts: {address} {pversion} ({PLATFORM}) is not in the mirror {mirror}")
        packages.append((address, pversion, package, hashes))

    # The inputs as the last build saw them: unchanged inputs and outputs, nothing to do.
    stamp = out / ".inputs.json"
    inputs = {str(p): [p.stat().st_size, p.stat().st_mtime_ns] for p in
              [terraform, LOCK] + [f for *_, pkg, _ in packages for f in sorted(pkg.rglob("*"))]}
    sums = out / "SHA256SUMS"
    if (stamp.exists() and sums.exists() and json.loads(stamp.read_text()) == inputs
            and all((out / n).exists() for n in (TERRAFORM_ZIP, MIRROR_ZIP))):
        print(f"artifacts: {out} is up to date")
        return

    mirror_entries = []
    for address, pversion, package, hashes in packages:
        got = h1(package)
        if got not in hashes:
            sys.exit(f"artifacts: {address} {pversion} in {mirror} hashes to {got}, which "
                     f"{LOCK.relative_to(ROOT)} does not list: not the provider the tier pins")
        for f in package.rglob("*"):
            if f.is_file():
                mirror_entries.append((f"{address}/{pversion}/{PLATFORM}/{f.relative_to(package).as_posix()}", f))
        print(f"artifacts: {address} {pversion} {PLATFORM} matches the lock file ({got})")

    out.mkdir(parents=True, exist_ok=True)
    write_zip(out / TERRAFORM_ZIP, [("terraform", terraform)])
    write_zip(out / MIRROR_ZIP, mirror_entries)
    sums.write_text("".join(f"{sha256(out / n)}  {n}\n" for n in (TERRAFORM_ZIP, MIRROR_ZIP)))
    stamp.write_text(json.dumps(inputs))
    print(f"artifacts: {out}\n{sums.read_text()}", end="")


if __name__ == "__main__":
    main()
