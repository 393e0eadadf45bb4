#!/usr/bin/env python3
"""Small helpers for run.sh (standard library only, so no curl or jq is needed).

  tools.py free-port
  tools.py wait-ready URL SECONDS PID        poll URL until 200; fail if PID dies or time runs out
  tools.py login BASE_URL USERNAME PASSWORD  print an access token
  tools.py me BASE_URL TOKEN                 exit 0 if the token still signs in (GET /api/v1/me = 200)
  tools.py same-document URL FILE            exit 0 if the served JSON equals the file's
  tools.py fuzz-summary NDJSON [NDJSON...]   group schemathesis failures by check and operation
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from collections import defaultdict


def http(method: str, url: str, body: dict | None = None, token: str | None = None, timeout: float = 10):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def free_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def wait_ready(url: str, seconds: str, pid: str) -> None:
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            sys.exit(f"the server (pid {pid}) exited before {url} answered")
        try:
            status, _ = http("GET", url, timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"{url} did not answer 200 within {seconds}s")


def login(base: str, username: str, password: str) -> None:
    status, body = http("POST", base + "/api/v1/auth/login", {"username": username, "password": password})
    if status != 200:
        sys.exit(f"login as {username} answered {status}: {body[:300]!r}")
    print(json.loads(body)["access_token"])


def me(base: str, token: str) -> None:
    status, body = http("GET", base + "/api/v1/me", token=token)
    if status != 200:
        sys.exit(f"GET /api/v1/me answered {status}: {body[:300]!r}")


def same_document(url: str, path: str) -> None:
    status, body = http("GET", url)
    if status != 200:
        sys.exit(f"{url} answered {status}")
    with open(path, encoding="utf-8") as f:
        on_disk = json.load(f)
    served = json.loads(body)
    if served != on_disk:
        differing = sorted(
            k for k in set(served.get("paths", {})) | set(on_disk.get("paths", {}))
            if served.get("paths", {}).get(k) != on_disk.get("paths", {}).get(k)
        )
        schemas = sorted(
            k for k in set(served.get("components", {}).get("schemas", {})) | set(on_disk.get("components", {}).get("schemas", {}))
            if served.get("components", {}).get("schemas", {}).get(k) != on_disk.get("components", {}).get("schemas", {}).get(k)
        )
        sys.exit(f"the served document differs from {path}: paths {differing[:10]}, schemas {schemas[:10]}")


def fuzz_summary(*paths: str) -> None:
    """Failures in schemathesis NDJSON event streams, grouped by check, then operation and kind,
    with the answers that showed them (status, problem code, first line of the message)."""
    import base64

    groups: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    errors: dict[str, set[str]] = defaultdict(set)
    for path in paths:
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                event = json.loads(line)
                if "NonFatalError" in event:
                    e = event["NonFatalError"]
                    errors[e.get("label") or "?"].add(f"{e['value'].get('type')}: {e['value'].get('message')}")
                    continue
                finished = event.get("ScenarioFinished")
                if not finished:
                    continue
                recorder = finished.get("recorder") or {}
                for case_id, checks in (recorder.get("checks") or {}).items():
                    for chk in checks:
                        if chk.get("status") != "failure":
                            continue
                        failure = (chk.get("failure_info") or {}).get("failure") or {}
                        case = ((recorder.get("cases") or {}).get(case_id) or {}).get("value") or {}
                        operation = f"{case.get('method', '?')} {case.get('path', '?')}"
                        response = ((recorder.get("interactions") or {}).get(case_id) or {}).get("response") or {}
                        status = response.get("status_code", "-")
                        code = ""
                        content = (response.get("content") or {}).get("$base64")
                        if content and isinstance(status, int) and status >= 400:
                            try:
                                body = json.loads(base64.b64decode(content))
                                if isinstance(body, dict) and "code" in body:
                                    code = f" {body['code']}: {' '.join(str(body.get('detail', '')).split())[:160]}"
                            except ValueError:
                                pass
                        message = " ".join(str(failure.get("message", "")).split())
                        title = f"{failure.get('code', '')} {failure.get('title', '')}".strip()
                        groups[(chk.get("name", "?"), operation, title)][f"[{status}{code}] {message[:240]}"] += 1
    if not groups and not errors:
        print("  (no failures recorded)")
        return
    by_check: dict[str, int] = defaultdict(int)
    for (check, _, _), samples in groups.items():
        by_check[check] += sum(samples.values())
    for check in sorted(by_check):
        print(f"  {check}: {by_check[check]} failing case(s)")
        for (c, operation, title), samples in sorted(groups.items()):
            if c != check:
                continue
            print(f"    {operation} -- {title}")
            for sample, n in sorted(samples.items(), key=lambda kv: -kv[1])[:3]:
                print(f"        x{n} {sample}")
    for label in sorted(errors):
        for message in sorted(errors[label]):
            print(f"  error: {label}: {message}")


COMMANDS = {
    "free-port": free_port,
    "wait-ready": wait_ready,
    "login": login,
    "me": me,
    "same-document": same_document,
    "fuzz-summary": fuzz_summary,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
