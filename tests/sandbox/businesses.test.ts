import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningSandbox } from "../../sandbox/server";
import { api, businessIdByKey, control, login, refresh, requestLog, sageErrorsOf, start, type TokenSet } from "./helpers";

let sb: RunningSandbox;
let base: string;

beforeAll(async () => {
  sb = await start();
  base = sb.url;
});
afterAll(async () => {
  await sb.close();
});
beforeEach(async () => {
  await control(base, "POST", "/reset");
});

interface Envelope {
  $total: number;
  $page: number;
  $next: string | null;
  $back: string | null;
  $itemsPerPage: number;
  $items: Array<Record<string, unknown>>;
}

describe("access tokens", () => {
  it("an expired access token gets 401 with Sage's error array", async () => {
    const t = await login(base);
    expect((await api(base, t.access_token, "GET", "/businesses")).status).toBe(200);
    await control(base, "POST", "/clock", { advanceSeconds: 301 });
    const res = await api(base, t.access_token, "GET", "/businesses");
    expect(res.status).toBe(401);
    const errors = await sageErrorsOf(res);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ $severity: "error", $source: "" });
    expect(typeof errors[0]?.$dataCode).toBe("string");
    expect(typeof errors[0]?.$message).toBe("string");
  });

  it("expire-access-tokens ends all live tokens; a refresh gets a working one", async () => {
    const t = await login(base);
    await control(base, "POST", "/sage/expire-access-tokens");
    expect((await api(base, t.access_token, "GET", "/user")).status).toBe(401);
    const t2 = (await (await refresh(base, t.refresh_token)).json()) as TokenSet;
    expect((await api(base, t2.access_token, "GET", "/user")).status).toBe(200);
  });

  it("missing or unknown bearer token → 401 error array", async () => {
    const res = await fetch(`${base}/sage/v3.1/businesses`);
    expect(res.status).toBe(401);
    expect((await sageErrorsOf(res))[0]?.$dataCode).toBe("AuthorizationFailure");
    const res2 = await api(base, "not-a-token", "GET", "/user");
    expect(res2.status).toBe(401);
    await sageErrorsOf(res2);
  });
});

describe("businesses", () => {
  it("lists one business for Alex, in the paging envelope with slim items", async () => {
    const t = await login(base, "Alex Morgan (1 business)");
    const res = await api(base, t.access_token, "GET", "/businesses");
    expect(res.status).toBe(200);
    const env = (await res.json()) as Envelope;
    expect(env.$total).toBe(1);
    expect(env.$page).toBe(1);
    expect(env.$next).toBeNull();
    expect(env.$back).toBeNull();
    expect(env.$itemsPerPage).toBe(20);
    expect(env.$items).toHaveLength(1);
    const item = env.$items[0] ?? {};
    expect(Object.keys(item).sort()).toEqual(["$path", "displayed_as", "id"]);
    expect(item.id).toMatch(/^[0-9a-f]{32}$/);
    expect(item.$path).toBe(`/businesses/${String(item.id)}`);
  });

  it("lists two businesses (GB + IE) for Sam; attributes=all gives countries", async () => {
    const t = await login(base, "Sam Taylor (2 businesses)");
    const env = (await (await api(base, t.access_token, "GET", "/businesses?attributes=all")).json()) as Envelope;
    expect(env.$total).toBe(2);
    const countries = env.$items.map((b) => (b.country as { id: string }).id).sort();
    expect(countries).toEqual(["GB", "IE"]);
  });

  it("GET /businesses/lead and /businesses/{id}", async () => {
    const t = await login(base, "Sam Taylor (2 businesses)");
    const lead = (await (await api(base, t.access_token, "GET", "/businesses/lead")).json()) as Record<string, unknown>;
    expect((lead.country as { id: string }).id).toBe("GB");
    const ie = await businessIdByKey(base, "taylor-ie");
    const res = await api(base, t.access_token, "GET", `/businesses/${ie}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { id: string }).id).toBe(ie);
    // Alex's business is not Sam's
    const other = await businessIdByKey(base, "morgan-gb");
    const res404 = await api(base, t.access_token, "GET", `/businesses/${other}`);
    expect(res404.status).toBe(404);
    await sageErrorsOf(res404);
  });

  it("GET /user returns the signed-in user", async () => {
    const t = await login(base, "Sam Taylor (2 businesses)");
    const user = (await (await api(base, t.access_token, "GET", "/user")).json()) as Record<string, unknown>;
    expect(user.id).toBe(t.requested_by_id);
    expect(user.first_name).toBe("Sam");
    expect(user.last_name).toBe("Taylor");
    expect(user.email).toBe("sam.taylor@example.test");
  });

  it("X-Business selects the business; an unauthorised one is refused with an error array", async () => {
    const t = await login(base, "Sam Taylor (2 businesses)");
    const ie = await businessIdByKey(base, "taylor-ie");
    const gb = await businessIdByKey(base, "taylor-gb");
    await control(base, "DELETE", "/requests");
    // business-scoped endpoint: without X-Business the lead business is used
    await api(base, t.access_token, "GET", "/contacts");
    await api(base, t.access_token, "GET", "/contacts", { business: ie });
    const log = await requestLog(base);
    expect(log.map((e) => e.business)).toEqual([gb, ie]);

    const alexBusiness = await businessIdByKey(base, "morgan-gb");
    for (const business of [alexBusiness, "0".repeat(32), "nonsense"]) {
      const res = await api(base, t.access_token, "GET", "/contacts", { business });
      expect(res.status, business).toBe(403);
      const errs = await sageErrorsOf(res);
      expect(errs[0]?.$source).toBe("X-Business");
    }
  });
});
