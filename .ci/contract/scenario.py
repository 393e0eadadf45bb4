#!/usr/bin/env python3
"""API contract scenario, driven only through the client that openapi-python-client generated
from openapi/openapi.json (package `hazreg_client`).

Every step parses the server's answer into the generated models and asserts on them, so a
difference between the document and the wire (an enum value, a date format, a missing or extra
field, an undocumented status code) fails loudly.

Usage: scenario.py BASE_URL            (env: CONTRACT_ADMIN_PASSWORD, CONTRACT_KEEP_GOING=1)

With CONTRACT_KEEP_GOING=1 a failed step is recorded and, where a later step needs what it
would have produced, the state is fetched with plain HTTP (httpx) so the remaining steps still
run. That fallback is for diagnostics only: the scenario fails all the same.
"""

from __future__ import annotations

import datetime
import enum
import inspect
import os
import secrets
import sys
import time
import traceback
from typing import Any, Callable

import attrs
import httpx

import hazreg_client.models as models
from hazreg_client import AuthenticatedClient, Client
from hazreg_client.types import UNSET, Unset
from hazreg_client.api.auth import get_me, login
from hazreg_client.api.enterprises import create_enterprise, list_enterprises
from hazreg_client.api.hazards import (
    create_hazard,
    get_attachment,
    get_hazard,
    transition_hazard,
    update_hazard,
    upload_attachment,
)
from hazreg_client.api.reference import list_sectors

BASE_URL = sys.argv[1].rstrip("/")
PASSWORD = os.environ.get("CONTRACT_ADMIN_PASSWORD", "Contract-Check-2026")
KEEP_GOING = os.environ.get("CONTRACT_KEEP_GOING", "0") == "1"
TIMEOUT = httpx.Timeout(30.0)
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))

failures: list[str] = []


class ContractError(AssertionError):
    pass


def check(cond: bool, message: str) -> None:
    if not cond:
        raise ContractError(message)


def body_model(fn: Callable[..., Any]) -> type:
    """The generated model class that an API function takes as `body` (so the scenario follows the
    document's schema names rather than hard-coding them)."""
    annotation = inspect.signature(fn).parameters["body"].annotation
    if isinstance(annotation, type):
        return annotation
    names = [part.strip() for part in str(annotation).split("|")]
    classes = [getattr(models, n) for n in names if hasattr(models, n)]
    check(len(classes) == 1, f"{fn.__module__}: cannot tell the body model from {annotation!r}")
    return classes[0]


def undeclared(value: Any, path: str = "") -> list[str]:
    """Wire fields that the document does not declare (collected by the generated models in
    `additional_properties`), anywhere in a parsed response."""
    found: list[str] = []
    if attrs.has(type(value)):
        for name, extra in (getattr(value, "additional_properties", None) or {}).items():
            found.append(f"{path}/{name}")
        for field in attrs.fields(type(value)):
            if field.name != "additional_properties":
                found += undeclared(getattr(value, field.name), f"{path}/{field.name}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += undeclared(item, f"{path}/{i}")
    return found


def expect(resp: Any, status: int, model_name: str, what: str) -> Any:
    """The typed body of `resp`, after checking status, media type and parsed model."""
    parsed = resp.parsed
    if int(resp.status_code) != status:
        detail = parsed.to_dict() if isinstance(parsed, models.Problem) else resp.content[:500]
        raise ContractError(f"{what}: expected {status}, got {int(resp.status_code)}: {detail!r}")
    ctype = resp.headers.get("content-type", "")
    check(ctype.split(";")[0].strip() == "application/json", f"{what}: content-type {ctype!r}")
    model = getattr(models, model_name)
    check(isinstance(parsed, model), f"{what}: parsed as {type(parsed).__name__}, not {model_name}")
    extra = undeclared(parsed)
    check(not extra, f"{what}: the response has fields the document does not declare: {extra}")
    return parsed


def etag_of(resp: Any, what: str) -> str:
    etag = resp.headers.get("etag")
    check(bool(etag) and etag.startswith('"') and etag.endswith('"'), f"{what}: ETag {etag!r}")
    return etag


def enum_value(value: Any) -> Any:
    check(isinstance(value, enum.Enum), f"expected a generated enum member, got {value!r}")
    return value.value


def uscc(serial: int) -> str:
    """A unified social credit code (GB 32100-2015) with a valid check character."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    body = f"91431302{serial:09d}"
    total = sum(w * alphabet.index(c) for w, c in zip(weights, body))
    return body + alphabet[(31 - total % 31) % 31]


def raw(method: str, path: str, token: str | None = None, **kw: Any) -> httpx.Response:
    """Plain HTTP, used only by the CONTRACT_KEEP_GOING fallbacks."""
    headers = kw.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    r = httpx.request(method, BASE_URL + path, headers=headers, timeout=TIMEOUT, **kw)
    r.raise_for_status()
    return r


def step(name: str, fn: Callable[[], Any], fallback: Callable[[], Any] | None = None) -> Any:
    started = time.monotonic()
    try:
        result = fn()
    except Exception as exc:  # noqa: BLE001 - every failure is reported the same way
        elapsed = time.monotonic() - started
        print(f"  FAIL {name} ({elapsed:.2f}s): {type(exc).__name__}: {exc}", flush=True)
        tb = traceback.format_exc().rstrip().splitlines()
        print("\n".join("       " + line for line in tb[-8:]), flush=True)
        failures.append(f"{name}: {type(exc).__name__}: {exc}")
        if not KEEP_GOING:
            summary_and_exit()
        if fallback is None:
            return None
        try:
            result = fallback()
            print(f"       (state for later steps fetched with plain HTTP: diagnostic only)", flush=True)
        except Exception as exc2:  # noqa: BLE001
            print(f"       fallback failed too: {type(exc2).__name__}: {exc2}", flush=True)
            summary_and_exit()
        return result
    print(f"  ok   {name} ({time.monotonic() - started:.2f}s)", flush=True)
    return result


def summary_and_exit() -> None:
    if failures:
        print(f"python scenario: FAILED ({len(failures)} step(s))")
        for f in failures:
            print(f"  - {f.splitlines()[0][:400]}")
        sys.exit(1)
    print("python scenario: all steps passed")
    sys.exit(0)


def main() -> None:
    today = datetime.datetime.now(SHANGHAI).date()
    deadline = today + datetime.timedelta(days=30)
    serial = os.environ.get("CONTRACT_SERIAL")  # run.sh fixes it so runs are reproducible
    code = uscc(int(serial) if serial else secrets.randbelow(10**9))
    anon = Client(base_url=BASE_URL, raise_on_unexpected_status=True, timeout=TIMEOUT)
    state: dict[str, Any] = {}

    # 1. login as the administrator.
    def do_login() -> str:
        body = body_model(login.sync_detailed)(username="admin", password=PASSWORD)
        resp = login.sync_detailed(client=anon, body=body)
        tok = expect(resp, 200, "TokenResponse", "login")
        check(isinstance(tok.access_token, str) and tok.access_token.count(".") == 2,
              f"login: access_token is not a JWT: {tok.access_token!r}")
        check(enum_value(tok.token_type) == "Bearer" if isinstance(tok.token_type, enum.Enum)
              else tok.token_type == "Bearer", f"login: token_type {tok.token_type!r}")
        check(isinstance(tok.expires_in, int) and tok.expires_in > 0, f"login: expires_in {tok.expires_in!r}")
        check(isinstance(tok.refresh_token, str) and tok.refresh_token, "login: no refresh_token")
        return tok.access_token

    token = step("login (POST /api/v1/auth/login)", do_login,
                 lambda: raw("POST", "/api/v1/auth/login",
                             json={"username": "admin", "password": PASSWORD}).json()["access_token"])
    client = AuthenticatedClient(base_url=BASE_URL, token=token, raise_on_unexpected_status=True,
                                 timeout=TIMEOUT)

    # 2. who am I.
    def do_me() -> None:
        me = expect(get_me.sync_detailed(client=client), 200, "AccountDetail", "GET /me")
        check(me.username == "admin", f"me: username {me.username!r}")
        check(enum_value(me.role) == "city_admin", f"me: role {me.role!r}")
        check(isinstance(me.id, int) and me.disabled is False, f"me: id {me.id!r}, disabled {me.disabled!r}")
        check(isinstance(me.created_at, datetime.datetime) and me.created_at.tzinfo is not None,
              f"me: created_at {me.created_at!r}")

    step("who am I (GET /api/v1/me)", do_me)

    # 2b. reference data is a collection like any other (limit, cursor).
    def do_sectors() -> None:
        page = expect(list_sectors.sync_detailed(client=client, limit=200), 200, "PageSector", "list sectors")
        codes = [s.code for s in page.items]
        check("industry_trade" in codes, f"list sectors: industry_trade not in {codes}")

    step("reference data (GET /api/v1/sectors?limit=200)", do_sectors)

    # 3. register an enterprise.
    def do_create_enterprise() -> int:
        model = body_model(create_enterprise.sync_detailed)
        body = model(uscc=code, name=f"契约检查企业 {code}", jurisdiction_code="431302",
                     sector_code="industry_trade", employees=120,
                     annual_revenue_10k_yuan=350.0)
        resp = create_enterprise.sync_detailed(client=client, body=body,
                                               idempotency_key=f"contract-py-{code}")
        ent = expect(resp, 201, "EnterpriseResponse", "create enterprise")
        etag_of(resp, "create enterprise")
        location = resp.headers.get("location", "")
        check(location.endswith(f"/api/v1/enterprises/{ent.id}"), f"create enterprise: Location {location!r}")
        check(ent.uscc == code and ent.jurisdiction_code == "431302" and ent.sector_code == "industry_trade",
              f"create enterprise: echoed {ent.uscc!r} {ent.jurisdiction_code!r} {ent.sector_code!r}")
        check(ent.employees == 120 and ent.annual_revenue_10k_yuan == 350.0 and isinstance(ent.version, int),
              f"create enterprise: employees {ent.employees!r}, revenue {ent.annual_revenue_10k_yuan!r}")
        check(enum_value(ent.status) == "operating", f"create enterprise: status {ent.status!r}")
        check(enum_value(ent.safety_director_status) in {"not_required", "appointed", "missing"},
              f"create enterprise: safety_director_status {ent.safety_director_status!r}")
        return ent.id

    def fallback_enterprise() -> int:
        # The typed call may have created it before its answer failed to parse.
        page = raw("GET", "/api/v1/enterprises", token, params={"q": code}).json()
        for item in page.get("items", []):
            if item.get("uscc") == code:
                return item["id"]
        return raw("POST", "/api/v1/enterprises", token, json={
            "uscc": code, "name": f"契约检查企业 {code}", "jurisdiction_code": "431302",
            "sector_code": "industry_trade", "employees": 120,
            "annual_revenue_10k_yuan": 350.0}).json()["id"]

    enterprise_id = step("create enterprise (POST /api/v1/enterprises)", do_create_enterprise,
                         fallback_enterprise)

    # 4. find it in the collection.
    def do_list() -> None:
        cursor: str | Unset = UNSET
        seen = 0
        for _ in range(50):
            page = expect(list_enterprises.sync_detailed(client=client, jurisdiction_code="431302",
                                                          limit=200, cursor=cursor),
                          200, "PageEnterpriseResponse", "list enterprises")
            seen += len(page.items)
            hits = [e for e in page.items if e.id == enterprise_id]
            if hits:
                check(hits[0].uscc == code, f"list enterprises: uscc {hits[0].uscc!r}")
                check(enum_value(hits[0].status) == "operating", f"list enterprises: {hits[0].status!r}")
                return
            if not isinstance(page.next_cursor, str):
                break
            cursor = page.next_cursor
        raise ContractError(f"list enterprises: {enterprise_id} not among {seen} listed")

    step("find it (GET /api/v1/enterprises)", do_list)

    five = dict(responsible_person="张伟", measures="更换并加装防护；整改期间设警戒",
                funds_10k_yuan=1.5, acceptance_criteria="防护装置齐全有效")

    def hazard_fields(**extra: Any) -> Any:
        level = models.HazardLevel("general")
        return body_model(create_hazard.sync_detailed)(
            enterprise_id=enterprise_id, title="配电室未配置绝缘垫", description="高压柜前未铺设绝缘垫",
            level=level, discovered_on=today, standard_ref="GB 50054-2011 4.2", **extra)

    def check_five(h: Any, what: str, with_deadline: bool) -> None:
        for k, v in five.items():
            check(getattr(h, k, None) == v, f"{what}: {k} is {getattr(h, k, None)!r}, sent {v!r}")
        got = h.rectification_deadline
        if with_deadline:
            check(got == deadline, f"{what}: rectification_deadline {got!r}, sent {deadline}")

    # 5a. a hazard recorded with the complete 五定 block starts in `rectifying` (documented on create).
    def do_create_complete() -> None:
        resp = create_hazard.sync_detailed(client=client, body=hazard_fields(**five, rectification_deadline=deadline),
                                           idempotency_key=f"contract-py-h1-{code}")
        h = expect(resp, 201, "HazardResponse", "create hazard (complete 五定)")
        etag_of(resp, "create hazard")
        check(enum_value(h.level) == "general", f"create hazard: level {h.level!r}")
        check(h.enterprise_id == enterprise_id, f"create hazard: enterprise_id {h.enterprise_id!r}")
        check(enum_value(h.status) == "rectifying",
              f"create hazard with the complete 五定 block: status {h.status!r}, expected rectifying")
        check_five(h, "create hazard", True)

    step("create hazard with the 五定 block (POST /api/v1/hazards)", do_create_complete)

    # 5b. the same without the deadline stays `reported` ...
    def do_create_reported() -> tuple[int, str]:
        resp = create_hazard.sync_detailed(client=client, body=hazard_fields(**five),
                                           idempotency_key=f"contract-py-h2-{code}")
        h = expect(resp, 201, "HazardResponse", "create hazard (no deadline)")
        check(enum_value(h.status) == "reported", f"create hazard without a deadline: status {h.status!r}")
        check_five(h, "create hazard (no deadline)", False)
        return h.id, etag_of(resp, "create hazard")

    def fallback_reported() -> tuple[int, str]:
        r = raw("POST", "/api/v1/hazards", token, json={
            "enterprise_id": enterprise_id, "title": "配电室未配置绝缘垫", "description": "高压柜前未铺设绝缘垫",
            "level": "general", "discovered_on": today.isoformat(), **five})
        return r.json()["id"], r.headers["etag"]

    hazard_id, etag = step("create hazard without a deadline (POST /api/v1/hazards)",
                           do_create_reported, fallback_reported)

    # ... its ETag is the one GET answers ...
    def do_get() -> str:
        resp = get_hazard.sync_detailed(hazard_id, client=client)
        h = expect(resp, 200, "HazardResponse", "GET hazard")
        check(h.id == hazard_id and enum_value(h.status) == "reported", f"GET hazard: {h.id!r} {h.status!r}")
        got = etag_of(resp, "GET hazard")
        check(got == etag, f"GET hazard: ETag {got!r}, create answered {etag!r}")
        return got

    etag = step("read it back (GET /api/v1/hazards/{id})", do_get, lambda: etag) or etag

    # ... and a merge patch with the deadline (If-Match) completes the block.
    def do_patch() -> str:
        model = body_model(update_hazard.sync_detailed)
        resp = update_hazard.sync_detailed(hazard_id, client=client, body=model(rectification_deadline=deadline),
                                           if_match=etag)
        h = expect(resp, 200, "HazardResponse", "PATCH hazard")
        check(h.rectification_deadline == deadline, f"PATCH hazard: deadline {h.rectification_deadline!r}")
        check(enum_value(h.status) == "reported", f"PATCH hazard: status {h.status!r} (a PATCH never transitions)")
        new = etag_of(resp, "PATCH hazard")
        check(new != etag, f"PATCH hazard: ETag unchanged ({new})")
        return new

    def fallback_patch() -> str:
        # The typed call may have applied the patch before its answer failed to parse.
        current = raw("GET", f"/api/v1/hazards/{hazard_id}", token)
        if current.json().get("rectification_deadline") == deadline.isoformat():
            return current.headers["etag"]
        return raw("PATCH", f"/api/v1/hazards/{hazard_id}", token,
                   headers={"If-Match": current.headers["etag"], "Content-Type": "application/merge-patch+json"},
                   json={"rectification_deadline": deadline.isoformat()}).headers["etag"]

    etag = step("set the deadline (PATCH /api/v1/hazards/{id}, If-Match)", do_patch, fallback_patch)

    # 6. start rectification through the transitions endpoint.
    def do_transition() -> None:
        model = body_model(transition_hazard.sync_detailed)
        resp = transition_hazard.sync_detailed(hazard_id, client=client,
                                               body=model(action=models.Action("start_rectification")),
                                               if_match=etag)
        h = expect(resp, 200, "HazardResponse", "transition start_rectification")
        check(enum_value(h.status) == "rectifying", f"transition: status {h.status!r}, expected rectifying")
        check(h.id == hazard_id, f"transition: id {h.id!r}")
        check_five(h, "transition", True)
        new = etag_of(resp, "transition")
        check(new != etag, f"transition: ETag unchanged ({new})")

    step("start rectification (POST /api/v1/hazards/{id}/transitions, If-Match)", do_transition)

    # 7. evidence: upload a photo (multipart) and download it through the generated client.
    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
           b"\x00\x00\x00\x1f\x15\xc4\x89" + b"rest of the image")

    def do_evidence() -> None:
        import io
        from hazreg_client.types import File
        form = models.UploadForm(file=File(payload=io.BytesIO(png), file_name="after.png", mime_type="image/png"),
                                 stage=models.AttachmentStage("after"))
        resp = upload_attachment.sync_detailed(hazard_id, client=client, body=form)
        a = expect(resp, 201, "AttachmentResponse", "upload attachment")
        check(a.content_type == "image/png" and a.size == len(png), f"upload: {a.content_type!r} {a.size!r}")
        got = get_attachment.sync_detailed(a.id, client=client)
        check(got.status_code == 200, f"download: status {got.status_code}")
        check(isinstance(got.parsed, File), f"download: parsed as {type(got.parsed).__name__}, not File")
        check(got.parsed.payload.read() == png, "download: the bytes differ from the upload")

    step("evidence (POST /api/v1/hazards/{id}/attachments, GET /api/v1/attachments/{id})", do_evidence)
    summary_and_exit()


if __name__ == "__main__":
    main()
