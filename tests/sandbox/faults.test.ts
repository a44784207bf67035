import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningSandbox } from "../../sandbox/server";
import { CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, control, getCode, login, refresh, requestLog, start, tokenRequest } from "./helpers";

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

describe("faults", () => {
  it("status faults fire `count` times, then the route works again", async () => {
    const t = await login(base);
    const add = await control(base, "POST", "/faults", { route: "sage.token", kind: "status", status: 503, count: 2 });
    expect(add.status).toBe(201);
    const a = await refresh(base, t.refresh_token);
    const b = await refresh(base, t.refresh_token);
    expect([a.status, b.status]).toEqual([503, 503]);
    // the faulted calls did not consume the refresh token
    const c = await refresh(base, t.refresh_token);
    expect(c.status).toBe(200);
    const log = await requestLog(base);
    expect(log.filter((e) => e.route === "sage.token" && e.grant_type === "refresh_token").map((e) => e.status)).toEqual([
      503, 503, 200,
    ]);
  });

  it("drop destroys the connection", async () => {
    await control(base, "POST", "/faults", { route: "sage.businesses.*", kind: "drop", count: 1 });
    const t = await login(base);
    await expect(
      fetch(`${base}/sage/v3.1/businesses`, { headers: { authorization: `Bearer ${t.access_token}` } }),
    ).rejects.toThrow();
    const ok = await fetch(`${base}/sage/v3.1/businesses`, { headers: { authorization: `Bearer ${t.access_token}` } });
    expect(ok.status).toBe(200);
    const log = await requestLog(base);
    expect(log.find((e) => e.route === "sage.businesses.list")?.outcome).toBe("dropped");
  });

  it("commit-then-drop: the work is done but the answer is lost (a refresh token rotates unseen)", async () => {
    const t = await login(base);
    await control(base, "POST", "/faults", { route: "sage.token", kind: "commit-then-drop", count: 1 });
    await expect(refresh(base, t.refresh_token)).rejects.toThrow();
    const retry = await refresh(base, t.refresh_token);
    expect(retry.status).toBe(400);
    expect(await retry.json()).toEqual({ error: "invalid_grant" });
    const log = await requestLog(base);
    const dropped = log.find((e) => e.outcome === "commit-then-drop");
    expect(dropped?.status).toBe(200);
    expect(dropped?.grant_type).toBe("refresh_token");
  });

  it("timeout never answers; delay answers late", async () => {
    await control(base, "POST", "/faults", { route: "sage.token", kind: "timeout", count: 1 });
    const code = await getCode(base);
    const form = { grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, client_id: CLIENT_ID, client_secret: CLIENT_SECRET };
    await expect(
      fetch(`${base}/sage/oauth/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(form),
        signal: AbortSignal.timeout(300),
      }),
    ).rejects.toThrow();
    await control(base, "POST", "/faults", { route: "sage.token", kind: "delay", delayMs: 250, count: 1 });
    const started = Date.now();
    const res = await tokenRequest(base, form);
    expect(res.status).toBe(200); // the timed-out attempt never ran, so the code is still good
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });

  it("probability 0 never fires; faults can be listed and cleared", async () => {
    await control(base, "POST", "/faults", { route: "sage.*", kind: "status", status: 500, probability: 0 });
    await login(base);
    const list = (await (await control(base, "GET", "/faults")).json()) as Array<{ fired: number }>;
    expect(list).toHaveLength(1);
    expect(list[0]?.fired).toBe(0);
    await control(base, "DELETE", "/faults");
    expect(await (await control(base, "GET", "/faults")).json()).toEqual([]);
  });

  it("probability makes a fault fire on roughly that share of calls", async () => {
    await control(base, "POST", "/faults", { route: "sage.not_found", kind: "status", status: 503, probability: 0.5 });
    const statuses = await Promise.all(Array.from({ length: 100 }, () => fetch(`${base}/sage/v3.1/nowhere`).then((r) => r.status)));
    const faulted = statuses.filter((st) => st === 503).length;
    expect(faulted).toBeGreaterThan(20);
    expect(faulted).toBeLessThan(80);
    expect(statuses.filter((st) => st === 404).length).toBe(100 - faulted);
  });

  it("rejects an invalid fault", async () => {
    const res = await control(base, "POST", "/faults", { route: "sage.token", kind: "explode" });
    expect(res.status).toBe(400);
  });
});
