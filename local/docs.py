#!/usr/bin/env python3
"""The documentation's generated tables and its link check (`make docs`, `make lint`).

    docs.py generate   rewrite every generated table in place
    docs.py check      fail (exit 1) when a generated table is stale, a relative link or anchor is
                       dead, a repository path a page names is missing, or a `make X` names no target
    docs.py selftest   show that `check` fails on a stale table, a dead link, a dead anchor, a
                       missing path, an unknown make target and a malformed settings list

Generated tables sit between marker comments, e.g.

    <!-- BEGIN GENERATED: terraform-inputs infra/control (make docs) -->
    ...
    <!-- END GENERATED -->

Sources: `SETTINGS` in crates/event-core/src/config.rs (read from the source text by a strict parser
that stops on anything it does not expect), and each module's variables.tf and outputs.tf (parsed with
python-hcl2, pinned in local/requirements-docs.txt). Offline; takes well under a second.
"""

import os
import re
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG_RS = "crates/event-core/src/config.rs"
# The pages checked: every relative link and every repository path they name.
PAGE_GLOBS = ["README.md", "docs", "infra/control/README.md", "infra/event-tier/README.md",
              "local/EMULATOR-GAPS.md"]
# Paths under these are build output or local state, not repository files.
NOT_IN_REPO = {"dist", "target", ".local", ".terraform"}

BEGIN = re.compile(r"<!-- BEGIN GENERATED: ([a-z-]+)(?: ([^\s]+))? \(make docs\) -->\n")
END = "<!-- END GENERATED -->"


class Problem(Exception):
    pass


class Repo:
    """The files of the repository, with optional in-memory replacements (the self-test's)."""

    def __init__(self, root, overrides=None):
        self.root = root
        self.overrides = overrides or {}  # path -> text, or None for a deleted file

    def read(self, path):
        if path in self.overrides:
            if self.overrides[path] is None:
                raise Problem(f"{path}: missing")
            return self.overrides[path]
        with open(os.path.join(self.root, path), encoding="utf-8") as f:
            return f.read()

    def exists(self, path):
        path = os.path.normpath(path)
        if path in self.overrides:
            return self.overrides[path] is not None
        return os.path.exists(os.path.join(self.root, path))

    def glob_exists(self, pattern):
        import glob
        return bool(glob.glob(os.path.join(self.root, pattern)))

    def pages(self):
        found = []
        for entry in PAGE_GLOBS:
            full = os.path.join(self.root, entry)
            if os.path.isdir(full):
                for dirpath, _, files in os.walk(full):
                    found += [os.path.relpath(os.path.join(dirpath, f), self.root)
                              for f in files if f.endswith(".md")]
            elif os.path.exists(full) or entry in self.overrides:
                found.append(entry)
        found += [p for p, t in self.overrides.items()
                  if t is not None and p.endswith(".md") and p.startswith("docs/")]
        return sorted(set(found))


# --- SETTINGS in config.rs -------------------------------------------------------------------

TOKEN = re.compile(r'\s+|//[^\n]*|"(?P<str>[^"\\\n]*)"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>::|[{}()\[\],:;&=])')


def tokens(text):
    pos = 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            raise Problem(f"{CONFIG_RS}: SETTINGS: unexpected text {text[pos:pos + 30]!r}")
        pos = m.end()
        if m.group("str") is not None:
            yield ("str", m.group("str"))
        elif m.group("word"):
            yield ("word", m.group("word"))
        elif m.group("punct"):
            yield ("punct", m.group("punct"))


def read_settings(repo):
    """[(name, default, description)], default being "required", "unset" or ("value", text)."""
    src = repo.read(CONFIG_RS)
    start = src.find("pub const SETTINGS: &[Setting] = &[")
    if start < 0:
        raise Problem(f"{CONFIG_RS}: no `pub const SETTINGS: &[Setting] = &[`")
    body_start = src.index("&[", src.index("=", start)) + 2
    end = src.find("\n];", body_start)
    if end < 0:
        raise Problem(f"{CONFIG_RS}: SETTINGS does not end with a line `];`")
    toks = list(tokens(src[body_start:end]))
    i = 0

    def expect(kind, value=None):
        nonlocal i
        if i >= len(toks):
            raise Problem(f"{CONFIG_RS}: SETTINGS: ended early, expected {value or kind}")
        k, v = toks[i]
        if k != kind or (value is not None and v != value):
            raise Problem(f"{CONFIG_RS}: SETTINGS: expected {value or kind}, found {v!r}")
        i += 1
        return v

    settings = []
    while i < len(toks):
        expect("word", "Setting")
        expect("punct", "{")
        fields = {}
        for field in ("name", "default", "description"):
            expect("word", field)
            expect("punct", ":")
            if field == "default":
                expect("word", "SettingDefault")
                expect("punct", "::")
                kind = expect("word")
                if kind == "Required":
                    fields[field] = "required"
                elif kind == "Unset":
                    fields[field] = "unset"
                elif kind == "Value":
                    expect("punct", "(")
                    fields[field] = ("value", expect("str"))
                    if toks[i] == ("punct", ","):
                        i += 1
                    expect("punct", ")")
                else:
                    raise Problem(f"{CONFIG_RS}: SETTINGS: unknown default {kind!r}")
            else:
                fields[field] = expect("str")
            if i < len(toks) and toks[i] == ("punct", ","):
                i += 1
        expect("punct", "}")
        expect("punct", ",")
        settings.append((fields["name"], fields["default"], fields["description"]))
    if not settings:
        raise Problem(f"{CONFIG_RS}: SETTINGS is empty")
    return settings


def cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def settings_table(repo, _arg):
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, default, description in read_settings(repo):
        shown = f"`{default[1]}`" if isinstance(default, tuple) else default
        rows.append(f"| `{name}` | {cell(shown)} | {cell(description)} |")
    return rows


# --- Terraform variables and outputs ---------------------------------------------------------

def hcl_blocks(repo, module, filename, kind):
    import hcl2  # python-hcl2, pinned in local/requirements-docs.txt
    path = f"{module}/{filename}"
    try:
        doc = hcl2.loads(repo.read(path))
    except Problem:
        raise
    except Exception as e:  # the parser's own errors name line and column
        raise Problem(f"{path}: {e}") from e
    blocks = []
    for item in doc.get(kind, []):
        if len(item) != 1:
            raise Problem(f"{path}: unexpected {kind} block {item!r}")
        (name, body), = item.items()
        blocks.append((unquote(name, path), body))
    if not blocks:
        raise Problem(f"{path}: no {kind} blocks")
    return blocks


def unquote(value, where):
    if not (isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"'):
        raise Problem(f"{where}: expected a string literal, got {value!r}")
    inner = re.sub(r'\\(["\\])', r"\1", value[1:-1])
    if inner.startswith("<<"):  # a heredoc: its first paragraph, on one line
        lines = inner.split("\n")[1:-1]
        text = textwrap.dedent("\n".join(lines)).strip()
        first = " ".join(text.split("\n\n")[0].split())
        first = re.split(r"(?<=[.:])\s", first, maxsplit=1)[0]
        return first + " (in full: the description in `variables.tf`)"
    return inner


def hcl_value(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        if v.startswith("${") and v.endswith("}"):
            return v[2:-1]
        if v.startswith('"') and v.endswith('"'):
            return v
        if re.fullmatch(r"[a-z]+", v):  # a type keyword: string, number, bool, any
            return v
        raise Problem(f"unexpected value {v!r}")
    if isinstance(v, list):
        return "[" + ", ".join(hcl_value(x) for x in v) + "]"
    if isinstance(v, dict):
        items = [(k, x) for k, x in v.items() if not k.startswith("__")]
        return "{" + ", ".join(f"{k.strip(chr(34))} = {hcl_value(x)}" for k, x in items) + "}"
    raise Problem(f"unexpected value {v!r}")


def code(text):
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def inputs_table(repo, module):
    path = f"{module}/variables.tf"
    rows = ["| name | type | default | description | validation |",
            "| --- | --- | --- | --- | --- |"]
    for name, body in hcl_blocks(repo, module, "variables.tf", "variable"):
        for required in ("description", "type"):
            if required not in body:
                raise Problem(f"{path}: variable {name} has no {required}")
        default = code(hcl_value(body["default"])) if "default" in body else "required"
        # The validations' own messages: what the plan says when a value is refused.
        rules = " ".join(unquote(v["error_message"], path) for v in body.get("validation", []))
        rows.append(f"| `{name}` | {cell(code(hcl_value(body['type'])))} | {cell(default)} | "
                    f"{cell(unquote(body['description'], path))} | {cell(rules)} |")
    return rows


def outputs_table(repo, module):
    path = f"{module}/outputs.tf"
    rows = ["| name | description |", "| --- | --- |"]
    for name, body in hcl_blocks(repo, module, "outputs.tf", "output"):
        if "description" not in body:
            raise Problem(f"{path}: output {name} has no description")
        text = unquote(body["description"], path)
        if body.get("sensitive") is True:
            text += " (sensitive)"
        rows.append(f"| `{name}` | {cell(text)} |")
    return rows


GENERATORS = {
    "settings": settings_table,
    "terraform-inputs": inputs_table,
    "terraform-outputs": outputs_table,
}


def regenerate(repo, page, text):
    """The page with each generated block rebuilt from its source."""
    out, pos = [], 0
    for m in BEGIN.finditer(text):
        kind, arg = m.group(1), m.group(2)
        if kind not in GENERATORS:
            raise Problem(f"{page}: unknown generated block {kind!r}")
        if kind.startswith("terraform") and not (arg and repo.exists(f"{arg}/variables.tf")):
            raise Problem(f"{page}: {kind} needs a module directory, got {arg!r}")
        end = text.find(END, m.end())
        nxt = BEGIN.search(text, m.end())
        if end < 0 or (nxt and nxt.start() < end):
            raise Problem(f"{page}: {kind} {arg or ''}: no {END}")
        out.append(text[pos:m.end()])
        out.append("\n".join(GENERATORS[kind](repo, arg)) + "\n")
        pos = end
    out.append(text[pos:])
    return "".join(out)


# --- links, anchors, paths, make targets -----------------------------------------------------

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.S | re.M)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)
HTML_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"")
PATHLIKE = re.compile(r"^\.?[A-Za-z0-9_][\w.-]*(/[\w.*-]+)+/?$")
MAKE = re.compile(r"^make ([a-z][\w-]*)")


def anchors(text):
    found, seen = set(), {}
    for title in HEADING.findall(FENCE.sub("", text)):
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found | set(HTML_ANCHOR.findall(text))


def make_targets(repo):
    return set(re.findall(r"^([a-z][\w-]*)\s*:(?!=)", repo.read("Makefile"), re.M))


def check_links(repo, page, text, targets, top_level):
    problems = []
    here = os.path.dirname(page)
    prose = FENCE.sub("", text)
    for target in LINK.findall(prose):
        if re.match(r"^[a-z]+:", target):
            continue  # http(s), mailto: not checked (offline)
        path, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(here, path)) if path else page
        if not repo.exists(dest):
            problems.append(f"{page}: dead link {target}")
        elif anchor and dest.endswith(".md") and anchor not in anchors(repo.read(dest)):
            problems.append(f"{page}: dead anchor {target}")
    for _, span in CODE_SPAN.findall(LINK.sub("", prose)):
        span = span.strip()
        m = MAKE.match(span)
        if m:
            if m.group(1) not in targets:
                problems.append(f"{page}: `{span}`: the Makefile has no target {m.group(1)}")
            continue
        if not PATHLIKE.match(span) or any(c in span for c in "<>{}$="):
            continue
        first = span.split("/")[0]
        if first in NOT_IN_REPO:
            continue
        # A path from the repository's root, or from the page's own directory (a module README).
        candidates = [span, os.path.join(here, span)] if here else [span]
        if first not in top_level and not (here and repo.exists(os.path.join(here, first))):
            continue  # not a path of this repository (an S3 key, a log group, ...)
        if "*" in span:
            ok = any(repo.glob_exists(c) for c in candidates)
        else:
            ok = any(repo.exists(c.rstrip("/")) for c in candidates)
        if not ok:
            problems.append(f"{page}: names `{span}`, which does not exist")
    return problems


# --- commands --------------------------------------------------------------------------------

def check(repo):
    problems = []
    targets = make_targets(repo)
    top_level = set(os.listdir(repo.root)) | {p.split("/")[0] for p in repo.overrides}
    for page in repo.pages():
        text = repo.read(page)
        try:
            if regenerate(repo, page, text) != text:
                problems.append(f"{page}: a generated table is stale: run `make docs`")
        except Problem as e:
            problems.append(str(e))
        problems += check_links(repo, page, text, targets, top_level)
    return problems


def generate(repo):
    changed = []
    for page in repo.pages():
        text = repo.read(page)
        new = regenerate(repo, page, text)
        if new != text:
            with open(os.path.join(repo.root, page), "w", encoding="utf-8") as f:
                f.write(new)
            changed.append(page)
    return changed


def selftest():
    """Each change below must make `check` fail, naming the problem; the tree as it is must pass."""
    base = Repo(ROOT)
    if check(base):
        raise SystemExit("docs self-test: the tree itself fails the check (run `docs.py check`)")
    config = base.read(CONFIG_RS)
    tier_vars = base.read("infra/event-tier/variables.tf")
    readme = base.read("README.md")
    first_setting = read_settings(base)[0]
    cases = [
        ("a setting's description changed in config.rs",
         {CONFIG_RS: config.replace(f'"{first_setting[2]}"', '"changed"', 1)},
         "docs/configuration.md: a generated table is stale"),
        ("a variable added to infra/event-tier",
         {"infra/event-tier/variables.tf": tier_vars
          + '\nvariable "new_knob" {\n  description = "x"\n  type = number\n  default = 1\n}\n'},
         "infra/event-tier/README.md: a generated table is stale"),
        ("an entry of SETTINGS the parser does not expect",
         {CONFIG_RS: config.replace("default: SettingDefault::Required", "default: required()", 1)},
         "SETTINGS: expected SettingDefault"),
        ("a link to a page that does not exist",
         {"README.md": readme + "\n[gone](docs/gone.md)\n"}, "README.md: dead link docs/gone.md"),
        ("a link to a heading that does not exist",
         {"README.md": readme + "\n[gone](docs/runbook.md#no-such-row)\n"},
         "README.md: dead anchor docs/runbook.md#no-such-row"),
        ("a path that does not exist",
         {"README.md": readme + "\nSee `local/gone.py`.\n"}, "names `local/gone.py`"),
        ("a file the pages name, deleted",
         {"local/bench.py": None}, "names `local/bench.py`"),
        ("a make target that does not exist",
         {"README.md": readme + "\nRun `make gone`.\n"}, "has no target gone"),
    ]
    for title, overrides, expected in cases:
        problems = check(Repo(ROOT, overrides))
        if not any(expected in p for p in problems):
            raise SystemExit(f"docs self-test: {title}: the check did not fail with {expected!r}"
                             f" (it said {problems})")
        print(f"docs self-test: {title}: fails as it should: {next(p for p in problems if expected in p)}")
    print(f"docs self-test: {len(cases)} passed, 0 failed")


def main(argv):
    cmd = argv[1] if len(argv) == 2 else ""
    try:
        if cmd == "generate":
            changed = generate(Repo(ROOT))
            print("docs: regenerated " + (", ".join(changed) if changed else "nothing (up to date)"))
        elif cmd == "check":
            problems = check(Repo(ROOT))
            for p in problems:
                print(f"docs: {p}", file=sys.stderr)
            if problems:
                return 1
            print(f"docs: {len(Repo(ROOT).pages())} pages: generated tables current, links and paths alive")
        elif cmd == "selftest":
            selftest()
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except Problem as e:
        print(f"docs: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
