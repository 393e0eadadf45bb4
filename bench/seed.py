#!/usr/bin/env python3
"""Bulk data generator for the Hazard Registry benchmark (bench/README.md).

    python3 bench/seed.py postgres|sqlite [--enterprises N] [--hazards M] [--fresh] [--seed S]
    python3 bench/seed.py --print-env postgres|sqlite     # the bench server's environment

Flow: start the server once on an empty database (it migrates, loads bench/reference.json and
creates `admin`), stop it, bulk-load enterprises, hazards and listings with SQL (PostgreSQL:
COPY FROM STDIN through psql; SQLite: executemany in one transaction), move
hazard_code_counters past the loaded codes (PostgreSQL: and the code sequences, via
hazard_code_sync()), then (VACUUM) ANALYZE. A database already seeded
with the same sizes is reused unless --fresh. Standard library only.
"""

import argparse
import datetime as dt
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
SEED_VERSION = 2

# "Today" of the data set: discovered_on lies in the two years before DATA_END.
DATA_END = dt.date(2026, 12, 1)
DATA_START = DATA_END - dt.timedelta(days=730)
NOW_UTC = dt.datetime(2026, 12, 1, 23, 0, 0)  # nothing is stamped after this

ADMIN_PASSWORD = "Bench-Password-2026!"
JWT_SECRET = "hazreg-bench-jwt-secret-not-for-production-0123456789"
EMPTY_ZONE = "431300-WBXQ"
BUSY_COUNTY = "431302"


def bench_env(backend):
    """The bench server's environment (also printed for bench/run.sh by --print-env)."""
    port = os.environ.get("HAZREG_BENCH_PORT", "18080")
    data_dir = f"/tmp/hazreg-bench-{backend}"
    env = {
        "HAZREG_BIND": f"127.0.0.1:{port}",
        "HAZREG_DATA_DIR": data_dir,
        "HAZREG_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "HAZREG_JWT_SECRET": JWT_SECRET,
        "HAZREG_ACCESS_TOKEN_TTL_SECS": "86400",
        "HAZREG_REFERENCE_DATA": os.path.join(BENCH_DIR, "reference.json"),
        "HAZREG_LOG": os.environ.get("HAZREG_BENCH_LOG", "warn"),
        "HAZREG_LOG_FORMAT": "json",
        "HAZREG_PURGE_INTERVAL_SECS": "86400",
        "HAZREG_LOGIN_ADDRESS_MAX_FAILURES_PER_MINUTE": "100000",
    }
    if backend == "postgres":
        base = os.environ.get("HAZREG_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
        env["HAZREG_DATABASE_URL"] = f"{base}/hazreg_bench"
        env["HAZREG_BENCH_PG_ADMIN_URL"] = f"{base}/postgres"
    else:
        env["HAZREG_DATABASE_URL"] = f"sqlite://{data_dir}/hazard-registry.db"
    env["HAZREG_BENCH_BASE"] = f"http://127.0.0.1:{port}"
    for k in ("HAZREG_WORKERS", "HAZREG_DATABASE_POOL_SIZE", "HAZREG_PASSWORD_HASH_CONCURRENCY"):
        if os.environ.get(k):
            env[k] = os.environ[k]
    return env


def log(msg):
    print(f"[seed {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- database access


class Pg:
    def __init__(self, url, admin_url):
        self.url, self.admin_url = url, admin_url

    def psql(self, sql, url=None, stdin=None):
        r = subprocess.run(
            ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-F", "\t", "-d", url or self.url, "-c", sql],
            input=stdin, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"psql failed: {r.stderr.strip()}\nSQL: {sql[:500]}")
        return [line.split("\t") for line in r.stdout.splitlines() if line != ""]

    def script(self, sql):
        r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url],
                           input=sql, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"psql failed: {r.stderr.strip()}")

    def exists(self):
        return bool(self.psql("SELECT 1 FROM pg_database WHERE datname = 'hazreg_bench'", self.admin_url))

    def recreate(self):
        self.psql("DROP DATABASE IF EXISTS hazreg_bench WITH (FORCE)", self.admin_url)
        self.psql("CREATE DATABASE hazreg_bench", self.admin_url)

    def marker(self):
        if not self.exists():
            return None
        rows = self.psql("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                         "WHERE datname = 'hazreg_bench'", self.admin_url)
        try:
            return json.loads(rows[0][0]) if rows and rows[0][0] else None
        except ValueError:
            return None

    def set_marker(self, m):
        text = json.dumps(m).replace("'", "''")
        self.psql(f"COMMENT ON DATABASE hazreg_bench IS '{text}'", self.admin_url)

    def query(self, sql):
        return self.psql(sql)

    def secondary_indexes(self, table):
        """Indexes that back no constraint: dropped during the load, rebuilt after it."""
        return self.psql(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            f"WHERE i.indrelid = '{table}'::regclass AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)")

    def copy(self, table, columns, rows):
        """COPY rows (iterables of values; None is NULL) through one psql process."""
        cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url,
               "-c", f"COPY {table} ({', '.join(columns)}) FROM STDIN"]
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE, text=True, encoding="utf-8")
        buf, n = [], 0
        for row in rows:
            buf.append("\t".join(pg_text(v) for v in row))
            n += 1
            if len(buf) >= 20000:
                p.stdin.write("\n".join(buf) + "\n")
                buf = []
        if buf:
            p.stdin.write("\n".join(buf) + "\n")
        p.stdin.close()
        if p.wait() != 0:
            raise SystemExit(f"COPY {table} failed")
        return n


def pg_text(v):
    if v is None:
        return "\\N"
    if v is True:
        return "t"
    if v is False:
        return "f"
    s = str(v)
    if "\\" in s or "\t" in s or "\n" in s or "\r" in s:
        s = s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return s


class Lite:
    def __init__(self, path):
        self.path = path
        self.marker_path = os.path.join(os.path.dirname(path), "seeded.json")

    def exists(self):
        return os.path.exists(self.path)

    def recreate(self):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.path + suffix):
                os.remove(self.path + suffix)
        if os.path.exists(self.marker_path):
            os.remove(self.marker_path)

    def marker(self):
        if not (self.exists() and os.path.exists(self.marker_path)):
            return None
        try:
            with open(self.marker_path) as f:
                return json.load(f)
        except ValueError:
            return None

    def set_marker(self, m):
        with open(self.marker_path, "w") as f:
            json.dump(m, f)

    def query(self, sql):
        c = sqlite3.connect(self.path)
        try:
            return [[("" if v is None else str(v)) for v in r] for r in c.execute(sql)]
        finally:
            c.close()


# ---------------------------------------------------------------- the server, once


def run_server_once(env, binary):
    """Start the server on the empty database until /readyz answers 200, then stop it."""
    full = dict(os.environ)
    full.update(env)
    os.makedirs(env["HAZREG_DATA_DIR"], exist_ok=True)
    logf = open(os.path.join(env["HAZREG_DATA_DIR"], "seed-server.log"), "w")
    p = subprocess.Popen([binary, "serve"], env=full, stdout=logf, stderr=subprocess.STDOUT)
    url = env["HAZREG_BENCH_BASE"] + "/readyz"
    deadline = time.time() + 120
    try:
        while True:
            if p.poll() is not None:
                raise SystemExit(f"server exited with {p.returncode}; see {logf.name}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.time() > deadline:
                raise SystemExit(f"server not ready after 120 s; see {logf.name}")
            time.sleep(0.2)
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        logf.close()


# ---------------------------------------------------------------- vocabulary

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc(division, n):
    """A valid GB 32100 code: 91 + 6-digit division + 9-digit serial + check character."""
    body = f"91{division}{n:09d}"
    s = sum(w * USCC_ALPHABET.index(c) for w, c in zip(USCC_WEIGHTS, body))
    return body + USCC_ALPHABET[(31 - s % 31) % 31]


SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红燕鹏建国志斌辉宇浩鑫晨")
BRANDS = ["湘中", "娄星", "资江", "涟水", "双峰", "梅山", "紫鹊", "锡矿", "冷江", "华菱", "鑫达", "恒泰",
          "宏宇", "振兴", "天宝", "金源", "顺发", "永兴", "安达", "隆盛", "新材", "湘钢", "远大", "楚湘"]
SECTOR_WORDS = {
    "coal_mine": "煤业", "non_coal_mine": "矿业", "tailings_pond": "矿业", "hazardous_chemicals": "化工",
    "fireworks": "烟花", "civil_explosives": "民爆", "metal_smelting": "冶炼", "dust_explosion": "木业",
    "ammonia_refrigeration": "冷链", "construction": "建设", "road_transport": "运输",
    "waterway_transport": "航运", "industry_trade": "机械制造", "gas": "燃气", "special_equipment": "起重设备",
    "fire_key_unit": "商贸", "tourism_amusement": "旅游开发", "other": "实业",
}
GRADES = ["一级", "二级", "三级", None, None]
AREAS = ["1#车间", "2#车间", "3#车间", "原料库", "成品库", "配电室", "锅炉房", "空压站", "罐区", "装卸区",
         "办公楼", "员工宿舍", "食堂", "污水处理站", "主厂房", "井下作业面", "炸药库", "喷涂车间",
         "粉碎车间", "冷库机房", "危化品仓库", "提升机房", "施工现场", "停车场"]
# (problem, nature, standard_ref for major hazards)
PROBLEMS = [
    ("可燃气体报警器失效", "unsafe_condition"),
    ("有毒气体报警仪未定期校验", "management_defect"),
    ("气体报警装置未与排风机联锁", "unsafe_condition"),
    ("火灾自动报警系统故障", "unsafe_condition"),
    ("液位高低限报警未投用", "unsafe_condition"),
    ("超温报警装置被人为屏蔽", "unsafe_act"),
    ("消防通道被占用堵塞", "unsafe_act"),
    ("安全出口上锁", "unsafe_act"),
    ("灭火器压力不足", "unsafe_condition"),
    ("应急照明灯不亮", "unsafe_condition"),
    ("配电箱未接地", "unsafe_condition"),
    ("电缆桥架盖板缺失", "unsafe_condition"),
    ("临时用电私拉乱接", "unsafe_act"),
    ("设备转动部位无防护罩", "unsafe_condition"),
    ("压力表超期未检", "management_defect"),
    ("安全阀未定期校验", "management_defect"),
    ("特种作业人员无证上岗", "unsafe_act"),
    ("动火作业未办理审批", "management_defect"),
    ("有限空间作业未检测", "unsafe_act"),
    ("劳动防护用品未佩戴", "unsafe_act"),
    ("粉尘清扫制度未落实", "management_defect"),
    ("除尘系统未设置泄爆装置", "unsafe_condition"),
    ("氨制冷机房未设置事故排风", "unsafe_condition"),
    ("危险化学品混存", "unsafe_condition"),
    ("储罐区防火堤破损", "unsafe_condition"),
    ("叉车安全装置失效", "unsafe_condition"),
    ("起重机限位器失灵", "unsafe_condition"),
    ("高处作业未系安全带", "unsafe_act"),
    ("脚手架连墙件缺失", "unsafe_condition"),
    ("基坑临边防护缺失", "unsafe_condition"),
    ("安全培训记录缺失", "management_defect"),
    ("应急预案未演练", "management_defect"),
    ("隐患排查台账未建立", "management_defect"),
    ("防雷检测报告过期", "management_defect"),
    ("车辆超载运输", "unsafe_act"),
    ("驾驶员疲劳驾驶", "unsafe_act"),
    ("燃气管道腐蚀泄漏", "unsafe_condition"),
    ("排水沟未设盖板", "unsafe_condition"),
    ("化学品安全技术说明书缺失", "management_defect"),
    ("安全警示标志缺失", "management_defect"),
]
DETAILS = ["现场检查发现", "企业自查发现", "群众举报核实", "专项检查中发现", "夜查时发现", "复查时仍存在"]
MEASURES = ["立即停用并更换，整改期间加强人工巡检", "落实专人负责，限期整改到位", "停产整顿，整改完成后申请验收",
            "采购新设备并安装调试，整改前设置警示标志", "修订管理制度并组织全员培训"]
CRITERIA = ["设备运行正常，检测记录齐全", "现场复查无同类问题", "第三方检测合格", "台账资料完整"]
MAJOR_REFS = ["《工贸企业重大事故隐患判定标准》第四条", "《化工和危险化学品生产经营单位重大生产安全事故隐患判定标准》第五条",
              "《煤矿重大事故隐患判定标准》第六条", "《金属非金属矿山重大事故隐患判定标准》第七条"]
STATUS_WEIGHTS = [("closed", 60), ("rectifying", 20), ("reported", 8), ("pending_acceptance", 7), ("void", 5)]
SOURCE_WEIGHTS = [("self_inspection", 45), ("regulator_inspection", 40), ("public_report", 5), ("other", 10)]
OPEN = ("reported", "rectifying", "pending_acceptance")
VERSION = {"reported": 1, "rectifying": 2, "pending_acceptance": 3, "closed": 4, "void": 2}

# County-level units: share of enterprises; the empty zone gets none.
COUNTY_WEIGHTS = {"431302": 26, "431321": 15, "431322": 21, "431381": 14, "431382": 16, "431300-JKQ": 8}
TOWNSHIP_SHARE = {"431302": 0.4, "431300-JKQ": 0.3}  # share of a unit's enterprises in its townships


def ts(t):
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")


def person(r):
    return r.choice(SURNAMES) + r.choice(GIVEN) + (r.choice(GIVEN) if r.random() < 0.6 else "")


def phone(r):
    return f"1{r.choice('3578')}{r.randrange(10**9):09d}"


# ---------------------------------------------------------------- generation

ENTERPRISE_COLS = ["id", "uscc", "name", "jurisdiction_code", "sector_code", "address", "legal_representative",
                   "principal_name", "principal_phone", "employees", "annual_revenue_10k_yuan",
                   "safety_director_name", "safety_director_phone", "safety_director_appointed_on",
                   "risk_level", "standardization_grade", "status", "created_at", "updated_at", "version",
                   "city_code", "county_code"]
HAZARD_COLS = ["id", "code", "enterprise_id", "jurisdiction_code", "county_code", "city_code", "sector_code",
               "title", "description", "location", "level", "source", "nature", "standard_ref", "major_reason",
               "discovered_on", "responsible_person", "rectification_deadline", "deadline_key", "measures",
               "funds_10k_yuan", "acceptance_criteria", "major_report", "governance_plan", "rectification_note",
               "status", "listed", "reported_by", "submitted_by", "closed_at", "created_at", "updated_at",
               "version"]
LISTING_COLS = ["id", "hazard_id", "level", "authority_code", "notice_no", "requirements", "responsible_unit",
                "deadline", "status", "enterprise_id", "jurisdiction_code", "sector_code", "listed_by",
                "listed_at", "delisted_by", "delisted_at", "delisting_note", "created_at", "updated_at",
                "version", "city_code", "county_code"]


class World:
    """What the generator reads from the seeded reference data."""

    def __init__(self, db):
        rows = db.query("SELECT code, level, COALESCE(parent_code, ''), COALESCE(city_code, ''), "
                        "COALESCE(county_code, '') FROM jurisdictions ORDER BY code")
        self.jur = {r[0]: {"level": r[1], "parent": r[2], "city": r[3] or r[0], "county": r[4] or r[0]}
                    for r in rows}
        self.sectors = [r[0] for r in db.query("SELECT code FROM sectors ORDER BY code")]
        admin = db.query("SELECT id FROM accounts WHERE username = 'admin'")
        if not admin:
            raise SystemExit("no admin account: did the server seed the database?")
        self.admin_id = int(admin[0][0])
        missing = [c for c in list(COUNTY_WEIGHTS) + [EMPTY_ZONE] if c not in self.jur]
        if missing:
            raise SystemExit(f"reference data lacks {missing}: is HAZREG_REFERENCE_DATA bench/reference.json?")
        self.townships = {}
        for code, j in self.jur.items():
            if j["level"] == "township":
                self.townships.setdefault(j["parent"], []).append(code)


def gen_enterprises(world, n, r):
    """The enterprise rows (tuples in ENTERPRISE_COLS order). Enterprise 1 is the busy one
    (431302, hazardous chemicals, operating)."""
    units = list(COUNTY_WEIGHTS)
    weights = [COUNTY_WEIGHTS[u] for u in units]
    out = []
    for i in range(1, n + 1):
        if i == 1:
            unit, sector = BUSY_COUNTY, "hazardous_chemicals"
            jcode = unit
        else:
            unit = r.choices(units, weights)[0]
            sector = r.choice(world.sectors)
            towns = world.townships.get(unit, [])
            if towns and r.random() < TOWNSHIP_SHARE.get(unit, 0.2):
                # uneven over the townships: the first ones are busier
                jcode = towns[min(int(len(towns) * r.random() ** 1.7), len(towns) - 1)]
            else:
                jcode = unit
        j = world.jur[jcode]
        division = unit if unit.isdigit() else "431300"
        created = dt.datetime(2020, 1, 1) + dt.timedelta(seconds=r.randrange(5 * 365 * 86400))
        employees = int(r.paretovariate(1.3) * 8)
        revenue = round(employees * r.uniform(5, 60), 1)
        has_director = r.random() < 0.6
        status = "operating" if i == 1 else r.choices(["operating", "suspended", "closed"], [92, 5, 3])[0]
        out.append((
            i, uscc(division, i), f"娄底{r.choice(BRANDS)}{SECTOR_WORDS.get(sector, '实业')}有限公司第{i}分公司",
            jcode, sector, f"娄底市{r.choice(['长青', '乐坪', '花山', '黄泥塘', '大科', '杉山', '石井'])}路{r.randrange(1, 999)}号",
            person(r), person(r), phone(r), employees, revenue,
            person(r) if has_director else None, phone(r) if has_director else None,
            (created.date() + dt.timedelta(days=r.randrange(365))).isoformat() if has_director else None,
            r.choice(["red", "orange", "yellow", "blue", None]), r.choice(GRADES), status,
            ts(created), ts(created), 1, j["city"], j["county"]))
    return out


def plan_hazards(m, r, open_tail=0.1):
    """(created_at, discovered_on, status) for every hazard, in creation (= id) order. Open
    hazards are mostly recent; `open_tail` of them are stragglers from any time in the two years."""
    statuses = [s for s, _ in STATUS_WEIGHTS]
    weights = [w for _, w in STATUS_WEIGHTS]
    span = (DATA_END - DATA_START).days
    plan = []
    for _ in range(m):
        status = r.choices(statuses, weights)[0]
        if status in OPEN and r.random() >= open_tail:
            # open hazards are mostly recent: about a month old on average
            age = min(span, int(r.expovariate(1 / 32)))
        else:
            age = r.randrange(span + 1)
        discovered = DATA_END - dt.timedelta(days=age)
        # recorded 1–30 hours after the (Shanghai) start of the discovery day; stored in UTC
        created = dt.datetime.combine(discovered, dt.time()) - dt.timedelta(hours=8) \
            + dt.timedelta(seconds=r.randrange(3600, 30 * 3600))
        created = min(created, NOW_UTC - dt.timedelta(seconds=r.randrange(1, 3600)))
        plan.append((created, discovered, status))
    plan.sort(key=lambda p: p[0])
    return plan


def gen_hazards(world, enterprises, plan, r, counters, listings):
    """Yields hazard rows in id order; fills counters (prefix -> last value) and listings rows."""
    n_ent = len(enterprises)
    admin = world.admin_id
    listing_id = 0
    for hid, (created, discovered, status) in enumerate(plan, start=1):
        # skewed: low enterprise indexes (enterprise 1 first) get many hazards
        e = enterprises[min(int(n_ent * r.random() ** 2), n_ent - 1)]
        eid, jcode, sector, city, county = e[0], e[3], e[4], e[20], e[21]
        year = (created + dt.timedelta(hours=8)).year
        prefix = f"{county}-{year}"
        seq = counters.get(prefix, 0) + 1
        counters[prefix] = seq
        code = f"{prefix}-{seq:05d}"

        listed = status in OPEN and r.random() < 0.057
        major = listed or r.random() < 0.031
        problem, nature = r.choice(PROBLEMS)
        area = r.choice(AREAS)
        title = f"{area}{problem}"
        tag = f"{r.choice('ABCDEFGHKMPTV')}{r.choice('ABCDEFGHKMPTV')}-{r.randrange(100000):05d}"
        description = f"{r.choice(DETAILS)}{area}{problem}，存在安全风险。设备位号 {tag}，巡查记录 {hid:x}。"
        source = r.choices([s for s, _ in SOURCE_WEIGHTS], [w for _, w in SOURCE_WEIGHTS])[0]
        complete = status != "reported"
        deadline = None
        if complete or r.random() < 0.5:
            deadline = discovered + dt.timedelta(days=r.randint(10, 60))
        responsible = person(r) + "（安全负责人）" if complete or r.random() < 0.5 else None
        measures = r.choice(MEASURES) if complete else None
        funds = round(r.uniform(0.1, 50), 2) if complete else None
        criteria = r.choice(CRITERIA) if complete else None
        standard_ref = major_reason = major_report = plan_json = None
        if major:
            if r.random() < 0.8:
                standard_ref = r.choice(MAJOR_REFS)
            else:
                major_reason = "经专家论证判定为重大事故隐患"
            if complete:
                major_report = json.dumps({"situation_and_cause": f"{title}，原因是日常维护不到位",
                                           "harm_and_difficulty": "可能导致火灾爆炸，治理需停产改造"},
                                          ensure_ascii=False)
                plan_json = json.dumps({
                    "goals_and_tasks": "限期消除隐患", "methods_and_measures": measures or "",
                    "funds_and_materials": "企业自筹专项资金", "organization_and_personnel": "主要负责人牵头",
                    "timeline_and_requirements": "按整改期限完成", "safety_measures_and_emergency_plan":
                        "整改期间落实监护措施，制定应急处置方案"}, ensure_ascii=False)
        note = "已按整改措施完成整改，申请验收" if status in ("pending_acceptance", "closed") else None
        submitted_by = admin if status in ("pending_acceptance", "closed") else None
        closed_at = None
        horizon = max(1, int((NOW_UTC - created).total_seconds()))
        if status == "closed":
            closed_at = created + dt.timedelta(seconds=r.randrange(min(horizon, 60 * 86400)))
            updated = closed_at
        elif status == "reported":
            updated = created
        else:
            updated = created + dt.timedelta(seconds=r.randrange(min(horizon, 20 * 86400)))
        deadline_key = deadline or dt.date(9999, 12, 31)

        if listed or (major and status == "closed" and r.random() < 0.5):
            listing_id += 1
            delisted = status == "closed"
            # listed a little after the record; a delisted listing ended when the hazard closed
            at = created + (closed_at - created) * 0.3 if delisted else \
                min(created + dt.timedelta(days=1), created + (NOW_UTC - created) / 2)
            authority = county if r.random() < 0.7 else city
            listings.append((
                listing_id, hid, "county" if authority == county else "city", authority,
                f"娄安督〔{year}〕{listing_id}号", "限期完成整改并报送整改报告", e[2],
                (deadline or discovered + dt.timedelta(days=90)).isoformat(),
                "delisted" if delisted else "listed", eid, jcode, sector, admin, ts(at),
                admin if delisted else None, ts(closed_at) if delisted else None,
                "整改到位，同意销号" if delisted else None, ts(at),
                ts(closed_at if delisted else at), 2 if delisted else 1, city, county))

        yield (hid, code, eid, jcode, county, city, sector, title, description, area, "major" if major else "general",
               source, nature, standard_ref, major_reason, discovered.isoformat(), responsible,
               deadline.isoformat() if deadline else None, deadline_key.isoformat(), measures, funds, criteria,
               major_report, plan_json, note, status, listed, admin, submitted_by,
               ts(closed_at) if closed_at else None, ts(created), ts(updated), VERSION[status])


# ---------------------------------------------------------------- loading


def load_postgres(pg, world, n_ent, n_haz, r, open_tail):
    tables = ["enterprises", "hazards", "listings"]
    saved = {t: pg.secondary_indexes(t) for t in tables}
    drops = "; ".join(f"DROP INDEX {name}" for t in tables for name, _ in saved[t])
    if drops:
        pg.psql(drops)
    log(f"dropped {sum(len(v) for v in saved.values())} secondary indexes for the load")

    t0 = time.time()
    ents = gen_enterprises(world, n_ent, r)
    pg.copy("enterprises", ENTERPRISE_COLS, ents)
    log(f"enterprises: {len(ents)} rows in {time.time() - t0:.1f} s")

    t0 = time.time()
    plan = plan_hazards(n_haz, r, open_tail)
    counters, listings = {}, []
    n = pg.copy("hazards", HAZARD_COLS, gen_hazards(world, ents, plan, r, counters, listings))
    log(f"hazards: {n} rows in {time.time() - t0:.1f} s")
    pg.copy("listings", LISTING_COLS, listings)
    log(f"listings: {len(listings)} rows")

    values = ", ".join(f"('{p}', {v})" for p, v in sorted(counters.items()))
    sql = ["SET maintenance_work_mem = '1GB';"]
    if values:
        sql.append("INSERT INTO hazard_code_counters (prefix, last_value) VALUES " + values +
                   " ON CONFLICT (prefix) DO UPDATE SET last_value = "
                   "GREATEST(hazard_code_counters.last_value, EXCLUDED.last_value);")
        # The server numbers codes from a sequence per prefix, which must pass the loaded codes.
        sql.append("SELECT hazard_code_sync();")
    for t in tables:
        sql.append(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), GREATEST(1, (SELECT COALESCE(MAX(id), 0) FROM {t})));")
        for _, ddl in saved[t]:
            sql.append(ddl + ";")
    t0 = time.time()
    pg.script("\n".join(sql))
    log(f"counters, sequences and {sum(len(v) for v in saved.values())} indexes in {time.time() - t0:.1f} s")
    t0 = time.time()
    pg.script("VACUUM ANALYZE;")
    log(f"VACUUM ANALYZE in {time.time() - t0:.1f} s")
    return len(ents), n, len(listings)


def load_sqlite(lite, world, n_ent, n_haz, r, open_tail):
    c = sqlite3.connect(lite.path, isolation_level=None)
    c.execute("PRAGMA journal_mode = WAL")
    c.execute("PRAGMA synchronous = OFF")
    c.execute("PRAGMA cache_size = -1000000")
    tables = ["enterprises", "hazards", "listings"]
    saved = c.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND "
                      f"tbl_name IN ({', '.join(repr(t) for t in tables)})").fetchall()
    c.execute("BEGIN")
    for name, _ in saved:
        c.execute(f'DROP INDEX "{name}"')
    log(f"dropped {len(saved)} secondary indexes for the load")

    def ph(cols):
        return ", ".join("?" for _ in cols)

    def lite_val(row):
        return tuple((1 if v is True else 0 if v is False else v) for v in row)

    t0 = time.time()
    ents = gen_enterprises(world, n_ent, r)
    c.executemany(f"INSERT INTO enterprises ({', '.join(ENTERPRISE_COLS)}) VALUES ({ph(ENTERPRISE_COLS)})", ents)
    log(f"enterprises: {len(ents)} rows in {time.time() - t0:.1f} s")
    t0 = time.time()
    plan = plan_hazards(n_haz, r, open_tail)
    counters, listings = {}, []
    c.executemany(f"INSERT INTO hazards ({', '.join(HAZARD_COLS)}) VALUES ({ph(HAZARD_COLS)})",
                  (lite_val(h) for h in gen_hazards(world, ents, plan, r, counters, listings)))
    log(f"hazards: {n_haz} rows in {time.time() - t0:.1f} s")
    c.executemany(f"INSERT INTO listings ({', '.join(LISTING_COLS)}) VALUES ({ph(LISTING_COLS)})", listings)
    for p, v in counters.items():
        c.execute("INSERT INTO hazard_code_counters (prefix, last_value) VALUES (?, ?) ON CONFLICT (prefix) "
                  "DO UPDATE SET last_value = MAX(last_value, excluded.last_value)", (p, v))
    t0 = time.time()
    for _, ddl in saved:
        c.execute(ddl)
    c.execute("COMMIT")
    log(f"{len(saved)} indexes in {time.time() - t0:.1f} s")
    t0 = time.time()
    c.execute("ANALYZE")
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    log(f"ANALYZE in {time.time() - t0:.1f} s")
    return len(ents), n_haz, len(listings)


def binary_path():
    b = os.environ.get("HAZREG_BIN") or os.path.join(REPO, "target/release/hazard-registry")
    if not os.path.isabs(b):
        b = os.path.join(REPO, b)
    if not os.path.exists(b):
        log(f"{b} missing: cargo build --release")
        subprocess.run(["cargo", "build", "--release", "--bin", "hazard-registry"], cwd=REPO, check=True)
    return b


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("backend", choices=["postgres", "sqlite"])
    ap.add_argument("--print-env", action="store_true", help="print the bench server's environment and exit")
    ap.add_argument("--enterprises", type=int)
    ap.add_argument("--hazards", type=int)
    ap.add_argument("--fresh", action="store_true", help="drop and recreate even if already seeded")
    ap.add_argument("--seed", type=int, default=20261202, help="random seed (the data is reproducible)")
    ap.add_argument("--open-tail", type=float, default=0.1,
                    help="share of open hazards discovered at any time in the two years (the rest are recent)")
    a = ap.parse_args()
    env = bench_env(a.backend)
    if a.print_env:
        for k, v in env.items():
            print(f"export {k}='{v}'")
        return
    n_ent = a.enterprises or (50_000 if a.backend == "postgres" else 10_000)
    n_haz = a.hazards if a.hazards is not None else (1_000_000 if a.backend == "postgres" else 100_000)
    if n_ent < 1:
        raise SystemExit("--enterprises must be at least 1")

    if a.backend == "postgres":
        db = Pg(env["HAZREG_DATABASE_URL"], env["HAZREG_BENCH_PG_ADMIN_URL"])
    else:
        db = Lite(env["HAZREG_DATABASE_URL"][len("sqlite://"):])
    want = {"seed_version": SEED_VERSION, "enterprises": n_ent, "hazards": n_haz, "seed": a.seed,
            "open_tail": a.open_tail}
    have = db.marker()
    if not a.fresh and have and all(have.get(k) == v for k, v in want.items()):
        log(f"reusing the seeded {a.backend} database ({n_ent} enterprises, {n_haz} hazards)")
        print(json.dumps(have))
        return

    t_all = time.time()
    log(f"seeding {a.backend}: {n_ent} enterprises, {n_haz} hazards")
    db.recreate()
    if a.backend == "sqlite":
        if os.path.isdir(env["HAZREG_DATA_DIR"]):
            shutil.rmtree(env["HAZREG_DATA_DIR"])
    run_server_once(env, binary_path())
    log("server migrated the database and loaded the reference data")
    world = World(db)
    r = random.Random(a.seed)
    loader = load_postgres if a.backend == "postgres" else load_sqlite
    ne, nh, nl = loader(db, world, n_ent, n_haz, r, a.open_tail)
    max_id = int(db.query("SELECT COALESCE(MAX(id), 0) FROM hazards")[0][0])
    marker = dict(want, max_hazard_id=max_id, listings=nl, admin_id=world.admin_id,
                  seeded_at=time.strftime("%Y-%m-%dT%H:%M:%S"), seconds=round(time.time() - t_all, 1))
    db.set_marker(marker)
    log(f"done in {time.time() - t_all:.1f} s")
    print(json.dumps(marker))


if __name__ == "__main__":
    main()
