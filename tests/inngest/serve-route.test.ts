import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Server mode (an Inngest server configured): `/api/inngest` is the SDK's own serve handler. It runs
 * a function only for a request signed with the signing key; an unsigned or wrongly signed call is
 * refused (401).
 */
const SIGNING_KEY = `signkey-prod-${"ab".repeat(32)}`;

describe("/api/inngest with an Inngest server configured", () => {
  let route: typeof import("@/app/api/inngest/route");
  beforeAll(async () => {
    process.env.INNGEST_EVENT_KEY = "test-event-key";
    process.env.INNGEST_SIGNING_KEY = SIGNING_KEY;
    route = await import("@/app/api/inngest/route");
  });
  afterAll(() => {
    delete process.env.INNGEST_EVENT_KEY;
    delete process.env.INNGEST_SIGNING_KEY;
  });

  const call = (method: "GET" | "POST" | "PUT", query: string, headers: Record<string, string> = {}, body?: unknown) =>
    route[method](
      new Request(`http://localhost:3000/api/inngest${query}`, {
        method,
        headers: { "content-type": "application/json", ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      }) as never,
      undefined as never,
    );

  it("an unsigned request to run a function is refused (401)", async () => {
    const res = await call("POST", "?fnId=sage-connector-sync-batch&stepId=step", {}, {
      event: { name: "sync/batch.requested", data: {} },
      events: [],
      steps: {},
      ctx: { run_id: "r-1", attempt: 0 },
    });
    expect(res.status).toBe(401);
  });

  it("a wrong signature is refused as well", async () => {
    const res = await call("POST", "?fnId=sage-connector-sync-batch&stepId=step", { "x-inngest-signature": `t=${Math.floor(Date.now() / 1000)}&s=${"0".repeat(64)}` }, {
      event: { name: "sync/batch.requested", data: {} },
      steps: {},
      ctx: { run_id: "r-1", attempt: 0 },
    });
    expect(res.status).toBe(401);
  });

  it("GET (introspection) unsigned is refused too: the serve handler, not the inline-mode 404", async () => {
    const res = await call("GET", "");
    expect(res.status).toBe(401);
    expect(JSON.stringify(await res.json().catch(() => null))).not.toContain("inline_mode");
  });
});
