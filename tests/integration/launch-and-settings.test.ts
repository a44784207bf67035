import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SignJWT } from "jose";
import { randomUUID } from "node:crypto";
import { spawnSync } from "node:child_process";
import { eq } from "drizzle-orm";
import { actionLog, tenantSettings, users } from "@/db/schema";
import { LaunchTokenError, signInWithLaunchToken } from "@/lib/auth/launch-token";
import { getConfig } from "@/lib/config";
import { getSettings, saveSettings, settingsInputSchema } from "@/lib/settings/settings";
import { startWorld, type World } from "../helpers/world";

async function launchToken(opts: { secret?: string; ttl?: number; iatOffset?: number; jti?: string; email?: string } = {}) {
  const now = Math.floor(Date.now() / 1000) + (opts.iatOffset ?? 0);
  return new SignJWT({ email: opts.email ?? "admin@northwind.test", name: "Nora Admin", account_id: "RES-1001", account_name: "Northwind Cloud Reseller", role: "admin" })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer("demo-marketplace")
    .setAudience("sage-connector")
    .setSubject(opts.email ?? "admin@northwind.test")
    .setJti(opts.jti ?? randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + (opts.ttl ?? 300))
    .sign(new TextEncoder().encode(opts.secret ?? getConfig().marketplaces[0]!.secret));
}

describe("marketplace launch token (HS256, ≤ 5 min, single use)", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
    await world.install();
  });
  afterAll(async () => world?.close());

  it("a valid token signs the reseller admin in, once", async () => {
    const token = await launchToken();
    const user = await signInWithLaunchToken(world.db.db, token);
    expect(user).toMatchObject({ email: "admin@northwind.test", role: "reseller_admin", tenantId: world.tenantId, via: "marketplace" });
    await expect(signInWithLaunchToken(world.db.db, token)).rejects.toMatchObject({ reason: "replayed" });
  });

  it("the sandbox portal's own token is accepted (same secret, same claims)", async () => {
    const res = await fetch(`${world.sandbox.url}/marketplace/portal`);
    const src = /<iframe[^>]*src="([^"]+)"/.exec(await res.text())![1]!.replaceAll("&amp;", "&");
    const token = new URL(src).searchParams.get("token")!;
    await expect(signInWithLaunchToken(world.db.db, token)).resolves.toMatchObject({ email: "admin@northwind.test" });
  });

  it("expired, badly signed, too long-lived or malformed tokens are refused and change nothing", async () => {
    const before = (await world.db.db.select().from(actionLog)).length;
    const usersBefore = (await world.db.db.select().from(users)).length;
    const cases: [Promise<string>, string][] = [
      [launchToken({ iatOffset: -600 }), "expired"],
      [launchToken({ secret: "another-secret-that-is-long-enough" }), "bad_signature"],
      [launchToken({ ttl: 3600 }), "too_long_lived"],
      [Promise.resolve("not-a-jwt"), "malformed"],
      [launchToken({ secret: "another-secret-that-is-long-enough", email: "intruder@evil.test" }), "bad_signature"],
      [launchToken({ email: "support@sage-connector.test" }), "other_account"],
    ];
    for (const [token, reason] of cases) {
      await expect(signInWithLaunchToken(world.db.db, await token)).rejects.toSatisfy((e: unknown) => e instanceof LaunchTokenError && e.reason === reason);
    }
    expect((await world.db.db.select().from(actionLog)).length).toBe(before);
    expect((await world.db.db.select().from(users)).length).toBe(usersBefore);
  });
});

describe("settings", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => world?.close());

  it("invalid values are field errors and nothing is saved", async () => {
    const parsed = settingsInputSchema.safeParse({ priceSource: "cheapest", trimDescription: "maybe", autoSync: "hourly" });
    expect(parsed.success).toBe(false);
    const fields = parsed.error!.issues.map((i) => i.path[0]);
    expect(fields).toEqual(expect.arrayContaining(["priceSource", "trimDescription", "autoSync", "downgrades", "notifications", "invoiceMode"]));
    await expect(
      saveSettings(world.db.db, { tenantId: world.tenantId, actor: world.actor, values: { priceSource: "cheapest" } as never }),
    ).rejects.toThrow();
    expect(await world.db.db.select().from(tenantSettings)).toHaveLength(0);
  });

  it("saving persists all seven settings and logs each change old → new in the same transaction", async () => {
    await saveSettings(world.db.db, {
      tenantId: world.tenantId,
      actor: world.actor,
      values: { priceSource: "sage", trimDescription: true, allowManyProductsToOneItem: true, autoSync: "every_5_minutes", downgrades: "quantity_only", notifications: "all_tasks", invoiceMode: "latest_open" },
    });
    const s = await getSettings(world.db.db, world.tenantId);
    expect(s).toMatchObject({ priceSource: "sage", trimDescription: true, allowManyProductsToOneItem: true, autoSync: "every_5_minutes", downgrades: "quantity_only", notifications: "all_tasks", invoiceMode: "latest_open", confirmed: true });
    const [entry] = await world.db.db.select().from(actionLog).where(eq(actionLog.category, "settings"));
    expect(entry!.message).toContain("Price and description source: Marketplace → Sage");
    expect(entry!.message).toContain("Auto-sync: Off → Every 5 minutes");
    expect((entry!.details as { changes: unknown[] }).changes).toHaveLength(7);
    expect(entry!.actorLabel).toBe(world.actor.label);
  });
});

describe("start-up", () => {
  const run = (env: Record<string, string | undefined>) =>
    spawnSync(process.execPath, ["--import", "tsx", "-e", "import('./lib/boot.ts').then(m => (m.bootApp ?? m.default.bootApp)()).then(() => console.log('BOOTED'))"], {
      env: { PATH: process.env.PATH, ...env } as unknown as NodeJS.ProcessEnv,
      encoding: "utf8",
      timeout: 30_000,
    });

  it("refuses to start in production without APP_ENCRYPTION_KEY, or with a short one, and says why", () => {
    const missing = run({ NODE_ENV: "production" });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("APP_ENCRYPTION_KEY is not set");
    const short = run({ NODE_ENV: "production", APP_ENCRYPTION_KEY: "too-short" });
    expect(short.status).toBe(1);
    expect(short.stderr).toContain("must be 32 random bytes");
    // a fully valid production environment booting: tests/integration/production-start.test.ts
  });
});
