"""Lints every IAM policy document of infra/ with parliament (`make policy-lint`, part of `make lint`).

The documents are rendered by Terraform itself, offline: for each module, a copy gets a test file
(local/policy-render/<module>.hcl plus an `override_resource` for every resource, so that the AWS
provider calls nothing), and `terraform test -verbose -json` prints the state, in which every
`aws_iam_policy_document` and every `policy`/`assume_role_policy` attribute is plain JSON.

A finding is suppressed by a comment in the Terraform block that makes the document, with a reason:

    #parliament:skip=ISSUE:reason              every statement of the document
    #parliament:skip=ISSUE@Sid:reason          the statement with that Sid only

Exit status 1 on any finding not suppressed, on a suppression without a reason, or on a suppression
that matches no finding (so that none outlives its cause).

    python local/policy_lint.py [--policy FILE.json]...   # --policy: lint those files alone
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = ["control", "event-tier"]
SKIP = re.compile(r"#\s*parliament:skip=([A-Z_]+)(?:@([A-Za-z0-9]+))?:(.*)$")
ACCOUNT, PARTITION = "123456789012", "aws"

# ARNs for the resources that policies name, by type; other resources get Terraform's generated
# values. The region is each module's own (local/policy-render/<module>.hcl).
ARNS = {
    "aws_kms_key": lambda r, n: {"arn": f"arn:aws:kms:{r}:{ACCOUNT}:key/00000000-0000-4000-8000-000000000000",
                                 "key_id": "00000000-0000-4000-8000-000000000000"},
    "aws_sqs_queue": lambda r, n: {"arn": f"arn:aws:sqs:{r}:{ACCOUNT}:lint-{n}", "name": f"lint-{n}",
                                   "url": f"https://sqs.{r}.amazonaws.com/{ACCOUNT}/lint-{n}"},
    "aws_s3_bucket": lambda r, n: {"arn": f"arn:aws:s3:::lint-{n}", "id": f"lint-{n}", "bucket": f"lint-{n}"},
    "aws_security_group": lambda r, n: {"id": "sg-0123456789abcdef0",
                                        "arn": f"arn:aws:ec2:{r}:{ACCOUNT}:security-group/sg-0123456789abcdef0"},
    "aws_secretsmanager_secret": lambda r, n: {"arn": f"arn:aws:secretsmanager:{r}:{ACCOUNT}:secret:lint/{n}-AbCdEf"},
    "aws_scheduler_schedule_group": lambda r, n: {"name": f"lint-{n}",
                                                  "arn": f"arn:aws:scheduler:{r}:{ACCOUNT}:schedule-group/lint-{n}"},
    "aws_lambda_function": lambda r, n: {"arn": f"arn:aws:lambda:{r}:{ACCOUNT}:function:lint-{n}"},
    "aws_kinesis_firehose_delivery_stream": lambda r, n: {
        "arn": f"arn:aws:firehose:{r}:{ACCOUNT}:deliverystream/lint-{n}", "name": f"lint-{n}"},
    "aws_iam_role": lambda r, n: {"arn": f"arn:aws:iam::{ACCOUNT}:role/lint-{n}", "id": f"lint-{n}", "name": f"lint-{n}"},
    "aws_cloudwatch_log_group": lambda r, n: {"name": f"/lint/{n}", "arn": f"arn:aws:logs:{r}:{ACCOUNT}:log-group:/lint/{n}"},
    "aws_iam_policy": lambda r, n: {"arn": f"arn:aws:iam::{ACCOUNT}:policy/lint-{n}", "id": f"arn:aws:iam::{ACCOUNT}:policy/lint-{n}"},
    "aws_iam_instance_profile": lambda r, n: {"name": f"lint-{n}",
                                              "arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/lint-{n}"},
    "aws_ssm_parameter": lambda r, n: {"name": f"/lint/{n}", "arn": f"arn:aws:ssm:{r}:{ACCOUNT}:parameter/lint/{n}"},
    "aws_sns_topic": lambda r, n: {"arn": f"arn:aws:sns:{r}:{ACCOUNT}:lint-{n}"},
    "aws_dms_replication_task": lambda r, n: {"replication_task_arn": f"arn:aws:dms:{r}:{ACCOUNT}:task:LINT{n.upper()}"},
    "aws_lb": lambda r, n: {"arn": f"arn:aws:elasticloadbalancing:{r}:{ACCOUNT}:loadbalancer/app/lint-{n}/0123456789abcdef"},
    "aws_lb_target_group": lambda r, n: {"arn": f"arn:aws:elasticloadbalancing:{r}:{ACCOUNT}:targetgroup/lint-{n}/0123456789abcdef"},
    "aws_dms_endpoint": lambda r, n: {"endpoint_arn": f"arn:aws:dms:{r}:{ACCOUNT}:endpoint:LINT{n.upper()}"},
    "aws_dms_replication_instance": lambda r, n: {"replication_instance_arn": f"arn:aws:dms:{r}:{ACCOUNT}:rep:LINT{n.upper()}"},
    "aws_db_instance": lambda r, n: {"master_user_secret": [{"secret_arn": f"arn:aws:secretsmanager:{r}:{ACCOUNT}:secret:rds!db-lint-AbCdEf",
                                                             "kms_key_id": "", "secret_status": "active"}]},
}


def blocks(module_dir):
    """{(kind, type, name): (file, text of the block)} of a module's .tf files."""
    out = {}
    for path in sorted(glob.glob(os.path.join(module_dir, "*.tf"))):
        text = open(path).read()
        for m in re.finditer(r'^(resource|data)\s+"([a-z0-9_]+)"\s+"([A-Za-z0-9_-]+)"\s*\{', text, re.M):
            depth, i = 0, m.end() - 1
            while True:
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
                if depth == 0:
                    break
            out[(m.group(1), m.group(2), m.group(3))] = (os.path.relpath(path, ROOT), text[m.start():i])
    return out


def render(module):
    """[(address, source block key, policy JSON string)] of a module, rendered by terraform test."""
    src = os.path.join(ROOT, "infra", module)
    head = open(os.path.join(ROOT, "local", "policy-render", f"{module}.hcl")).read()
    region = re.search(r'region\s*=\s*"([a-z0-9-]+)"', head).group(1)
    found = blocks(src)
    overrides = []
    for (kind, rtype, name) in found:
        if kind != "resource" or not rtype.startswith("aws_"):  # terraform_data runs locally
            continue
        values = ARNS.get(rtype, lambda r, n: {})(region, name)
        body = "".join(f"    {k} = {json.dumps(v)}\n" for k, v in values.items())
        overrides.append(f"override_resource {{\n  target = {rtype}.{name}\n  values = {{\n{body}  }}\n}}\n")
    with tempfile.TemporaryDirectory(prefix=f"policy-lint-{module}-") as tmp:
        work = os.path.join(tmp, module)
        shutil.copytree(src, work, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "tests"))
        if os.path.isdir(os.path.join(src, "tests", "fixtures")):
            shutil.copytree(os.path.join(src, "tests", "fixtures"), os.path.join(work, "tests", "fixtures"))
        os.makedirs(os.path.join(work, "lint"))
        with open(os.path.join(work, "lint", "render.tftest.hcl"), "w") as f:
            f.write(head + '\nrun "render" {\n  command = apply\n}\n\n' + "\n".join(overrides))
        env = dict(os.environ)
        if not os.path.isfile(env.get("TF_CLI_CONFIG_FILE", "")):  # the offline mirror (make setup)
            env["TF_CLI_CONFIG_FILE"] = os.path.join(ROOT, ".local", "terraformrc")
        run = lambda *args: subprocess.run(["terraform", *args], cwd=work, env=env, capture_output=True, text=True)
        init = run("init", "-backend=false", "-input=false", "-no-color")
        if init.returncode:
            sys.exit(f"policy-lint: terraform init of {module} failed:\n{init.stdout}{init.stderr}")
        test = run("test", "-test-directory=lint", "-verbose", "-json", "-no-color")
    docs = []
    state = None
    for line in test.stdout.splitlines():
        msg = json.loads(line)
        if msg.get("type") == "test_state":
            state = msg["test_state"]
        elif msg.get("type") == "diagnostic" and msg.get("@level") == "error":
            print(f"policy-lint: {module}: {msg['@message']}: {msg.get('diagnostic', {}).get('detail', '')}")
    if state is None:
        sys.exit(f"policy-lint: terraform test of {module} rendered nothing:\n{test.stdout[-3000:]}{test.stderr}")
    seen = set()
    resources = state["root_module"].get("resources", [])
    # Documents first, then attributes that are not one of them.
    for r in sorted(resources, key=lambda r: r["type"] != "aws_iam_policy_document"):
        kind = "data" if r["mode"] == "data" else "resource"
        for attr in ("json", "policy", "assume_role_policy"):
            value = r.get("values", {}).get(attr)
            if not value or '"Statement"' not in value:
                continue
            key = json.dumps(json.loads(value), sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            source = found.get((kind, r["type"], r["name"]))
            # A document made from others (source_policy_documents) inherits their suppressions.
            inherited = "".join(found.get(("data", "aws_iam_policy_document", n), ("", ""))[1]
                                for n in re.findall(r"data\.aws_iam_policy_document\.(\w+)\.json", source[1] if source else ""))
            docs.append((f"{r['address']}.{attr}" if attr != "json" else r["address"], source, inherited, value))
    return docs


def statement_lines(doc):
    """The pretty-printed document and, per statement, (first line, last line, Sid)."""
    text = json.dumps(doc, indent=2)
    statements = doc.get("Statement", [])
    if not isinstance(statements, list):
        return text, [(1, len(text.split("\n")), statements.get("Sid"))]
    lines = text.split("\n")
    line = next(i for i, l in enumerate(lines) if l.strip().startswith('"Statement": [')) + 2
    spans = []
    for s in statements:
        n = len(json.dumps(s, indent=2).split("\n"))
        spans.append((line, line + n - 1, s.get("Sid")))
        line += n
    return text, spans


def lint(name, source, inherited, policy_json, analyze):
    """(problems, number of findings suppressed) of one document."""
    file, block = source if source else ("?", "")
    skips = [(m.group(1), m.group(2), m.group(3).strip()) for m in map(SKIP.search, block.splitlines()) if m]
    own = len(skips)
    skips += [(m.group(1), m.group(2), m.group(3).strip()) for m in map(SKIP.search, inherited.splitlines()) if m]
    problems = [f"{file}: {name}: suppression of {issue} without a reason" for issue, _, why in skips if not why]
    text, spans = statement_lines(json.loads(policy_json))
    used, suppressed, reported = set(), 0, set()
    for finding in analyze(text, name).findings:
        line = (finding.location or {}).get("line") or 0
        sid = next((s for first, last, s in spans if first <= line <= last), None)
        match = next((i for i, (issue, want, _) in enumerate(skips)
                      if issue == finding.issue and (want is None or want == sid)), None)
        if match is not None:
            used.add(match)
            suppressed += 1
            continue
        key = (finding.issue, sid, str(finding.detail))
        if key not in reported:
            reported.add(key)
            where = f"statement {sid}" if sid else f"line {line}"
            problems.append(f"{file}: {name}, {where}: {finding.issue} ({finding.title}): {finding.detail}")
    problems += [f"{file}: {name}: #parliament:skip={issue}{'@' + sid if sid else ''} matches no finding"
                 for i, (issue, sid, _) in enumerate(skips[:own]) if i not in used]
    return problems, suppressed


def main(argv):
    from parliament import analyze_policy_string  # in .local/parliament-venv (make setup)

    analyze = lambda text, name: analyze_policy_string(text, name)
    if argv[:1] == ["--policy"]:
        docs = [(p, None, "", open(p).read()) for p in argv[1:] if p != "--policy"]
    else:
        docs = [d for m in MODULES for d in render(m)]
    problems, suppressed = [], 0
    for name, source, inherited, policy in docs:
        p, s = lint(name, source, inherited, policy, analyze)
        problems += p
        suppressed += s
    for p in problems:
        print(f"FAIL {p}")
    print(f"policy-lint: {len(docs)} policy documents, {len(problems)} problems, {suppressed} findings suppressed with a reason")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
