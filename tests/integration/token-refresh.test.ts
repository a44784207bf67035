import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { actionLog, connections } from "@/db/schema";
import { sageGetJson } from "@/lib/sage/accounting/client";
import { sageSession } from "@/lib/connections/sage-session";
import { getAccessToken } from "@/lib/connections/tokens";
import { SageError } from "@/lib/sage/errors";
import { startWorld, type World } from "../helpers/world";

describe("Sage tokens: single-flight refresh, rotation, persistence, encryption at rest", () => {
  let world: World;
  let connectionId: string;

  beforeAll(async () => {
    world = await startWorld({ persistentDb: true });
    await world.install();
    const { outcome } = await world.authorize();
    expect(outcome.kind).toBe("connected");
    connectionId = (await world.connection())!.id;
  });
  afterAll(async () => world?.close());

  it("20 concurrent API calls on an expired access token make exactly one token request", async () => {
    await world.control("sage/expire-access-tokens");
    await world.clearRequestLog();

    const results = await Promise.all(Array.from({ length: 20 }, () => sageGetJson<{ id: string }>(sageSession(world.db.db, connectionId, { paced: false }), "/user")));
    expect(results.every((u) => typeof u.id === "string")).toBe(true);

    const log = await world.requestLog();
    const tokenCalls = log.filter((l) => l.route === "sage.token");
    expect(tokenCalls).toHaveLength(1);
    expect(tokenCalls[0]!.grant_type).toBe("refresh_token");
    expect(tokenCalls[0]!.status).toBe(200);
    const userCalls = log.filter((l) => l.path.endsWith("/user"));
    expect(userCalls.filter((l) => l.status === 200)).toHaveLength(20);
  });

  it("the rotated refresh token was persisted: after a restart the connection still refreshes", async () => {
    await world.restartDb();
    await world.control("sage/expire-access-tokens");
    await world.clearRequestLog();

    const user = await sageGetJson<{ id: string }>(sageSession(world.db.db, connectionId, { paced: false }), "/user");
    expect(user.id).toBeTruthy();
    const tokenCalls = (await world.requestLog()).filter((l) => l.route === "sage.token");
    expect(tokenCalls.map((l) => l.status)).toEqual([200]); // an old (already rotated) token would get 400 invalid_grant
    expect((await world.connection())!.status).toBe("connected");
  });

  it("no access or refresh token is stored in plaintext anywhere in the database", async () => {
    const tokens = [...world.sandbox.sandbox.sage.accessTokens.keys()];
    const refreshTokens = [...world.sandbox.sandbox.sage.refreshTokens.keys()];
    expect(tokens.length).toBeGreaterThan(0);
    const tables = ["connections", "action_log", "oauth_states", "installations", "users", "tenants", "inline_runs"];
    let dump = "";
    for (const t of tables) {
      const res = await world.db.db.execute(sql.raw(`select * from ${t}`));
      dump += JSON.stringify((res as { rows?: unknown[] }).rows ?? res);
    }
    expect(dump.length).toBeGreaterThan(100);
    for (const secret of [...tokens, ...refreshTokens]) expect(dump).not.toContain(secret);
    const [row] = await world.db.db.select().from(connections);
    expect(row!.credentialsEncrypted).toMatch(/^v1\./);
    expect(row!.tokensIssuedAt).toBeInstanceOf(Date);
    expect(row!.accessTokenExpiresAt!.getTime()).toBeGreaterThan(Date.now());
  });

  it("a token cached here follows a business change or a disconnect made elsewhere (another instance): the next call uses the new business, or none", async () => {
    const before = await getAccessToken(world.db.db, connectionId);
    expect((await getAccessToken(world.db.db, connectionId)).accessToken).toBe(before.accessToken); // cached
    const original = (await world.connection())!.businessId;
    // another app instance changed the business: this process's cache knows nothing of it
    await world.db.db.update(connections).set({ businessId: "another-business-id" }).where(eq(connections.id, connectionId));
    const after = await getAccessToken(world.db.db, connectionId);
    expect(after.businessId).toBe("another-business-id");
    await world.db.db.update(connections).set({ businessId: original }).where(eq(connections.id, connectionId));
    expect((await getAccessToken(world.db.db, connectionId)).businessId).toBe(original);
    // … and disconnected there: no token is handed out any more
    await world.db.db.update(connections).set({ status: "disconnected" }).where(eq(connections.id, connectionId));
    await expect(getAccessToken(world.db.db, connectionId)).rejects.toSatisfy((e: unknown) => e instanceof SageError && e.reconnectRequired);
    await world.db.db.update(connections).set({ status: "connected" }).where(eq(connections.id, connectionId));
    expect((await getAccessToken(world.db.db, connectionId)).businessId).toBe(original);
  });

  it("a refresh Sage rejects (invalid_grant) turns the connection reconnect_required with an Action Log error", async () => {
    await world.control("sage/revoke-refresh-tokens");
    await world.control("sage/expire-access-tokens");
    await expect(sageGetJson(sageSession(world.db.db, connectionId, { paced: false }), "/user")).rejects.toSatisfy((e: unknown) => e instanceof SageError && e.reconnectRequired);
    expect((await world.connection())!.status).toBe("reconnect_required");
    const errors = await world.db.db.select().from(actionLog).where(sql`${actionLog.level} = 'error' and ${actionLog.category} = 'auth'`);
    expect(errors.map((e) => e.message).join("\n")).toMatch(/Reconnect required/);
    // and nothing else is sent to Sage while it is broken
    await world.clearRequestLog();
    await expect(sageGetJson(sageSession(world.db.db, connectionId, { paced: false }), "/user")).rejects.toBeInstanceOf(SageError);
    expect(await world.requestLog()).toHaveLength(0);
  });

  it("reconnecting after reconnect_required restores the same connection", async () => {
    const { outcome } = await world.authorize();
    expect(outcome).toMatchObject({ kind: "connected", connectionId });
    expect((await world.connection())!.status).toBe("connected");
  });
});
