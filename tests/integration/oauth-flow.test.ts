import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SignJWT } from "jose";
import { desc, eq } from "drizzle-orm";
import { actionLog, connections, oauthStates, productMappings } from "@/db/schema";
import { upsertMarketplaceProduct } from "@/lib/marketplace/catalog";
import { getConfig } from "@/lib/config";
import { completeSageAuthorization, selectSageBusiness, startSageAuthorization } from "@/lib/connections/authorize";
import { decideOAuthRedirect } from "@/lib/oauth/redirector";
import { answerSageConsent } from "../helpers/sage-consent";
import { startWorld, type World } from "../helpers/world";

describe("OAuth 2.0 authorization-code flow through the central redirect", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
    await world.install();
  });
  afterAll(async () => world?.close());

  async function connectionCount() {
    return (await world.db.db.select().from(connections)).length;
  }

  it("the authorize URL goes to Sage's central consent with our exact redirect_uri and a signed state", async () => {
    const url = new URL(await startSageAuthorization(world.db.db, { tenantId: world.tenantId, userId: world.adminId, product: "sage-accounting", country: "gb" }));
    expect(url.pathname).toBe("/sage/oauth2/auth/central");
    expect(url.searchParams.get("filter")).toBe("apiv3.1");
    expect(url.searchParams.get("redirect_uri")).toBe("http://localhost:3000/oauth2redirect");
    expect(url.searchParams.get("response_type")).toBe("code");
    expect(url.searchParams.get("state")!.split(".")).toHaveLength(3);
  });

  it("Deny → a clear outcome, no connection stored, and retry works", async () => {
    const { outcome } = await world.authorize({ decision: "deny" });
    expect(outcome).toEqual({ kind: "denied", existingConnectionKept: false, message: "You chose Deny on Sage's consent page, so Sage Connector has no access to your Sage business. Nothing was stored." });
    expect(await connectionCount()).toBe(0);
    const { outcome: retry } = await world.authorize({ decision: "allow" });
    expect(retry.kind).toBe("connected");
    expect(await connectionCount()).toBe(1);

    // a Deny on a later reconnect says the connection that is there is unchanged — and it is
    const before = (await world.connection())!;
    const { outcome: reconnectDenied } = await world.authorize({ decision: "deny" });
    expect(reconnectDenied).toEqual({
      kind: "denied",
      existingConnectionKept: true,
      message: `You chose Deny on Sage's consent page. Your existing connection to ${before.businessName} is unchanged and keeps syncing. Nothing new was stored.`,
    });
    const after = (await world.connection())!;
    expect({ id: after.id, status: after.status, businessId: after.businessId, credentials: after.credentialsEncrypted }).toEqual({ id: before.id, status: "connected", businessId: before.businessId, credentials: before.credentialsEncrypted });
  });

  it("the code exchange uses the exact redirect_uri (sandbox rejects any other) and the redirector forwards only code/state", async () => {
    const log = await world.requestLog();
    const exchange = log.filter((l) => l.route === "sage.token" && l.grant_type === "authorization_code");
    expect(exchange.at(-1)!.status).toBe(200);
    const forward = await decideOAuthRedirect(new URLSearchParams({ state: "x", next: "https://evil.example" }));
    expect(forward.kind).toBe("reject");
  });

  it("a replayed state is refused and stores nothing new", async () => {
    const url = await startSageAuthorization(world.db.db, { tenantId: world.tenantId, userId: world.adminId, product: "sage-accounting", country: "gb" });
    const redirect = await answerSageConsent(url, { userLabel: /\(1 business\)/, decision: "allow" });
    const first = await completeSageAuthorization(world.db.db, { tenantId: world.tenantId, actor: world.actor, params: redirect.searchParams });
    expect(first.kind).toBe("connected");
    const logCount = (await world.db.db.select().from(actionLog)).length;
    const second = await completeSageAuthorization(world.db.db, { tenantId: world.tenantId, actor: world.actor, params: redirect.searchParams });
    expect(second).toMatchObject({ kind: "state_error", reason: "replayed" });
    expect((await world.db.db.select().from(actionLog)).length).toBe(logCount);
  });

  it("a tampered state is refused by the redirector (400, no redirect) and by the callback", async () => {
    const url = new URL(await startSageAuthorization(world.db.db, { tenantId: world.tenantId, userId: world.adminId, product: "sage-accounting", country: "gb" }));
    const state = url.searchParams.get("state")!;
    const [h, p, s] = state.split(".");
    const payload = JSON.parse(Buffer.from(p!, "base64url").toString());
    const forged = [h, Buffer.from(JSON.stringify({ ...payload, brand: "evil" })).toString("base64url"), s].join(".");
    const decision = await decideOAuthRedirect(new URLSearchParams({ code: "c", state: forged }));
    expect(decision).toMatchObject({ kind: "reject", status: 400, reason: "tampered" });
    const outcome = await completeSageAuthorization(world.db.db, { tenantId: world.tenantId, actor: world.actor, params: new URLSearchParams({ code: "c", state: forged }) });
    expect(outcome).toMatchObject({ kind: "state_error", reason: "tampered" });
  });

  it("an expired state is refused with a retry, and a state for an unknown brand gets 400", async () => {
    const key = new TextEncoder().encode(getConfig().oauthStateSecret);
    const expired = await new SignJWT({ brand: "demo", tenant: world.tenantId, installation: null, nonce: "n-expired", purpose: "connect" })
      .setProtectedHeader({ alg: "HS256" })
      .setAudience("sage-connector/oauth-state")
      .setIssuedAt(Math.floor(Date.now() / 1000) - 1200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 600)
      .sign(key);
    const forward = await decideOAuthRedirect(new URLSearchParams({ code: "c", state: expired }));
    expect(forward.kind).toBe("forward"); // routing still works; the tenant side decides
    const outcome = await completeSageAuthorization(world.db.db, { tenantId: world.tenantId, actor: world.actor, params: new URLSearchParams({ code: "c", state: expired }) });
    expect(outcome).toMatchObject({ kind: "state_error", reason: "expired" });

    const unknownBrand = await new SignJWT({ brand: "not-on-allowlist", tenant: world.tenantId, installation: null, nonce: "n2", purpose: "connect" })
      .setProtectedHeader({ alg: "HS256" })
      .setAudience("sage-connector/oauth-state")
      .setExpirationTime("5m")
      .sign(key);
    expect(await decideOAuthRedirect(new URLSearchParams({ code: "c", state: unknownBrand }))).toMatchObject({ kind: "reject", status: 400, reason: "unknown_brand" });
  });

  it("a state older than 10 minutes in the database is expired even with a valid signature", async () => {
    const url = new URL(await startSageAuthorization(world.db.db, { tenantId: world.tenantId, userId: world.adminId, product: "sage-accounting", country: "gb" }));
    const [latest] = await world.db.db.select().from(oauthStates).orderBy(desc(oauthStates.createdAt)).limit(1);
    await world.db.db.update(oauthStates).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(oauthStates.nonce, latest!.nonce));
    const outcome = await completeSageAuthorization(world.db.db, { tenantId: world.tenantId, actor: world.actor, params: new URLSearchParams({ code: "c", state: url.searchParams.get("state")! }) });
    expect(outcome).toMatchObject({ kind: "state_error", reason: "expired" });
  });
});

describe("a Sage user with two businesses chooses one", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
    await world.install();
  });
  afterAll(async () => world?.close());

  it("lists both businesses, stores none until chosen, then logs the choice", async () => {
    const { outcome } = await world.authorize({ userLabel: /\(2 businesses\)/ });
    expect(outcome).toMatchObject({ kind: "connected", needsBusiness: true });
    const conn = (await world.connection())!;
    expect(conn.availableBusinesses).toHaveLength(2);
    expect(conn.businessId).toBeNull();
    const chosen = conn.availableBusinesses[1]!;
    await selectSageBusiness(world.db.db, { tenantId: world.tenantId, connectionId: conn.id, businessId: chosen.id, actor: world.actor });
    expect((await world.connection())!.businessName).toBe(chosen.name);
    await expect(selectSageBusiness(world.db.db, { tenantId: world.tenantId, connectionId: conn.id, businessId: "not-offered", actor: world.actor })).rejects.toThrow(/Choose one/);
    const messages = (await world.db.db.select().from(actionLog)).map((r) => r.message);
    expect(messages).toContain(`Sage business selected: ${chosen.name}`);
  });

  it("Change business needs its confirmation; confirmed, the mappings to the old business go (it says how many)", async () => {
    const conn = (await world.connection())!;
    const productId = await upsertMarketplaceProduct(world.db.db, world.tenantId, { id: "PRD-CB", mpn: "CB-1", name: "Change-business product", type: "item", currency: "GBP", billing_period: "monthly" } as never);
    await world.db.db.insert(productMappings).values({ tenantId: world.tenantId, productId, sageItemId: "item-in-old-business", sageItemType: "service", sageItemName: "Old item" });
    const other = conn.availableBusinesses.find((b) => b.id !== conn.businessId)!;
    await expect(selectSageBusiness(world.db.db, { tenantId: world.tenantId, connectionId: conn.id, businessId: other.id, actor: world.actor })).rejects.toThrow(/^Confirm the change first\. Changing the Sage business removes every product, fee and customer mapping/);
    expect((await world.connection())!.businessId).toBe(conn.businessId);
    expect(await world.db.db.select().from(productMappings).where(eq(productMappings.tenantId, world.tenantId))).toHaveLength(1);

    await selectSageBusiness(world.db.db, { tenantId: world.tenantId, connectionId: conn.id, businessId: other.id, actor: world.actor, confirmChange: true });
    expect((await world.connection())!.businessId).toBe(other.id);
    expect(await world.db.db.select().from(productMappings).where(eq(productMappings.tenantId, world.tenantId))).toHaveLength(0);
    const messages = (await world.db.db.select().from(actionLog)).map((r) => r.message);
    expect(messages).toContain(`Sage business changed from ${conn.businessName} to ${other.name}: 1 product, 0 fee and 0 customer mapping(s) to the old business removed; customers are matched in ${other.name} before any contact is created`);
  });

  it("a reconnect by a Sage user who cannot see the connected business is refused and changes nothing", async () => {
    const before = (await world.connection())!;
    const { outcome } = await world.authorize({ userLabel: /\(1 business\)/ });
    expect(outcome.kind).toBe("business_mismatch");
    const after = (await world.connection())!;
    expect({ businessId: after.businessId, credentials: after.credentialsEncrypted, status: after.status }).toEqual({ businessId: before.businessId, credentials: before.credentialsEncrypted, status: before.status });
  });
});
