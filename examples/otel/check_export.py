#!/usr/bin/env python3
"""Checks `gauntlet eval --otlp` against Arize Phoenix, an OTLP consumer gauntlet did not write.

Starts Phoenix (from PyPI: `pip install arize-phoenix`) on free local ports with a throw-away
working folder, runs the offline demo suite on the mock model with `--otlp` pointed at it, then
reads back through Phoenix's REST API what Phoenix stored and checks it against the run's own
report.json: one `invoke_agent` root span per case carrying the case id, status and score; under
it a `chat` span per model call with the model and token usage, an `execute_tool` span per tool
call in the order the report lists them, and an `evaluate` span per judge verdict.

    python3 -m venv .venv-phoenix && .venv-phoenix/bin/pip install arize-phoenix
    cargo build && .venv-phoenix/bin/python examples/otel/check_export.py [SUITE]

Environment: GAUNTLET (the binary, default target/debug/gauntlet). Exit 0 when every check holds.
Only the standard library is used besides Phoenix itself (which runs as a separate process).
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from datetime import datetime

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROJECT = "gauntlet-check"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read() or b"null")


def flatten(value, prefix=""):
    """Phoenix may give attributes nested ({"gen_ai": {"tool": {"name": ...}}}): dotted keys."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: value}


def when(iso):
    """An ISO timestamp as a datetime (sorting the text breaks where the fraction is left out)."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def start_phoenix(workdir):
    port, grpc = free_port(), free_port()
    env = dict(
        os.environ,
        PHOENIX_WORKING_DIR=workdir,
        PHOENIX_HOST="127.0.0.1",
        PHOENIX_PORT=str(port),
        PHOENIX_GRPC_PORT=str(grpc),
        # Nothing to fetch from the internet for this check.
        PHOENIX_ALLOW_EXTERNAL_RESOURCES="false",
        PHOENIX_TELEMETRY_ENABLED="false",
    )
    log = open(os.path.join(workdir, "phoenix.log"), "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "phoenix.server.main", "serve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"phoenix exited early; see {log.name}")
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2)
            return proc, base
        except OSError:
            time.sleep(1)
    proc.terminate()
    sys.exit(f"phoenix did not come up in 180 s; see {log.name}")


def stored_spans(base, want):
    """Every span of the project, once `want` of them arrived (or after 60 s, what there is)."""
    deadline = time.time() + 60
    while True:
        spans, cursor = [], None
        try:
            while True:
                q = {"limit": 1000}
                if cursor:
                    q["cursor"] = cursor
                page = get(f"{base}/v1/projects/{PROJECT}/spans?{urllib.parse.urlencode(q)}")
                spans += page["data"]
                cursor = page.get("next_cursor")
                if not cursor:
                    break
        except urllib.error.HTTPError as e:
            if e.code != 404:  # 404: the project does not exist until its first span arrives
                raise
        if len(spans) >= want or time.time() > deadline:
            return spans
        time.sleep(1)


def main():
    suite = sys.argv[1] if len(sys.argv) > 1 else "suites/support.yaml"
    gauntlet = os.environ.get("GAUNTLET", os.path.join(ROOT, "target", "debug", "gauntlet"))
    with tempfile.TemporaryDirectory() as work:
        proc, base = start_phoenix(work)
        try:
            out = os.path.join(work, "reports")
            env = dict(os.environ, OTEL_RESOURCE_ATTRIBUTES=f"openinference.project.name={PROJECT}")
            run = subprocess.run(
                [gauntlet, "eval", suite, "--out", out, "--no-progress", "--otlp", base],
                cwd=ROOT, env=env, capture_output=True, text=True,
            )
            if run.returncode not in (0, 1) or "--otlp" in run.stderr:
                sys.exit(f"eval failed ({run.returncode}):\n{run.stderr}")
            name = os.path.basename(suite).rsplit(".", 1)[0]
            report = json.load(open(os.path.join(out, name, "report.json")))
            # The report's representative run of each case; with `repeat` 1, its only run.
            cases = {c["id"]: c for c in report["cases"]}
            judges = sum(1 for c in cases.values() for v in c["checks"] if v["check"].startswith("judge "))
            want = sum(1 + c["steps"] + len(c["tools"]) for c in cases.values()) + judges
            spans = stored_spans(base, want)
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    problems = []
    by_parent = defaultdict(list)
    for s in spans:
        s["attrs"] = flatten(s.get("attributes") or {})
        by_parent[s.get("parent_id")].append(s)
    roots = [s for s in spans if not s.get("parent_id")]
    seen = {}
    for root in roots:
        a = root["attrs"]
        if a.get("gen_ai.operation.name") != "invoke_agent":
            problems.append(f"root span {root['name']} is not invoke_agent")
            continue
        case = cases.get(a.get("gauntlet.case.id"))
        if case is None:
            problems.append(f"invoke_agent of an unknown case {a.get('gauntlet.case.id')}")
            continue
        seen[case["id"]] = seen.get(case["id"], 0) + 1
        if a.get("gauntlet.status") != case["status"]:
            problems.append(f"{case['id']}: status {a.get('gauntlet.status')} != {case['status']}")
        if case.get("score") is not None and abs(float(a.get("gauntlet.score", -1)) - case["score"]) > 1e-3:
            problems.append(f"{case['id']}: score {a.get('gauntlet.score')} != {case['score']}")
        children = sorted(by_parent[root["context"]["span_id"]], key=lambda s: when(s["start_time"]))
        ops = [c["attrs"].get("gen_ai.operation.name") for c in children]
        chats = [c for c in children if c["attrs"].get("gen_ai.operation.name") == "chat"]
        tools = [c["attrs"].get("gen_ai.tool.name") for c in children if c["attrs"].get("gen_ai.operation.name") == "execute_tool"]
        if len(chats) != case["steps"]:
            problems.append(f"{case['id']}: {len(chats)} chat spans, {case['steps']} model calls")
        if any("gen_ai.request.model" not in c["attrs"] or "gen_ai.usage.input_tokens" not in c["attrs"] for c in chats):
            problems.append(f"{case['id']}: a chat span without model or usage")
        if tools != case["tools"]:
            problems.append(f"{case['id']}: tool spans {tools} != {case['tools']}")
        case_judges = sum(1 for v in case["checks"] if v["check"].startswith("judge "))
        if ops.count("evaluate") != case_judges:
            problems.append(f"{case['id']}: {ops.count('evaluate')} evaluate spans, {case_judges} judges")
    missing = sorted(set(cases) - set(seen))
    if missing:
        problems.append(f"no invoke_agent span for {missing}")
    twice = sorted(c for c, n in seen.items() if n > 1)
    if twice:
        problems.append(f"more than one invoke_agent span for {twice}")

    kinds = defaultdict(int)
    for s in spans:
        kinds[s["attrs"].get("gen_ai.operation.name")] += 1
    print(f"phoenix stored {len(spans)} spans ({want} expected): "
          + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=str)))
    if problems:
        print("\n".join(f"FAIL: {p}" for p in problems))
        sys.exit(1)
    print(f"ok: {len(cases)} cases, each an invoke_agent trace with its chat, execute_tool and evaluate spans")


if __name__ == "__main__":
    main()
