import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningSandbox } from "../../sandbox/server";
import {
  CLIENT_ID,
  CLIENT_SECRET,
  REDIRECT_URI,
  authorizeUrl,
  control,
  decide,
  exchangeCode,
  getCode,
  login,
  openConsent,
  refresh,
  requestLog,
  start,
  tokenRequest,
  type TokenSet,
} from "./helpers";

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

describe("consent page", () => {
  it("renders Sage branding, the app, the scope, the users and Allow/Deny", async () => {
    const page = await openConsent(base, { scope: "readonly" });
    expect(page.status).toBe(200);
    expect(page.html).toContain("Sage Business Cloud Accounting");
    expect(page.html).toContain("Sage Connector");
    expect(page.html).toContain("readonly");
    expect([...page.users.keys()]).toEqual(["Alex Morgan (1 business)", "Sam Taylor (2 businesses)"]);
    expect(page.html).toMatch(/<button[^>]*>Allow<\/button>/);
    expect(page.html).toMatch(/<button[^>]*>Deny<\/button>/);
    expect(page.html).toMatch(/<form method="post"/);
  });

  it("shows an error page (no redirect) for an unknown client, wrong response_type or unregistered redirect_uri", async () => {
    for (const params of [
      { client_id: "someone-else" },
      { response_type: "token" },
      { redirect_uri: `${REDIRECT_URI}/` },
      { redirect_uri: REDIRECT_URI.replace("localhost", "LOCALHOST") },
      { redirect_uri: undefined },
    ]) {
      const res = await fetch(authorizeUrl(base, params), { redirect: "manual" });
      expect(res.status, JSON.stringify(params)).toBe(400);
      expect(res.headers.get("location")).toBeNull();
      expect(res.headers.get("content-type")).toContain("text/html");
    }
  });

  it("Allow redirects with code, state and country", async () => {
    const page = await openConsent(base, { state: "abc-state", country: "gb" });
    const res = await decide(base, page, "allow");
    expect(res.status).toBe(302);
    const loc = new URL(res.headers.get("location") ?? "");
    expect(`${loc.origin}${loc.pathname}`).toBe(REDIRECT_URI);
    expect(loc.searchParams.get("code")).toMatch(/.{16,}/);
    expect(loc.searchParams.get("state")).toBe("abc-state");
    expect(loc.searchParams.get("country")).toBe("gb");
  });

  it("Deny redirects with error=access_denied and the state", async () => {
    const page = await openConsent(base, { state: "deny-state" });
    const res = await decide(base, page, "deny");
    expect(res.status).toBe(302);
    const loc = new URL(res.headers.get("location") ?? "");
    expect(loc.searchParams.get("error")).toBe("access_denied");
    expect(loc.searchParams.get("error_description")).toBeTruthy();
    expect(loc.searchParams.get("state")).toBe("deny-state");
    expect(loc.searchParams.get("code")).toBeNull();
  });

  it("a consent form can be answered only once", async () => {
    const page = await openConsent(base);
    expect((await decide(base, page, "allow")).status).toBe(302);
    const again = await decide(base, page, "allow");
    expect(again.status).toBe(400);
    expect(again.headers.get("location")).toBeNull();
  });
});

describe("token endpoint", () => {
  it("exchanges a code for tokens with the documented fields", async () => {
    const t = await login(base);
    expect(t.token_type).toBe("bearer");
    expect(t.expires_in).toBe(300);
    expect(t.refresh_token_expires_in).toBe(31 * 24 * 3600);
    expect(t.scope).toBe("full_access");
    expect(t.requested_by_id).toMatch(/^[0-9a-f]{32}$/);
    expect(t.access_token).toBeTruthy();
    expect(t.refresh_token).toBeTruthy();
  });

  it("accepts HTTP Basic client authentication", async () => {
    const code = await getCode(base);
    const res = await tokenRequest(
      base,
      { grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI },
      { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64")}` },
    );
    expect(res.status).toBe(200);
  });

  it("a code is single use", async () => {
    const code = await getCode(base);
    await exchangeCode(base, code);
    const again = await tokenRequest(base, {
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    expect(again.status).toBe(400);
    expect(await again.json()).toEqual({ error: "invalid_grant" });
  });

  it("a code expires after 60 seconds", async () => {
    const code = await getCode(base);
    await control(base, "POST", "/clock", { advanceSeconds: 61 });
    const res = await tokenRequest(base, {
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "invalid_grant" });
  });

  it("a code used at 59 seconds still works", async () => {
    const code = await getCode(base);
    await control(base, "POST", "/clock", { advanceSeconds: 59 });
    await expect(exchangeCode(base, code)).resolves.toBeTruthy();
  });

  it("the redirect_uri must match character for character", async () => {
    const code = await getCode(base);
    for (const redirect_uri of [`${REDIRECT_URI}/`, REDIRECT_URI.toUpperCase(), `${REDIRECT_URI}?x=1`, ""]) {
      const res = await tokenRequest(base, {
        grant_type: "authorization_code",
        code,
        redirect_uri,
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      });
      expect(res.status, redirect_uri).toBe(400);
      expect(await res.json()).toEqual({ error: "invalid_grant" });
    }
    // the code was not burnt by the mismatches
    await expect(exchangeCode(base, code)).resolves.toBeTruthy();
  });

  it("a bad client gets 401 invalid_client", async () => {
    const code = await getCode(base);
    const res = await tokenRequest(base, {
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      client_secret: "wrong",
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "invalid_client" });
  });

  it("only form-encoded bodies are accepted", async () => {
    const code = await getCode(base);
    const res = await fetch(`${base}/sage/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        grant_type: "authorization_code",
        code,
        redirect_uri: REDIRECT_URI,
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      }),
    });
    expect([400, 415]).toContain(res.status);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_request");
  });

  it("an unknown grant_type is invalid_grant", async () => {
    const res = await tokenRequest(base, { grant_type: "password", client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "invalid_grant" });
  });
});

describe("refresh token rotation", () => {
  it("each refresh returns a new refresh token and kills the old one", async () => {
    const t1 = await login(base);
    const r1 = await refresh(base, t1.refresh_token);
    expect(r1.status).toBe(200);
    const t2 = (await r1.json()) as TokenSet;
    expect(t2.refresh_token).not.toBe(t1.refresh_token);
    expect(t2.access_token).not.toBe(t1.access_token);
    expect(t2.scope).toBe("full_access");

    const reuse = await refresh(base, t1.refresh_token);
    expect(reuse.status).toBe(400);
    expect(await reuse.json()).toEqual({ error: "invalid_grant" });

    const r2 = await refresh(base, t2.refresh_token);
    expect(r2.status).toBe(200);
  });

  it("concurrent refreshes with the same token: exactly one wins", async () => {
    const t = await login(base);
    const results = await Promise.all(Array.from({ length: 8 }, () => refresh(base, t.refresh_token)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(7);
    for (const r of results) {
      if (r.status === 400) expect(await r.json()).toEqual({ error: "invalid_grant" });
    }
  });

  it("refresh tokens expire after 31 days", async () => {
    const t = await login(base);
    await control(base, "POST", "/clock", { advanceSeconds: 31 * 24 * 3600 + 1 });
    const res = await refresh(base, t.refresh_token);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "invalid_grant" });
  });

  it("revoke-refresh-tokens makes the next refresh fail", async () => {
    const t = await login(base);
    expect((await control(base, "POST", "/sage/revoke-refresh-tokens")).status).toBe(200);
    const res = await refresh(base, t.refresh_token);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "invalid_grant" });
  });

  it("lifetimes are configurable", async () => {
    await control(base, "POST", "/config", { accessTokenTtlSeconds: 5, refreshTokenTtlSeconds: 50, codeTtlSeconds: 2 });
    const code = await getCode(base);
    const t = await exchangeCode(base, code);
    expect(t.expires_in).toBe(5);
    expect(t.refresh_token_expires_in).toBe(50);
    const code2 = await getCode(base);
    await control(base, "POST", "/clock", { advanceSeconds: 3 });
    const res = await tokenRequest(base, {
      grant_type: "authorization_code",
      code: code2,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    expect(res.status).toBe(400);
  });
});

describe("request log", () => {
  it("records token calls with grant_type and masks secrets", async () => {
    await control(base, "DELETE", "/requests");
    const t = await login(base);
    await refresh(base, t.refresh_token);
    await refresh(base, t.refresh_token); // rejected reuse
    const log = await requestLog(base);
    const tokenCalls = log.filter((e) => e.route === "sage.token");
    expect(tokenCalls.map((e) => [e.grant_type, e.status])).toEqual([
      ["authorization_code", 200],
      ["refresh_token", 200],
      ["refresh_token", 400],
    ]);
    expect(log.some((e) => e.route === "sage.authorize" && e.status === 200)).toBe(true);
    expect(log.some((e) => e.route === "sage.authorize.decision" && e.status === 302)).toBe(true);
    const raw = await (await fetch(`${base}/__sandbox/requests`)).text();
    expect(raw).not.toContain(CLIENT_SECRET);
    expect(raw).not.toContain(t.refresh_token);
    expect(raw).not.toContain(t.access_token);
    const first = tokenCalls[0];
    expect(first?.form?.client_secret).toMatch(/^\*\*\*/);
    expect(first?.at).toBeTruthy();
    expect(first?.method).toBe("POST");
    expect(first?.path).toBe("/sage/oauth/token");
  });

  it("DELETE clears it and the route filter works", async () => {
    await login(base);
    expect((await requestLog(base)).length).toBeGreaterThan(0);
    await control(base, "DELETE", "/requests");
    expect(await requestLog(base)).toEqual([]);
    await login(base);
    const res = await fetch(`${base}/__sandbox/requests?route=sage.token`);
    const lines = (await res.text()).trim().split("\n");
    expect(lines).toHaveLength(1);
  });
});
