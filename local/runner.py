"""The local stack's runner, prepared by the runner's real user data (crates/event-core/src/
runner-user-data.sh), not by an imitation of it:

1. the runner artifacts (local/artifacts.py, cached in .local/artifacts) go into moto's S3 as
   infra/control uploads them (a versioned bucket encrypted with a KMS key, objects under `runner/`);
2. the host key, generated here, goes into its Secrets Manager secret, as a deployer puts it;
3. the user data is rendered by event-core itself (the `runner-user-data` bin of tests/, which
   `cargo run` builds when it is stale) with the stack's settings, and run by local/user-data.sh
   under a root of its own (.local/stack/runner-root), skipping what only Amazon Linux has;
4. the stack then starts sshd with the host key the user data installed, and the functions pin that
   key's fingerprint.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / ".local" / "artifacts"
ARTIFACTS_BUCKET = "event-tier-runner-artifacts-local"
PREFIX = "runner/"


def build_artifacts():
    """local/artifacts.py into .local/artifacts (a no-op when the inputs did not change)."""
    subprocess.run([sys.executable, str(ROOT / "local" / "artifacts.py"), "--out", str(ARTIFACTS)],
                   check=True, stdout=subprocess.DEVNULL)
    sums = dict(reversed(line.split()) for line in (ARTIFACTS / "SHA256SUMS").read_text().splitlines())
    return sums


def seed(kw, host_key_path):
    """The artifacts bucket and its objects, and the host key's secret; returns the settings."""
    import boto3

    sums = build_artifacts()
    s3 = boto3.client("s3", **kw)
    key = boto3.client("kms", **kw).create_key(
        Description="event-tier local runner artifacts")["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket=ARTIFACTS_BUCKET)
    s3.put_bucket_versioning(Bucket=ARTIFACTS_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(Bucket=ARTIFACTS_BUCKET, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
        "BucketKeyEnabled": True}]})
    s3.put_public_access_block(Bucket=ARTIFACTS_BUCKET, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})
    for name in sums:
        s3.upload_file(str(ARTIFACTS / name), ARTIFACTS_BUCKET, PREFIX + name, ExtraArgs={
            "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key, "ContentType": "application/zip"})
    host_key_arn = boto3.client("secretsmanager", **kw).create_secret(
        Name="event-tier/runner-host-key", SecretString=Path(host_key_path).read_text())["ARN"]
    terraform_zip = next(n for n in sums if n.startswith("terraform_"))
    mirror_zip = next(n for n in sums if n.startswith("provider-mirror_"))
    return {
        "EVENT_TIER_RUNNER_ARTIFACTS_BUCKET": ARTIFACTS_BUCKET,
        "EVENT_TIER_RUNNER_ARTIFACTS_PREFIX": PREFIX,
        "EVENT_TIER_RUNNER_TERRAFORM_SHA256": sums[terraform_zip],
        "EVENT_TIER_RUNNER_PROVIDER_MIRROR_SHA256": sums[mirror_zip],
        "EVENT_TIER_RUNNER_HOST_KEY_SECRET_ARN": host_key_arn,
    }


def render(settings, out):
    """The user data as event-start renders it, for these settings, written to `out`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENT_TIER_")}
    env.update(settings)
    script = subprocess.run(
        ["cargo", "run", "-q", "-p", "event-tier-tests", "--bin", "runner-user-data"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    Path(out).write_text(script.stdout)


def run_user_data(script, root, env, log):
    """Runs the rendered user data under `root` (local/user-data.sh); returns its duration."""
    began = time.monotonic()
    with open(log, "ab") as out:
        done = subprocess.run([str(ROOT / "local" / "user-data.sh"), str(script), str(root)],
                              env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    took = time.monotonic() - began
    if done.returncode != 0:
        raise SystemExit(f"the runner's user data failed ({done.returncode}); see {log}")
    return took
