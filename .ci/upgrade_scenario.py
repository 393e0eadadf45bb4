#!/usr/bin/env python3
"""Rolling-upgrade scenario (.ci/upgrade.sh runs it): two servers on ONE database, the previous
release (OLD_BASE) and this tree (NEW_BASE), must see each other's writes.

Round 1 writes through OLD and reads through NEW; round 2 the reverse. Each round, as the
administrator on the writer: an enterprise (valid USCC), a county officer of 娄星区 and an
enterprise account; as those two: a general hazard taken reported -> (PATCH deadline) ->
rectifying -> (photo upload) -> pending_acceptance, and a problem item (问题隐患清单) linking
it. Then on the reader: every record by id (each field the writer returned must read back the
same, so a column the other binary does not fill shows up), sign-in with the accounts the
writer created (password hashes), the hazard in the county officer's and the enterprise's
scoped lists, the problem item in the officer's list, the attachment byte-identical, and the
statistics (both servers must give the same figures). Round 2 also accepts round 1's hazard
on the other server with the ETag the first one gave (If-Match across versions).

Usage: upgrade_scenario.py OLD_BASE NEW_BASE   (env UPGRADE_ADMIN_PASSWORD)
Python 3 standard library only. Any non-2xx answer or mismatch: prints what, exits 1.
"""

import datetime
import json
import os
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request

PASSWORD = os.environ.get("UPGRADE_ADMIN_PASSWORD", "Upgrade-Check-2026")
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
       b"\x00\x00\x00\x1f\x15\xc4\x89" + secrets.token_bytes(48))
TODAY = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=8)).date()


class Mismatch(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Mismatch(what)


def uscc(serial):
    """A USCC with its GB 32100 check character (verified against loudi.json's vectors below)."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    body = serial[:17]
    total = sum(w * alphabet.index(c) for w, c in zip(weights, body))
    return body + alphabet[(31 - total % 31) % 31]


class Server:
    def __init__(self, name, base):
        self.name, self.base = name, base.rstrip("/")

    def call(self, method, path, token=None, body=None, headers=None, raw=False, ctype=None):
        hdrs = dict(headers or {})
        data = None
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        if body is not None and not isinstance(body, bytes):
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", ctype or "application/json")
        elif body is not None:
            data = body
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                payload = resp.read()
                etag = resp.headers.get("ETag")
        except urllib.error.HTTPError as e:
            raise Mismatch(f"{self.name}: {method} {path} answered {e.code}: {e.read()[:600]!r}")
        return (payload if raw else json.loads(payload or b"null")), etag

    def get(self, path, token):
        return self.call("GET", path, token)[0]

    def login(self, username, password):
        return self.call("POST", "/api/v1/auth/login", body={"username": username, "password": password})[0]["access_token"]

    def find(self, path, token, item_id):
        """Pages through a collection until the item with `item_id` turns up."""
        cursor, sep = None, "&" if "?" in path else "?"
        for _ in range(100):
            page = self.get(path + (f"{sep}cursor={urllib.parse.quote(cursor)}" if cursor else ""), token)
            for item in page["items"]:
                if item["id"] == item_id:
                    return item
            cursor = page.get("next_cursor")
            if not cursor:
                break
        raise Mismatch(f"{self.name}: {item_id} not found in GET {path}")


def same(what, written, read):
    """Every field both versions know must read back as written."""
    diff = {k: (written[k], read[k]) for k in written.keys() & read.keys() if written[k] != read[k]}
    check(not diff, f"{what}: fields differ (written, read): {diff}")


def multipart(fields, file_name, content, content_type):
    boundary = "upgrade" + secrets.token_hex(12)
    out = b""
    for k, v in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    out += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def write(w, admin, tag):
    """Writes a round's records through server `w`; returns what was written."""
    run = secrets.token_hex(3)
    code = uscc(f"91431302{secrets.randbelow(10**9):09d}")
    ent, _ = w.call("POST", "/api/v1/enterprises", admin, {
        "uscc": code, "name": f"升级检查企业 {tag} {code}", "jurisdiction_code": "431302",
        "sector_code": "industry_trade", "employees": 80, "annual_revenue_10k_yuan": 900.0})
    officer, _ = w.call("POST", "/api/v1/accounts", admin, {
        "username": f"up.{tag}.officer.{run}", "password": PASSWORD, "display_name": f"娄星区 {tag} 监管员",
        "role": "county_officer", "jurisdiction_code": "431302"})
    owner, _ = w.call("POST", "/api/v1/accounts", admin, {
        "username": f"up.{tag}.ent.{run}", "password": PASSWORD, "display_name": f"{tag} 企业安全员",
        "role": "enterprise", "enterprise_id": ent["id"]})
    t_off, t_ent = w.login(officer["username"], PASSWORD), w.login(owner["username"], PASSWORD)
    five = {"responsible_person": "张伟", "measures": "加装防护罩；整改期间设警戒", "funds_10k_yuan": 0.8,
            "acceptance_criteria": "防护装置齐全有效"}
    hz, etag = w.call("POST", "/api/v1/hazards", t_off, {
        "enterprise_id": ent["id"], "title": f"皮带机未装防护罩 {tag}", "description": "传动部位裸露",
        "level": "general", "discovered_on": TODAY.isoformat(), "location": "2# 车间", **five})
    check(hz["status"] == "reported", f"{w.name}: new hazard is {hz['status']}, expected reported")
    deadline = (TODAY + datetime.timedelta(days=20)).isoformat()
    hz, etag = w.call("PATCH", f"/api/v1/hazards/{hz['id']}", t_off, {"rectification_deadline": deadline},
                      {"If-Match": etag}, ctype="application/merge-patch+json")
    hz, etag = w.call("POST", f"/api/v1/hazards/{hz['id']}/transitions", t_ent,
                      {"action": "start_rectification"}, {"If-Match": etag})
    body, ctype = multipart({"stage": "after"}, "after.png", PNG, "image/png")
    att, _ = w.call("POST", f"/api/v1/hazards/{hz['id']}/attachments", t_ent, body, {"Content-Type": ctype})
    check(att["size"] == len(PNG), f"{w.name}: upload size {att['size']} != {len(PNG)}")
    hz, etag = w.call("POST", f"/api/v1/hazards/{hz['id']}/transitions", t_ent,
                      {"action": "submit_for_acceptance", "note": "已加装防护罩，附整改后照片"}, {"If-Match": etag})
    check(hz["status"] == "pending_acceptance", f"{w.name}: hazard is {hz['status']} after submit")
    item, _ = w.call("POST", "/api/v1/problem-items", t_off, {
        "owner_jurisdiction_code": "431302", "title": f"传动部位防护普遍缺失 {tag}", "description": "多家企业",
        "responsible_unit": "娄星区应急管理局", "deadline": deadline, "status": "in_progress",
        "hazard_ids": [hz["id"]]})
    return {"enterprise": ent, "officer": officer, "owner": owner, "hazard": hz, "etag": etag,
            "attachment": att, "item": item}


def read(r, admin, wrote):
    """Reads a round's records back through server `r`."""
    ent, hz, att, item = wrote["enterprise"], wrote["hazard"], wrote["attachment"], wrote["item"]
    same(f"{r.name}: enterprise {ent['id']}", ent, r.get(f"/api/v1/enterprises/{ent['id']}", admin))
    for who in ("officer", "owner"):
        acc = wrote[who]
        same(f"{r.name}: account {acc['id']}", acc, r.get(f"/api/v1/accounts/{acc['id']}", admin))
    t_off = r.login(wrote["officer"]["username"], PASSWORD)
    t_ent = r.login(wrote["owner"]["username"], PASSWORD)
    got, etag = r.call("GET", f"/api/v1/hazards/{hz['id']}", t_off)
    same(f"{r.name}: hazard {hz['id']}", hz, got)
    check(etag == wrote["etag"], f"{r.name}: hazard {hz['id']} ETag {etag} != writer's {wrote['etag']}")
    same(f"{r.name}: hazard {hz['id']} in the county officer's list", hz,
         r.find("/api/v1/hazards?jurisdiction_code=431302&limit=200", t_off, hz["id"]))
    same(f"{r.name}: hazard {hz['id']} in the enterprise's list", hz,
         r.find("/api/v1/hazards?limit=200", t_ent, hz["id"]))
    same(f"{r.name}: attachment {att['id']}", att, r.find(f"/api/v1/hazards/{hz['id']}/attachments", t_ent, att["id"]))
    data, _ = r.call("GET", f"/api/v1/attachments/{att['id']}", t_ent, raw=True)
    check(data == PNG, f"{r.name}: attachment {att['id']} is {len(data)} bytes, not the {len(PNG)} uploaded")
    timeline = r.get(f"/api/v1/hazards/{hz['id']}/timeline", t_off)
    check(len(timeline["items"]) >= 3, f"{r.name}: hazard {hz['id']} timeline has {len(timeline['items'])} events")
    same(f"{r.name}: problem item {item['id']}", item, r.get(f"/api/v1/problem-items/{item['id']}", t_off))
    same(f"{r.name}: problem item {item['id']} in the county officer's list", item,
         r.find("/api/v1/problem-items?owner_jurisdiction_code=431302&limit=200", t_off, item["id"]))
    return t_off


def stats(a, b, token_a, token_b, expect_found):
    path = f"/api/v1/stats/hazards?group_by=level&from={TODAY.year}-01-01&to={TODAY.year}-12-31"
    sa, sb = a.get(path, token_a), b.get(path, token_b)
    check(sa["totals"] == sb["totals"], f"statistics differ: {a.name} {sa['totals']} vs {b.name} {sb['totals']}")
    check(sa["totals"]["found"] >= expect_found, f"statistics: found {sa['totals']['found']} < {expect_found}")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    for v in ("91431302PMYCJ7G420", "914313009B2YGXAG2A", "12440300MB2C92173E"):
        check(uscc(v) == v, f"uscc(): {uscc(v)} != test vector {v}")
    old, new = Server("OLD", sys.argv[1]), Server("NEW", sys.argv[2])
    a_old, a_new = old.login("admin", PASSWORD), new.login("admin", PASSWORD)

    w1 = write(old, a_old, "old")
    t_new = read(new, a_new, w1)
    print("  ok  written by OLD, read by NEW (enterprise, 2 accounts, hazard, attachment, problem item)")

    w2 = write(new, a_new, "new")
    # NEW accepts OLD's hazard with the ETag OLD answered (a client moving between nodes).
    hz, etag = new.call("POST", f"/api/v1/hazards/{w1['hazard']['id']}/transitions", t_new,
                        {"action": "accept"}, {"If-Match": w1["etag"]})
    check(hz["status"] == "closed", f"NEW: OLD's hazard is {hz['status']} after accept")
    w1.update(hazard=hz, etag=etag)
    t_old = read(old, a_old, w2)
    read(old, a_old, w1)
    print("  ok  written by NEW, read by OLD (same records; NEW closed OLD's hazard, OLD sees it)")

    stats(old, new, t_old, t_new, expect_found=2)
    print("  ok  statistics identical on both servers")


if __name__ == "__main__":
    try:
        main()
    except Mismatch as e:
        print(f"upgrade scenario FAILED: {e}")
        sys.exit(1)
    print("upgrade scenario: passed")
