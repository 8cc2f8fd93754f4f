"""The local stack: moto (AWS), a real sshd playing the runner, and a Slack sink, on free loopback
ports. `up` starts and seeds them and writes .local/env; `down` stops everything `up` started.

    python local/stack.py up     # idempotent: a running stack is left as it is
    python local/stack.py down
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import runner  # noqa: E402  (local/runner.py)
import slack_samples  # noqa: E402  (local/slack_samples.py)

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
STACK = LOCAL / "stack"
PIDS = STACK / "pids.json"
ENV_FILE = LOCAL / "env"
VENV_PY = LOCAL / "venv" / "bin" / "python"
REGION = "us-east-1"
TF_PLUGINS = "/opt/tf-plugins"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, what, seconds=60, proc=None):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}; see {STACK}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not answer at {url} within {seconds}s")


def wait_port(port, what, seconds=30, proc=None):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}; see {STACK}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"{what} did not listen on {port} within {seconds}s")


def start(name, argv, env=None):
    log = open(STACK / f"{name}.log", "ab")
    return subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        env=env, start_new_session=True, cwd=ROOT,
    )


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def keygen(path, *args):
    subprocess.run(["ssh-keygen", "-q", "-N", "", "-C", "event-tier-local", "-f", str(path), *args],
                   check=True, stdout=subprocess.DEVNULL)


def fingerprint(pub):
    out = subprocess.run(["ssh-keygen", "-lf", str(pub)], check=True, capture_output=True, text=True)
    return out.stdout.split()[1]


def up():
    if PIDS.exists():
        pids = json.loads(PIDS.read_text())
        if all(alive(p) for p in pids.values()) and ENV_FILE.exists():
            print(f"local stack already up ({ENV_FILE})")
            return
        down()
    if STACK.exists():
        shutil.rmtree(STACK)
    STACK.mkdir(parents=True)
    pids = {}

    # AWS: moto, with the compatibility layer.
    moto_port = free_port()
    # EVENT_TIER_LOCAL_RUNNER_WORKDIR: a terminated runner's disk goes with it
    # (local/moto_compat/ec2_runner_disk.py); the same directory as the runner's workdir below.
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true",
               EVENT_TIER_LOCAL_RUNNER_WORKDIR=str(STACK / "runner"))
    moto = start("moto", [str(VENV_PY), str(ROOT / "local" / "moto_server.py"),
                          "-H", "127.0.0.1", "-p", str(moto_port)], env)
    pids["moto"] = moto.pid
    PIDS.write_text(json.dumps(pids))
    endpoint = f"http://127.0.0.1:{moto_port}"

    # Slack: the sink.
    sink_port = free_port()
    sink_log = STACK / "slack.jsonl"
    sink_log.touch()
    sink = start("slack-sink", [str(VENV_PY), str(ROOT / "local" / "slack_sink.py"),
                               "--port", str(sink_port), "--log", str(sink_log)])
    pids["slack-sink"] = sink.pid
    PIDS.write_text(json.dumps(pids))

    # The tiers' site behind their load balancers: what the readiness check's GET reaches.
    site_port = free_port()
    site_log = STACK / "site.jsonl"
    site_log.touch()
    site = start("tier-site", [str(VENV_PY), str(ROOT / "local" / "tier_site.py"),
                              "--port", str(site_port), "--log", str(site_log)])
    pids["tier-site"] = site.pid
    PIDS.write_text(json.dumps(pids))

    # The runner: a real sshd with generated host and user keys, prepared by the runner's real user
    # data (local/runner.py): the host key reaches it through its secret in moto.
    ssh_dir = STACK / "ssh"
    ssh_dir.mkdir()
    keygen(ssh_dir / "host_ed25519", "-t", "ed25519")
    keygen(ssh_dir / "runner_key", "-t", "rsa", "-b", "3072", "-m", "PEM")
    shutil.copy(ssh_dir / "runner_key.pub", ssh_dir / "authorized_keys")
    workdir = STACK / "runner"
    runner_root = STACK / "runner-root"
    # Terraform on this machine (the tests that run it here, not on the runner): the mirror of /opt.
    terraformrc = STACK / "terraformrc"
    terraformrc.write_text(
        'disable_checkpoint = true\n'
        'provider_installation {\n'
        f'  filesystem_mirror {{\n    path    = "{TF_PLUGINS}"\n'
        '    include = ["registry.terraform.io/*/*"]\n  }\n'
        '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n'
    )
    user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    ssh_port = free_port()

    wait_http(f"{endpoint}/moto-api/", "moto", proc=moto)
    wait_http(f"http://127.0.0.1:{sink_port}/", "slack sink", proc=sink)
    wait_http(f"http://127.0.0.1:{site_port}/", "tier site", proc=site)

    settings = seed(endpoint, sink_port, ssh_dir)
    aws_env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    kw = dict(endpoint_url=endpoint, region_name=REGION,
              aws_access_key_id="local", aws_secret_access_key="local")
    settings.update(runner.seed(kw, ssh_dir / "host_ed25519"))
    # The deployer's pin (infra/control's runner_host_key_sha256), for rendering; the functions get
    # the installed key's below.
    settings["EVENT_TIER_RUNNER_HOST_KEY_SHA256"] = fingerprint(ssh_dir / "host_ed25519.pub")
    settings["EVENT_TIER_RUNNER_WORKDIR"] = str(workdir)
    user_data = STACK / "runner-user-data.sh"
    runner.render({**aws_env, **settings}, user_data)
    (ssh_dir / "host_ed25519").unlink()  # the runner's copy is the one the user data installs
    took = runner.run_user_data(user_data, runner_root, dict(os.environ, **aws_env),
                                STACK / "user-data.log")
    host_key = runner_root / "etc" / "ssh" / "ssh_host_ed25519_key"
    host_fp = fingerprint(host_key.with_suffix(".pub"))
    (STACK / "boot.json").write_text(json.dumps({"user_data_secs": round(took, 2)}))

    # SetEnv plays the runner's instance profile (credentials, region); BASH_ENV makes every command
    # of a session source the profile the user data wrote (/etc/profile.d/event-tier.sh there: the
    # Terraform CLI config with the mirror, the PATH with the installed terraform). HOME is the
    # runner user's own, under the runner root: Debian's bash sources ~/.bashrc (instead of BASH_ENV)
    # for every command over SSH, and this machine's (pyenv's start-up) took about 350 ms of each,
    # where a fresh runner's takes none; the runner's sources the profile (local/EMULATOR-GAPS.md).
    runner_home = runner_root / "home" / "runner"
    runner_home.mkdir(parents=True, exist_ok=True)
    (runner_home / ".bashrc").write_text(f". {runner_root}/etc/profile.d/event-tier.sh\n")
    (ssh_dir / "sshd_config").write_text(f"""\
Port {ssh_port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile {ssh_dir / 'sshd.pid'}
AuthorizedKeysFile {ssh_dir / 'authorized_keys'}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
SetEnv AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION={REGION} AWS_EC2_METADATA_DISABLED=true BASH_ENV={runner_root}/etc/profile.d/event-tier.sh HOME={runner_home}
LogLevel INFO
""")
    Path("/run/sshd").mkdir(exist_ok=True)
    sshd = start("sshd", ["/usr/sbin/sshd", "-D", "-e", "-f", str(ssh_dir / "sshd_config")])
    pids["sshd"] = sshd.pid
    PIDS.write_text(json.dumps(pids))
    wait_port(ssh_port, "sshd", proc=sshd)

    env_vars = {
        **aws_env,
        **settings,
        "EVENT_TIER_RUNNER_SSH_ENDPOINT": f"127.0.0.1:{ssh_port}",
        "EVENT_TIER_RUNNER_SSH_USER": user,
        "EVENT_TIER_RUNNER_HOST_KEY_SHA256": host_fp,
        "EVENT_TIER_RUNNER_WORKDIR": str(workdir),
        "EVENT_TIER_TF_ENDPOINT_URL": endpoint,
        "EVENT_TIER_POLL_INTERVAL_SECS": "1",
        "EVENT_TIER_DEADLINE_MARGIN_SECS": "5",
        "EVENT_TIER_RUNNER_READY_TIMEOUT_SECS": "60",
        "EVENT_TIER_SLACK_SINK_LOG": str(sink_log),
        "EVENT_TIER_SLACK_SINK_URL": f"http://127.0.0.1:{sink_port}",
        "EVENT_TIER_READY_HTTP_ENDPOINT": f"http://127.0.0.1:{site_port}",
        "EVENT_TIER_READY_INTERVAL_SECS": "1",
        "EVENT_TIER_READY_TIMEOUT_SECS": "120",
        "EVENT_TIER_TIER_SITE_LOG": str(site_log),
        "EVENT_TIER_LOCAL_STACK": str(STACK),
        "EVENT_TIER_LOCAL_RUNNER_ROOT": str(runner_root),
        "TF_CLI_CONFIG_FILE": str(terraformrc),
    }
    ENV_FILE.write_text("# Written by `make local-up`: the settings of the local stack.\n" + "".join(
        f"export {k}='{v}'\n" for k, v in env_vars.items()))
    # The Slack app's request samples in events/, signed with the stack's secret (make slack-samples
    # signs them again: each is good for five minutes, once).
    slack_samples.write()
    print(f"local stack up: moto {endpoint}, sshd 127.0.0.1:{ssh_port}, "
          f"slack sink 127.0.0.1:{sink_port}, tier site 127.0.0.1:{site_port}; runner prepared by its user data in {took:.1f} s; "
          f"settings in {ENV_FILE}")


def seed(endpoint, sink_port, ssh_dir):
    """Creates what the functions expect to exist (in AWS, infra/control creates it)."""
    import boto3

    kw = dict(endpoint_url=endpoint, region_name=REGION,
              aws_access_key_id="local", aws_secret_access_key="local")
    iam = boto3.client("iam", **kw)
    ec2 = boto3.client("ec2", **kw)
    s3 = boto3.client("s3", **kw)
    sm = boto3.client("secretsmanager", **kw)

    assume = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    iam.create_role(RoleName="event-tier-runner", AssumeRolePolicyDocument=assume)
    iam.create_instance_profile(InstanceProfileName="event-tier-runner")
    iam.add_role_to_instance_profile(InstanceProfileName="event-tier-runner", RoleName="event-tier-runner")

    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    # The runner subnets, one per zone, in order of preference (a launch refused in one tries the next).
    runner_subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.42.{1 + i}.0/24",
                                        AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"]
                      for i, az in enumerate(("a", "b"))]
    sg = ec2.create_security_group(GroupName="event-tier-runner", Description="event-tier runner",
                                   VpcId=vpc)["GroupId"]

    # What the event tier reads (infra/event-tier; infra/control writes it in AWS): the platform
    # document, with public and private subnets in two availability zones, and the operations
    # database's secret, its password generated here and never written to a file.
    public, private = [], []
    for i, az in enumerate(("a", "b")):
        public.append(ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.42.{10 + i}.0/24",
                                        AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"])
        private.append(ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.42.{20 + i}.0/24",
                                         AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"])
    ops_db_secret = sm.create_secret(
        Name="event-tier/ops-db",
        SecretString=json.dumps({"username": "event_tier_dms", "password": secrets.token_urlsafe(24)}),
    )["ARN"]
    platform = {
        "vpc_id": vpc,
        "public_subnet_ids": public,
        "private_subnet_ids": private,
        "container_image": "public.ecr.aws/nginx/nginx:stable",
        "container_port": 80,
        "ops_db_secret_arn": ops_db_secret,
        "ops_db_server_name": "ops-db.event-tier.internal",
        "ops_db_port": 5432,
        "ops_db_name": "shop",
    }
    platform["observability"] = seed_observability(kw, iam, s3)
    boto3.client("ssm", **kw).put_parameter(Name="/event-tier/platform", Type="String",
                                            Value=json.dumps(platform))
    # The account-level roles DMS itself requires (in AWS, infra/control creates them).
    for role, policy in (("dms-vpc-role", "AmazonDMSVPCManagementRole"),
                         ("dms-cloudwatch-logs-role", "AmazonDMSCloudWatchLogsRole")):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
                "Service": "dms.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
        iam.attach_role_policy(RoleName=role, PolicyArn=f"arn:aws:iam::aws:policy/service-role/{policy}")

    bucket = "event-tier-state-local"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})

    key_arn = sm.create_secret(Name="event-tier/runner-ssh-key",
                               SecretString=(ssh_dir / "runner_key").read_text())["ARN"]
    hook = f"http://127.0.0.1:{sink_port}/services/local/event-tier/{secrets.token_hex(16)}"
    hook_arn = sm.create_secret(Name="event-tier/slack-webhook", SecretString=hook)["ARN"]
    # The Slack app's signing secret, made here: `make slack-samples` signs the samples in events/
    # with it (the file is owner-only, under .local/, never committed).
    signing = secrets.token_hex(16)
    signing_file = STACK / "slack-signing-secret"
    fd = os.open(signing_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(signing)
    signing_arn = sm.create_secret(Name="event-tier/slack-signing", SecretString=signing)["ARN"]
    return {
        "EVENT_TIER_STATE_BUCKET": bucket,
        "EVENT_TIER_RUNNER_KEY_SECRET_ARN": key_arn,
        "EVENT_TIER_SLACK_WEBHOOK_SECRET_ARN": hook_arn,
        "EVENT_TIER_SLACK_SIGNING_SECRET_ARN": signing_arn,
        "EVENT_TIER_RUNNER_SUBNET_IDS": ",".join(runner_subnets),
        "EVENT_TIER_RUNNER_INSTANCE_TYPES": "t3.small,t3a.small",
        "EVENT_TIER_RUNNER_SECURITY_GROUP_ID": sg,
        "EVENT_TIER_RUNNER_INSTANCE_PROFILE": "event-tier-runner",
        "EVENT_TIER_LOCAL_VPC_ID": vpc,
    }


def seed_observability(kw, iam, s3):
    """What infra/control gives the tiers' alarms and log shipping (the platform document's
    `observability`): the alarm forwarder (a placeholder: moto runs no function code), the alarm
    topics' key, the log archive's Firehose stream (into a bucket of its own) and delivery role."""
    import io
    import zipfile

    import boto3

    def role(name, service):
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
                "Service": service}, "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]

    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\nexit 1\n")
    forwarder = boto3.client("lambda", **kw).create_function(
        FunctionName="event-alarm", Runtime="provided.al2023", Handler="bootstrap",
        Role=role("local-event-alarm", "lambda.amazonaws.com"), Code={"ZipFile": package.getvalue()},
    )["FunctionArn"]
    key = boto3.client("kms", **kw).create_key(Description="event-tier local control key")["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket="event-tier-logs-local")
    stream = boto3.client("firehose", **kw).create_delivery_stream(
        DeliveryStreamName="event-logs", DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": role("local-event-log-firehose", "firehose.amazonaws.com"),
            "BucketARN": "arn:aws:s3:::event-tier-logs-local",
            "Prefix": "logs/event=!{partitionKeyFromQuery:event}/source=!{partitionKeyFromQuery:source}/dt=!{timestamp:yyyy-MM-dd}/",
            "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/",
        },
    )["DeliveryStreamARN"]
    return {
        "alarm_function_arn": forwarder,
        "alarm_kms_key_arn": key,
        "log_delivery_role_arn": role("local-event-log-delivery", f"logs.{REGION}.amazonaws.com"),
        "log_delivery_stream_arn": stream,
        "start_function_name": "event-start",
        "stop_function_name": "event-stop",
    }


def down():
    if not PIDS.exists():
        print("local stack is not up")
        return
    # Each a group leader (start_new_session); never 0 or 1: killpg(1) is kill(-1), every process.
    pids = {name: pid for name, pid in json.loads(PIDS.read_text()).items() if pid > 1}
    for name, pid in pids.items():
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.time() + 10
    for name, pid in pids.items():
        while alive(pid) and time.time() < deadline:
            time.sleep(0.1)
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        if alive(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    # `cargo lambda watch` started from this checkout (the demo, the tests), should it have outlived
    # its starter (Ctrl-C, a killed test): stopped through the cargo-lambda process itself.
    out = subprocess.run(["pgrep", "-f", "cargo-lambda lambda watch"], capture_output=True, text=True)
    for pid in (int(p) for p in out.stdout.split()):
        try:
            if os.readlink(f"/proc/{pid}/cwd") == str(ROOT):
                os.kill(pid, signal.SIGINT)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
    # Terraform runs started through the runner protocol run in sessions of their own (setsid): this
    # stack's only (`bash <STACK>/runner/.../runner.sh exec`, the path anchored at a word's start so
    # that another checkout whose path ends with this one's is not matched).
    pattern = rf"^bash {re.escape(str(STACK))}/runner/\S+/runner\.sh exec "
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    for pid in (int(p) for p in out.stdout.split()):
        if pid > 1:
            try:
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    PIDS.unlink()
    if ENV_FILE.exists():
        ENV_FILE.unlink()
    print("local stack down")


def status():
    """Exit 0 if the stack is up (every process alive, settings written), 1 if not."""
    if PIDS.exists() and ENV_FILE.exists():
        if all(alive(p) for p in json.loads(PIDS.read_text()).values()):
            print(f"local stack up ({ENV_FILE})")
            return
    print("local stack is not up")
    sys.exit(1)


if __name__ == "__main__":
    {"up": up, "down": down, "status": status}[sys.argv[1] if len(sys.argv) > 1 else "up"]()
