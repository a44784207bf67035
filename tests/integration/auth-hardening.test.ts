import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SignJWT } from "jose";
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { actionLog, launchTokenUses, signInThrottles, tenants, users } from "@/db/schema";
import { LaunchTokenError, signInWithLaunchToken, verifyLaunchToken } from "@/lib/auth/launch-token";
import { signInWithPassword, SignInThrottledError } from "@/lib/auth/password-sign-in";
import { currentSessionVersion, endSessions } from "@/lib/auth/sessions";
import { SIGN_IN_LIMITS } from "@/lib/auth/sign-in-throttle";
import { getConfig, PUBLIC_DEFAULTS, resetConfigForTests } from "@/lib/config";
import { DEMO_ADMIN, DEMO_SUPPORT } from "@/lib/seed/demo";
import { startWorld, type World } from "../helpers/world";

const NEW_SECRET = "marketplace-secret-after-rotation-0123456789";
const OLD_SECRET = "marketplace-secret-before-rotation-0123456789";

function token(secret: string, claims: Record<string, unknown> = {}, opts: { issuer?: string } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ email: "admin@northwind.test", name: "Nora Admin", account_id: "RES-1001", account_name: "Northwind Cloud Reseller", ...claims })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer(opts.issuer ?? "demo-marketplace")
    .setAudience("sage-connector")
    .setSubject(String(claims.email ?? "admin@northwind.test"))
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(new TextEncoder().encode(secret));
}

describe("launch tokens: verified before use, against the configured marketplace secrets", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterEach(() => {
    delete process.env.MARKETPLACE_SECRET;
    delete process.env.MARKETPLACE_PREVIOUS_SECRET;
    resetConfigForTests();
  });
  afterAll(async () => world?.close());

  it("a token signed with the public default secret is refused once a real secret is configured", async () => {
    process.env.MARKETPLACE_SECRET = NEW_SECRET;
    resetConfigForTests();
    await expect(verifyLaunchToken(await token(PUBLIC_DEFAULTS.MARKETPLACE_SECRET))).rejects.toMatchObject({ reason: "bad_signature" });
    await expect(signInWithLaunchToken(world.db.db, await token(NEW_SECRET))).resolves.toMatchObject({ email: "admin@northwind.test" });
  });

  it("rotation: during the overlap old and new secrets sign in; after it the old one is refused", async () => {
    process.env.MARKETPLACE_SECRET = OLD_SECRET;
    resetConfigForTests();
    await expect(signInWithLaunchToken(world.db.db, await token(OLD_SECRET))).resolves.toMatchObject({ email: "admin@northwind.test" });

    // step 1: the new secret is configured, the old one kept as previous (overlap window)
    process.env.MARKETPLACE_SECRET = NEW_SECRET;
    process.env.MARKETPLACE_PREVIOUS_SECRET = OLD_SECRET;
    resetConfigForTests();
    await expect(signInWithLaunchToken(world.db.db, await token(OLD_SECRET))).resolves.toMatchObject({ email: "admin@northwind.test" });
    await expect(signInWithLaunchToken(world.db.db, await token(NEW_SECRET))).resolves.toMatchObject({ email: "admin@northwind.test" });

    // step 2: the marketplace signs with the new one only; the old secret is removed
    delete process.env.MARKETPLACE_PREVIOUS_SECRET;
    resetConfigForTests();
    await expect(signInWithLaunchToken(world.db.db, await token(OLD_SECRET))).rejects.toMatchObject({ reason: "bad_signature" });
    await expect(signInWithLaunchToken(world.db.db, await token(NEW_SECRET))).resolves.toMatchObject({ email: "admin@northwind.test" });
  });

  it("nothing in an unverified token reaches the database: NUL or surrogate account ids, unknown issuers", async () => {
    const before = { log: (await world.db.db.select().from(actionLog)).length, tenants: (await world.db.db.select().from(tenants)).length, jtis: (await world.db.db.select().from(launchTokenUses)).length };
    const secret = getConfig().marketplaces[0]!.secret;
    // unsigned (wrong key) tokens carrying text PostgreSQL cannot store
    await expect(signInWithLaunchToken(world.db.db, await token("wrong-secret-wrong-secret-0123", { account_id: "RES-\u0000-1" }))).rejects.toMatchObject({ reason: "bad_signature" });
    await expect(signInWithLaunchToken(world.db.db, await token(secret, {}, { issuer: "some-other-marketplace" }))).rejects.toMatchObject({ reason: "bad_signature" });
    // correctly signed, but unstorable claims: refused as malformed, not a database error
    await expect(signInWithLaunchToken(world.db.db, await token(secret, { account_id: "RES-\u0000-1" }))).rejects.toMatchObject({ reason: "malformed" });
    await expect(signInWithLaunchToken(world.db.db, await token(secret, { account_name: "Bad \ud800 name" }))).rejects.toMatchObject({ reason: "malformed" });
    await expect(signInWithLaunchToken(world.db.db, "a.b.c")).rejects.toBeInstanceOf(LaunchTokenError);
    expect((await world.db.db.select().from(actionLog)).length).toBe(before.log);
    expect((await world.db.db.select().from(tenants)).length).toBe(before.tenants);
    expect((await world.db.db.select().from(launchTokenUses)).length).toBe(before.jtis);
  });
});

describe("sign-in: rate limited per e-mail and per address, across processes (database)", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterEach(async () => {
    await world.db.db.delete(signInThrottles);
  });
  afterAll(async () => world?.close());

  it("30 wrong passwords in a row: the first 5 are checked, the rest refused without checking; the right password waits too", async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 30; i++) {
      outcomes.push(
        await signInWithPassword(world.db.db, DEMO_ADMIN.email, `wrong-${i}`, { address: "203.0.113.7" }).then(
          (u) => (u ? "signed_in" : "wrong"),
          (e) => (e instanceof SignInThrottledError ? "throttled" : `error:${(e as Error).message}`),
        ),
      );
    }
    expect(outcomes.slice(0, SIGN_IN_LIMITS.email.failures)).toEqual(Array(SIGN_IN_LIMITS.email.failures).fill("wrong"));
    expect(outcomes.slice(SIGN_IN_LIMITS.email.failures)).toEqual(Array(30 - SIGN_IN_LIMITS.email.failures).fill("throttled"));
    await expect(signInWithPassword(world.db.db, DEMO_ADMIN.email, DEMO_ADMIN.password, { address: "198.51.100.1" })).rejects.toBeInstanceOf(SignInThrottledError);
    // another user from another address is not affected
    await expect(signInWithPassword(world.db.db, DEMO_SUPPORT.email, DEMO_SUPPORT.password, { address: "198.51.100.1" })).resolves.toMatchObject({ email: DEMO_SUPPORT.email });
  });

  it("one address trying many e-mail addresses is blocked after the per-address limit", async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < SIGN_IN_LIMITS.address.failures + 3; i++) {
      outcomes.push(await signInWithPassword(world.db.db, `nobody-${i}@example.test`, "x", { address: "192.0.2.50" }).then(() => "wrong", (e) => (e instanceof SignInThrottledError ? "throttled" : "error")));
    }
    expect(outcomes.filter((o) => o === "wrong")).toHaveLength(SIGN_IN_LIMITS.address.failures);
    expect(outcomes.slice(SIGN_IN_LIMITS.address.failures)).toEqual(["throttled", "throttled", "throttled"]);
    await expect(signInWithPassword(world.db.db, DEMO_ADMIN.email, DEMO_ADMIN.password, { address: "192.0.2.50" })).rejects.toBeInstanceOf(SignInThrottledError);
    await expect(signInWithPassword(world.db.db, DEMO_ADMIN.email, DEMO_ADMIN.password, { address: "192.0.2.51" })).resolves.toMatchObject({ email: DEMO_ADMIN.email });
  });

  it("a window that has passed starts over", async () => {
    for (let i = 0; i < SIGN_IN_LIMITS.email.failures - 1; i++) await signInWithPassword(world.db.db, DEMO_ADMIN.email, "wrong");
    await world.db.db.update(signInThrottles).set({ windowStartedAt: new Date(Date.now() - (SIGN_IN_LIMITS.email.windowSeconds + 5) * 1000) });
    await expect(signInWithPassword(world.db.db, DEMO_ADMIN.email, "wrong")).resolves.toBeNull();
    const [row] = await world.db.db.select().from(signInThrottles).where(eq(signInThrottles.key, `email:${DEMO_ADMIN.email}`));
    expect(row).toMatchObject({ failures: 1, blockedUntil: null });
  });
});

describe("sign-out ends the session server-side", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => world?.close());

  it("a session's version stops matching once the user signs out, and the sign-out is logged", async () => {
    const user = (await signInWithPassword(world.db.db, DEMO_ADMIN.email, DEMO_ADMIN.password))!;
    expect(await currentSessionVersion(world.db.db, user.id)).toBe(user.sessionVersion);
    await endSessions(world.db.db, user);
    expect(await currentSessionVersion(world.db.db, user.id)).toBe(user.sessionVersion + 1);
    const [row] = await world.db.db.select().from(users).where(eq(users.id, user.id));
    expect(row!.sessionVersion).toBe(user.sessionVersion + 1);
    const logs = await world.db.db.select().from(actionLog).where(eq(actionLog.tenantId, world.tenantId));
    expect(logs.filter((l) => l.category === "auth" && l.message.startsWith(`${DEMO_ADMIN.email} signed out`))).toHaveLength(1);
    // a new sign-in carries the new version
    expect((await signInWithPassword(world.db.db, DEMO_ADMIN.email, DEMO_ADMIN.password))!.sessionVersion).toBe(user.sessionVersion + 1);
  });
});
