// API contract scenario in TypeScript: openapi-fetch typed by the `paths` that openapi-typescript
// generated from openapi/openapi.json (generated/api.d.ts). `tsc --strict` checks every request
// and every use of a response against the document (an enum value the document does not list, a
// field it does not have, a required field left out: all compile errors); the run then checks
// the live answers.
//
// Usage: node generated/js/scenario.js BASE_URL   (env CONTRACT_ADMIN_PASSWORD, CONTRACT_KEEP_GOING=1)

import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/api.js";

type Schemas = components["schemas"];

const baseUrl = (process.argv[2] ?? "").replace(/\/+$/, "");
assert.ok(baseUrl, "usage: scenario.js BASE_URL");
const password = process.env.CONTRACT_ADMIN_PASSWORD ?? "Contract-Check-2026";
const keepGoing = process.env.CONTRACT_KEEP_GOING === "1";
const failures: string[] = [];

/** A unified social credit code (GB 32100-2015) with a valid check character. */
function uscc(serial: number): string {
  const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  const body = `91431302${String(serial).padStart(9, "0")}`;
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum += (weights[i] ?? 0) * alphabet.indexOf(body.charAt(i));
  return body + alphabet.charAt((31 - (sum % 31)) % 31);
}

/** Today in Asia/Shanghai, plus `days`, as YYYY-MM-DD. */
function shanghaiDate(days = 0): string {
  return new Date(Date.now() + 8 * 3600_000 + days * 86400_000).toISOString().slice(0, 10);
}

/** Equality whose expected value must have the type the document gives the actual one, so a
 *  wire value the document does not list (e.g. "city_admin" against "CityAdmin") fails tsc. */
function eq<T>(actual: T, expected: NoInfer<T>, what = "value"): void {
  assert.deepStrictEqual(actual, expected, `${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
}

function expectStatus(what: string, response: Response, status: number, error: unknown): void {
  eq(response.status, status, `${what}: expected ${status}, got ${response.status}: ${JSON.stringify(error)}`);
  const ctype = (response.headers.get("content-type") ?? "").split(";")[0]?.trim();
  eq(ctype, "application/json", `${what}: content-type ${ctype}`);
}

function etagOf(what: string, response: Response): string {
  const etag = response.headers.get("etag");
  assert.ok(etag && /^"[^"]+"$/.test(etag), `${what}: ETag ${etag}`);
  return etag;
}

async function step<T>(name: string, run: () => Promise<T>, fallback?: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    const result = await run();
    console.log(`  ok   ${name} (${((performance.now() - started) / 1000).toFixed(2)}s)`);
    return result;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    console.log(`  FAIL ${name} (${((performance.now() - started) / 1000).toFixed(2)}s): ${message}`);
    failures.push(`${name}: ${message.split("\n")[0]}`);
    if (!keepGoing || !fallback) finish();
    console.log("       (state for later steps fetched with plain fetch: diagnostic only)");
    return fallback!();
  }
}

function finish(): never {
  if (failures.length > 0) {
    console.log(`typescript scenario: FAILED (${failures.length} step(s))`);
    for (const f of failures) console.log(`  - ${f.slice(0, 400)}`);
    process.exit(1);
  }
  console.log("typescript scenario: all steps passed");
  process.exit(0);
}

/** Plain fetch, used only by the CONTRACT_KEEP_GOING fallbacks. */
async function raw(method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const r = await fetch(baseUrl + path, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { "Content-Type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r;
}

const today = shanghaiDate();
const deadline = shanghaiDate(30);
const serial = process.env.CONTRACT_SERIAL; // run.sh fixes it so runs are reproducible
const code = uscc(serial ? Number(serial) : randomInt(1_000_000_000));
const anon = createClient<paths>({ baseUrl });

// 1. login as the administrator.
const token = await step(
  "login (POST /api/v1/auth/login)",
  async () => {
    const { data, error, response } = await anon.POST("/api/v1/auth/login", { body: { username: "admin", password } });
    expectStatus("login", response, 200, error);
    assert.ok(data);
    const tok: Schemas["TokenResponse"] = data;
    eq(tok.access_token.split(".").length, 3, "login: access_token is not a JWT");
    eq(tok.token_type, "Bearer", "token_type");
    assert.ok(Number.isInteger(tok.expires_in) && tok.expires_in > 0, `login: expires_in ${tok.expires_in}`);
    assert.ok(typeof tok.refresh_token === "string" && tok.refresh_token.length > 0, "login: refresh_token");
    return tok.access_token;
  },
  async () => ((await (await raw("POST", "/api/v1/auth/login", null, { username: "admin", password })).json()) as { access_token: string }).access_token,
);

const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });

// 2. who am I.
await step("who am I (GET /api/v1/me)", async () => {
  const { data, error, response } = await api.GET("/api/v1/me");
  expectStatus("GET /me", response, 200, error);
  assert.ok(data);
  eq(data.username, "admin", "username");
  eq(data.role, "city_admin", "role");
  eq(data.disabled, false, "disabled");
  assert.ok(Number.isInteger(data.id));
  assert.ok(!Number.isNaN(Date.parse(data.created_at)) && data.created_at.endsWith("Z"), `me: created_at ${data.created_at}`);
});

// 2b. reference data is a collection like any other (limit, cursor).
await step("reference data (GET /api/v1/sectors?limit=200)", async () => {
  const { data, error, response } = await api.GET("/api/v1/sectors", { params: { query: { limit: 200 } } });
  expectStatus("list sectors", response, 200, error);
  assert.ok(data);
  assert.ok(data.items.some((s) => s.code === "industry_trade"), "list sectors: industry_trade missing");
});

// 3. register an enterprise.
const enterpriseId = await step(
  "create enterprise (POST /api/v1/enterprises)",
  async () => {
    const { data, error, response } = await api.POST("/api/v1/enterprises", {
      params: { header: { "Idempotency-Key": `contract-ts-${code}` } },
      body: { uscc: code, name: `契约检查企业 ${code}`, jurisdiction_code: "431302", sector_code: "industry_trade", employees: 120, annual_revenue_10k_yuan: 350 },
    });
    expectStatus("create enterprise", response, 201, error);
    assert.ok(data);
    etagOf("create enterprise", response);
    assert.ok((response.headers.get("location") ?? "").endsWith(`/api/v1/enterprises/${data.id}`), "create enterprise: Location");
    eq(data.uscc, code, "uscc");
    eq(data.jurisdiction_code, "431302", "jurisdiction_code");
    eq(data.sector_code, "industry_trade", "sector_code");
    eq(data.employees, 120, "employees");
    eq(data.annual_revenue_10k_yuan, 350, "annual_revenue_10k_yuan");
    eq(data.status, "operating", "status");
    const directorStatuses: Schemas["SafetyDirectorStatus"][] = ["not_required", "appointed", "missing"];
    assert.ok(directorStatuses.includes(data.safety_director_status), `safety_director_status ${data.safety_director_status}`);
    return data.id;
  },
  async () => {
    // The typed call may have created it before its answer failed a check.
    const found = (await (await raw("GET", `/api/v1/enterprises?q=${code}`, token)).json()) as { items: { id: number; uscc: string }[] };
    const hit = found.items.find((e) => e.uscc === code);
    if (hit) return hit.id;
    return ((await (await raw("POST", "/api/v1/enterprises", token, {
      uscc: code, name: `契约检查企业 ${code}`, jurisdiction_code: "431302", sector_code: "industry_trade", employees: 120, annual_revenue_10k_yuan: 350,
    })).json()) as { id: number }).id;
  },
);

// 4. find it in the collection.
await step("find it (GET /api/v1/enterprises)", async () => {
  let cursor: string | undefined;
  for (let page = 0; page < 50; page++) {
    const { data, error, response } = await api.GET("/api/v1/enterprises", {
      params: { query: { jurisdiction_code: "431302", limit: 200, ...(cursor ? { cursor } : {}) } },
    });
    expectStatus("list enterprises", response, 200, error);
    assert.ok(data);
    const hit = data.items.find((e) => e.id === enterpriseId);
    if (hit) {
      eq(hit.uscc, code, "uscc");
      eq(hit.status, "operating", "status");
      return;
    }
    if (!data.next_cursor) break;
    cursor = data.next_cursor;
  }
  assert.fail(`list enterprises: ${enterpriseId} not found`);
});

const five = {
  responsible_person: "张伟",
  measures: "更换并加装防护；整改期间设警戒",
  funds_10k_yuan: 1.5,
  acceptance_criteria: "防护装置齐全有效",
} as const;

function checkFive(what: string, h: Schemas["HazardResponse"], withDeadline: boolean): void {
  eq(h.responsible_person, five.responsible_person, `${what}: responsible_person`);
  eq(h.measures, five.measures, `${what}: measures`);
  eq(h.funds_10k_yuan, five.funds_10k_yuan, `${what}: funds_10k_yuan`);
  eq(h.acceptance_criteria, five.acceptance_criteria, `${what}: acceptance_criteria`);
  if (withDeadline) eq(h.rectification_deadline, deadline, `${what}: rectification_deadline`);
}

const hazardBase = {
  enterprise_id: enterpriseId,
  title: "配电室未配置绝缘垫",
  description: "高压柜前未铺设绝缘垫",
  level: "general",
  discovered_on: today,
  standard_ref: "GB 50054-2011 4.2",
} as const;

// 5a. a hazard recorded with the complete 五定 block starts in `rectifying` (documented on create).
await step("create hazard with the 五定 block (POST /api/v1/hazards)", async () => {
  const { data, error, response } = await api.POST("/api/v1/hazards", {
    params: { header: { "Idempotency-Key": `contract-ts-h1-${code}` } },
    body: { ...hazardBase, ...five, rectification_deadline: deadline },
  });
  expectStatus("create hazard", response, 201, error);
  assert.ok(data);
  etagOf("create hazard", response);
  eq(data.level, "general", "level");
  eq(data.enterprise_id, enterpriseId, "enterprise_id");
  eq(data.status, "rectifying", "create hazard with the complete 五定 block: status");
  checkFive("create hazard", data, true);
});

// 5b. the same without the deadline stays `reported` ...
const created = await step(
  "create hazard without a deadline (POST /api/v1/hazards)",
  async () => {
    const { data, error, response } = await api.POST("/api/v1/hazards", {
      params: { header: { "Idempotency-Key": `contract-ts-h2-${code}` } },
      body: { ...hazardBase, ...five },
    });
    expectStatus("create hazard (no deadline)", response, 201, error);
    assert.ok(data);
    eq(data.status, "reported", "create hazard without a deadline: status");
    checkFive("create hazard (no deadline)", data, false);
    return { id: data.id, etag: etagOf("create hazard", response) };
  },
  async () => {
    const r = await raw("POST", "/api/v1/hazards", token, { ...hazardBase, ...five });
    return { id: ((await r.json()) as { id: number }).id, etag: r.headers.get("etag") ?? "" };
  },
);
const hazardId = created.id;
let etag = created.etag;

// ... its ETag is the one GET answers ...
await step("read it back (GET /api/v1/hazards/{id})", async () => {
  const { data, error, response } = await api.GET("/api/v1/hazards/{id}", { params: { path: { id: hazardId } } });
  expectStatus("GET hazard", response, 200, error);
  assert.ok(data);
  eq(data.id, hazardId, "id");
  eq(data.status, "reported", "status");
  eq(etagOf("GET hazard", response), etag, "GET hazard: ETag differs from create's");
});

// ... and a merge patch with the deadline (If-Match) completes the block.
etag = await step(
  "set the deadline (PATCH /api/v1/hazards/{id}, If-Match)",
  async () => {
    const { data, error, response } = await api.PATCH("/api/v1/hazards/{id}", {
      params: { path: { id: hazardId }, header: { "If-Match": etag } },
      body: { rectification_deadline: deadline },
    });
    expectStatus("PATCH hazard", response, 200, error);
    assert.ok(data);
    eq(data.rectification_deadline, deadline, "rectification_deadline");
    eq(data.status, "reported", "PATCH hazard: a PATCH never transitions");
    const next = etagOf("PATCH hazard", response);
    assert.notEqual(next, etag, "PATCH hazard: ETag unchanged");
    return next;
  },
  async () => {
    // The typed call may have applied the patch before its answer failed a check.
    const current = await raw("GET", `/api/v1/hazards/${hazardId}`, token);
    const currentEtag = current.headers.get("etag") ?? "";
    if (((await current.json()) as { rectification_deadline?: string }).rectification_deadline === deadline) return currentEtag;
    return (await raw("PATCH", `/api/v1/hazards/${hazardId}`, token, { rectification_deadline: deadline }, {
      "If-Match": currentEtag, "Content-Type": "application/merge-patch+json",
    })).headers.get("etag") ?? "";
  },
);

// 6. start rectification through the transitions endpoint.
await step("start rectification (POST /api/v1/hazards/{id}/transitions, If-Match)", async () => {
  const { data, error, response } = await api.POST("/api/v1/hazards/{id}/transitions", {
    params: { path: { id: hazardId }, header: { "If-Match": etag } },
    body: { action: "start_rectification" },
  });
  expectStatus("transition", response, 200, error);
  assert.ok(data);
  eq(data.status, "rectifying", "transition: status");
  eq(data.id, hazardId, "id");
  checkFive("transition", data, true);
  assert.notEqual(etagOf("transition", response), etag, "transition: ETag unchanged");
});

finish();
