#!/usr/bin/env python3
"""Helpers for bench/run.sh (standard library only).

    report.py oha FILE.json                 -> "requests rps p50_ms p99_ms max_ms non2xx errors codes"
    report.py pgbench FILE.txt              -> "transactions tps latency_avg_ms failed"
    report.py extract-sql LOG DB OUT_PAGE OUT_BOTH OUT_ALL
                                            -> the county list's SQL from a PostgreSQL log excerpt
    report.py table RESULTS.tsv BACKEND     -> the final markdown table (medians over the rounds)
"""

import json
import re
import statistics
import sys
from collections import defaultdict

# Targets: issue 14's "must reach" column where it sets one, otherwise proposed (marked).
# key -> (text shown, check(figure) -> bool)
TARGETS = {
    "list16": ("p99 ≤ 50 ms (proposed)", lambda f: f["p99"] <= 50),
    "list16_sqlite": ("≥ 2,000 req/s", lambda f: f["rps"] >= 2000),
    "small": ("p99 ≤ 5 ms", lambda f: f["p99"] <= 5),
    "overdue": ("p99 ≤ 50 ms (proposed)", lambda f: f["p99"] <= 50),
    "deep_ratio": ("≥ 0.7", lambda v: v >= 0.7),
    "search": ("p99 ≤ 50 ms", lambda f: f["p99"] <= 50),
    "fixed": ("p99 ≤ 50 ms (proposed)", lambda f: f["p99"] <= 50),
    "login_ratio": ("≤ 2", lambda v: v <= 2),
    "create_postgres": ("≥ 1,000 req/s", lambda f: f["rps"] >= 1000),
    "create_sqlite": ("p99 ≤ 100 ms", lambda f: f["p99"] <= 100),
    "stats": ("max ≤ 100 ms", lambda f: f["max"] <= 100),
    "pgbench_ratio_page": ("≥ 0.7", lambda v: v >= 0.7),
    "pgbench_ratio_both": ("≥ 0.7", lambda v: v >= 0.7),
    "errors": ("0", lambda v: v == 0),
}


def oha(path):
    with open(path) as f:
        d = json.load(f)
    s, pct = d["summary"], d.get("latencyPercentiles") or {}
    codes = d.get("statusCodeDistribution") or {}
    errors = d.get("errorDistribution") or {}
    ok = sum(n for c, n in codes.items() if str(c).startswith("2"))
    n = sum(codes.values())

    def ms(v):
        return -1 if v is None else v * 1000

    code_text = ",".join(f"{c}:{k}" for c, k in sorted(codes.items())) or "-"
    if errors:
        code_text += ";" + ",".join(f"{e.replace(' ', '_')[:60]}:{k}" for e, k in errors.items())
    print(n, f"{s.get('requestsPerSec') or 0:.1f}", f"{ms(pct.get('p50')):.2f}", f"{ms(pct.get('p99')):.2f}",
          f"{ms(s.get('slowest')):.2f}", n - ok, sum(errors.values()), code_text)


def pgbench(path):
    text = open(path).read()

    def grab(pattern, default="0"):
        m = re.search(pattern, text)
        return m.group(1) if m else default

    print(grab(r"number of transactions actually processed: (\d+)"),
          grab(r"tps = ([\d.]+) \(without initial connection time\)"),
          grab(r"latency average = ([\d.]+) ms"),
          grab(r"number of failed transactions: (\d+)"))


# ---------------------------------------------------------------- SQL capture

LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[(\d+)\] (\S*)@(\S*) ([A-Z]+):  (.*)$")


def records(lines, db):
    """(pid, kind, text) records of one database from a PostgreSQL stderr log."""
    out, cur = [], None
    for line in lines:
        m = LINE.match(line)
        if m:
            cur = None
            pid, _user, dbname, kind, text = m.groups()
            if dbname == db:
                cur = [pid, kind, text]
                out.append(cur)
        elif cur is not None and (line.startswith("\t") or line.startswith(" ")):
            cur[2] += "\n" + line.lstrip("\t")
    return out


def literal(v):
    return v  # the log already quotes parameter values as SQL literals ('...', NULL)


def parse_params(text):
    """'$1 = '431302', $2 = NULL' -> {1: "'431302'", 2: "NULL"}."""
    params, i = {}, 0
    for m in re.finditer(r"\$(\d+) = ('(?:[^']|'')*'|NULL)", text):
        params[int(m.group(1))] = m.group(2)
        i += 1
    return params


def substitute(sql, params):
    # replace $N outside string literals
    out, i, n = [], 0, len(sql)
    while i < n:
        c = sql[i]
        if c == "'":
            j = i + 1
            while j < n:
                if sql[j] == "'" and (j + 1 >= n or sql[j + 1] != "'"):
                    break
                j += 2 if sql[j] == "'" else 1
            out.append(sql[i:j + 1])
            i = j + 1
        elif c == "$" and i + 1 < n and sql[i + 1].isdigit():
            j = i + 1
            while j < n and sql[j].isdigit():
                j += 1
            k = int(sql[i + 1:j])
            out.append(params.get(k, sql[i:j]))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def extract_sql(log_path, db, out_page, out_both, out_all):
    with open(log_path, encoding="utf-8", errors="replace") as f:
        recs = records(f.read().splitlines(), db)
    stmts = []  # (pid, sql) in log order
    for i, (pid, kind, text) in enumerate(recs):
        if kind != "LOG":
            continue
        m = re.match(r"duration: [\d.]+ ms  (?:statement: (.*)|execute (\S+): (.*))$", text, re.S)
        if not m:
            continue
        if m.group(1) is not None:
            stmts.append((pid, m.group(1).strip()))
            continue
        sql = m.group(3).strip()
        params = {}
        nxt = recs[i + 1] if i + 1 < len(recs) else None
        if nxt and nxt[0] == pid and nxt[1] == "DETAIL" and nxt[2].startswith("parameters:"):
            params = parse_params(nxt[2])
        stmts.append((pid, substitute(sql, params)))
    page = [s for _, s in stmts if re.search(r'FROM "hazards"', s) and "LIMIT" in s.upper()]
    principal = [s for _, s in stmts if re.search(r'"sessions"', s) and re.search(r'"accounts"', s)]
    # The request's own connections: background jobs (reminders, the sealer) write beside it.
    pids = {pid for pid, s in stmts if s in (page[-1:] + principal[-1:])}
    stmts = [(pid, s) for pid, s in stmts if pid in pids]
    if not page or not principal:
        sys.exit(f"could not find the page query ({len(page)}) and the principal query ({len(principal)}) "
             f"among {len(stmts)} statements of {db} in {log_path}")
    # the last request's statements: from the last principal query on
    last = max(i for i, (_, s) in enumerate(stmts) if s == principal[-1])
    request = [s for _, s in stmts[last - 1 if last and stmts[last - 1][1] == "SELECT 1" else last:]]
    if page[-1] in request:
        request = request[: request.index(page[-1]) + 1]
    with open(out_page, "w") as f:
        f.write(page[-1].rstrip(";") + ";\n")
    with open(out_both, "w") as f:
        f.write(principal[-1].rstrip(";") + ";\n" + page[-1].rstrip(";") + ";\n")
    with open(out_all, "w") as f:
        f.write("".join(s.rstrip(";") + ";\n" for s in request))
    print(f"{len(request)} statements per request: " + " | ".join(s[:40].replace("\n", " ") for s in request))


# ---------------------------------------------------------------- the table


def load(tsv):
    rows = defaultdict(dict)  # name -> rep -> fields
    with open(tsv) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            v = dict(zip(header, line.rstrip("\n").split("\t")))
            rows[v["name"]][int(v["rep"])] = v
    return rows


def num(v, key):
    try:
        return float(v[key])
    except (KeyError, ValueError):
        return float("nan")


def med(values):
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def notes_of(tsv):
    import os
    notes = {}
    path = os.path.join(os.path.dirname(tsv), "notes.txt")
    if os.path.exists(path):
        for line in open(path):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                notes[k] = v
    return notes


def table(tsv, backend):
    rows = load(tsv)
    notes = notes_of(tsv)
    out = []

    def fig(name):
        reps = rows.get(name, {})
        if not reps:
            return None
        f = {k: med([num(v, k) for v in reps.values()]) for k in
             ("rps", "p50", "p99", "max", "cpu_ms", "db_cpu_ms", "requests")}
        f["bad"] = sum(int(num(v, "non2xx")) + int(num(v, "errors")) for v in reps.values())
        f["reps"] = len(reps)
        return f

    def ratio(a, b, key, invert=False):
        """median over the rounds of a[key]/b[key] (the pair ran interleaved in each round)."""
        ra, rb = rows.get(a, {}), rows.get(b, {})
        vals = []
        for rep in ra:
            if rep in rb:
                x, y = num(ra[rep], key), num(rb[rep], key)
                if y and y == y and x == x:
                    vals.append(y / x if invert else x / y)
        return med(vals)

    def cpu(f):
        s = f"CPU {f['cpu_ms']:.2f} ms/req"
        if f["db_cpu_ms"] == f["db_cpu_ms"] and f["db_cpu_ms"] >= 0:
            s += f" + PostgreSQL {f['db_cpu_ms']:.2f} ms/req"
        return s

    def add(what, figure, target_key, value):
        if target_key:
            text, check = TARGETS[target_key]
            ok = value is not None and value == value and check(value)
            target = f"{text} {'✓' if ok else '✗'}"
        else:
            target = "—"
        out.append(f"| {what} | {figure} | {target} |")

    def line(name, what, target_key, style="load"):
        f = fig(name)
        if not f:
            return
        bad = f" ({f['bad']} non-2xx/failed!)" if f["bad"] else ""
        if style == "load":
            figure = f"{f['rps']:.0f} req/s, p50 {f['p50']:.1f} ms, p99 {f['p99']:.1f} ms, {cpu(f)}{bad}"
        elif style == "latency":
            figure = f"p50 {f['p50']:.2f} ms, p99 {f['p99']:.2f} ms, {cpu(f)}{bad}"
        elif style == "p99":
            figure = f"p99 {f['p99']:.1f} ms ({f['rps']:.0f} req/s, p50 {f['p50']:.1f} ms){bad}"
        else:  # stats
            figure = f"p50 {f['p50']:.1f} ms, max {f['max']:.1f} ms{bad}"
        add(what, figure, target_key, f)

    out.append("| what | figure | target |")
    out.append("|---|---|---|")
    line("county_rectifying_c16", "county officer `status=rectifying&limit=50`, 16 conn",
         "list16_sqlite" if backend == "sqlite" else "list16")
    for name, what in [("zone_empty_c1", "empty-zone officer (431300-WBXQ) default list, 1 conn"),
                       ("township_c1", "township officer default list, 1 conn"),
                       ("department_c1", "department officer (娄星区应急管理局) default list, 1 conn"),
                       ("enterprise_c1", "enterprise user (busy enterprise) default list, 1 conn")]:
        line(name, what, "small", "latency")
    who = {"county": "county officer", "city": "city admin"}.get(notes.get("overdue_caller"), "county officer")
    deep = notes.get("overdue_page", "21")
    line("overdue_p1_c16", f"`overdue=true&sort=rectification_deadline` page 1, {who}, 16 conn", "overdue")
    line("overdue_p21_c16", f"… page {deep} (cursor walked {int(deep) - 1} times), 16 conn", "overdue")
    if fig("overdue_p1_c16") and fig("overdue_p21_c16"):
        v = ratio("overdue_p21_c16", "overdue_p1_c16", "rps")
        add(f"page {deep} ÷ page 1, req/s", f"{v:.2f}", "deep_ratio", v)
    for name, what in [("search_baojing_county", "search `q=报警`, county officer, 4 conn"),
                       ("search_qiti_county", "search `q=气体报警`, county officer, 4 conn"),
                       ("search_code_county", "search `q=431302-2025`, county officer, 4 conn"),
                       ("search_baojing_city", "search `q=报警`, city admin, 4 conn"),
                       ("search_qiti_city", "search `q=气体报警`, city admin, 4 conn"),
                       ("search_code_city", "search `q=431302-2025`, city admin, 4 conn")]:
        line(name, what, "search", "p99")
    qps = notes.get("fixed_qps", "200")
    line("fixed_alone", f"county list at a fixed {qps} req/s, alone", "fixed", "p99")
    line("fixed_logins", "… the same while 4 conn hammer `POST /auth/login`", "fixed", "p99")
    lf = fig("login_hammer")
    if fig("fixed_alone") and fig("fixed_logins"):
        v = ratio("fixed_logins", "fixed_alone", "p99")
        extra = f" (logins: {lf['rps']:.1f}/s, p99 {lf['p99']:.0f} ms)" if lf else ""
        add("p99 with logins ÷ p99 alone", f"{v:.2f}{extra}", "login_ratio", v)
    line("create_c8", "create hazard `POST /hazards`, 8 conn", f"create_{backend}")
    line("create_c16", "create hazard `POST /hazards`, 16 conn", f"create_{backend}")
    line("stats_jurisdiction_admin", "stats `group_by=jurisdiction`, city admin, 1 at a time", "stats", "stats")
    line("stats_sector_admin", "stats `group_by=sector`, city admin, 1 at a time", "stats", "stats")
    line("stats_month_county", "stats `group_by=month`, county officer, 1 at a time", "stats", "stats")
    for name, what in [("pgbench_page", "pgbench: the county page query alone, 16 clients"),
                       ("pgbench_both", "pgbench: principal + page query, 16 clients")]:
        f = fig(name)
        if f:
            bad = f" ({int(f['bad'])} failed!)" if f["bad"] else ""
            add(what, f"{f['rps']:.0f} tps, latency avg {f['p50']:.2f} ms{bad}", None, None)
    if fig("pgbench_page"):
        v = ratio("county_rectifying_c16", "pgbench_page", "rps")
        add("API req/s ÷ pgbench tps (page query only)", f"{v:.2f}", "pgbench_ratio_page", v)
    if fig("pgbench_both"):
        v = ratio("county_rectifying_c16", "pgbench_both", "rps")
        add("API req/s ÷ pgbench tps (principal + page query)", f"{v:.2f}", "pgbench_ratio_both", v)
    bad = {n: sum(int(num(v, "non2xx")) + int(num(v, "errors")) for v in reps.values())
           for n, reps in rows.items() if n != "login_hammer"}
    total = sum(bad.values())
    which = ", ".join(f"{n}: {k}" for n, k in bad.items() if k)
    add("non-2xx or failed requests, all scenarios", f"{total}" + (f" ({which})" if which else ""), "errors", total)
    lh = rows.get("login_hammer", {})
    shed = sum(int(num(v, "non2xx")) for v in lh.values())
    if lh:
        codes = " ".join(v.get("codes", "") for v in lh.values())
        add("login hammer answers (not counted above)", f"{shed} non-2xx of {sum(int(num(v, 'requests')) for v in lh.values())} [{codes}]", None, None)
    reps = max((len(v) for v in rows.values()), default=0)
    print(f"\n### {backend}: medians of {reps} rounds; server {notes.get('git', '?')}\n")
    print("\n".join(out))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "oha":
        oha(*args)
    elif cmd == "pgbench":
        pgbench(*args)
    elif cmd == "extract-sql":
        extract_sql(*args)
    elif cmd == "table":
        table(*args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
