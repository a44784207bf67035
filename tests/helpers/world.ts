import { eq } from "drizzle-orm";
import { startSandbox } from "@/sandbox/server";
import { connections, tenants, users } from "@/db/schema";
import { resetConfigForTests } from "@/lib/config";
import { installFromMarketplace } from "@/lib/install/install";
import { startSageAuthorization, completeSageAuthorization } from "@/lib/connections/authorize";
import { decideOAuthRedirect } from "@/lib/oauth/redirector";
import { seedDemo, DEMO_ADMIN, DEMO_TENANT } from "@/lib/seed/demo";
import { openTestDatabase, type TestDatabase } from "./db";
import { answerSageConsent } from "./sage-consent";

export type RequestLogLine = { route?: string; method: string; path: string; status?: number; grant_type?: string; spec_violation?: boolean; [k: string]: unknown };

/** The outside world for integration tests: a sandbox on a random port and a fresh database. */
export async function startWorld(opts: { persistentDb?: boolean } = {}) {
  const sandbox = await startSandbox({ port: 0, appUrl: "http://localhost:3000" });
  process.env.SANDBOX_URL = sandbox.url;
  process.env.APP_URL = "http://localhost:3000";
  resetConfigForTests();
  let db: TestDatabase = await openTestDatabase({ persistent: opts.persistentDb });
  await seedDemo(db.db);
  const [tenant] = await db.db.select().from(tenants).where(eq(tenants.marketplaceAccountId, DEMO_TENANT.marketplaceAccountId));
  const [admin] = await db.db.select().from(users).where(eq(users.email, DEMO_ADMIN.email));
  const actor = { type: "user" as const, id: admin!.id, label: admin!.email };

  const violationsSeen: RequestLogLine[] = [];
  const world = {
    sandbox,
    get db() {
      return db;
    },
    tenantId: tenant!.id,
    adminId: admin!.id,
    actor,
    async restartDb() {
      db = await db.reopen();
      return db;
    },
    async requestLog(): Promise<RequestLogLine[]> {
      const text = await (await fetch(`${sandbox.url}/__sandbox/requests`)).text();
      return text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as RequestLogLine);
    },
    async control(path: string, body?: unknown) {
      // a kept-alive socket the sandbox already closed answers ECONNRESET: try again on a fresh one
      let res: Response | undefined;
      for (let attempt = 1; !res; attempt++) {
        try {
          res = await fetch(`${sandbox.url}/__sandbox/${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body ?? {}) });
        } catch (e) {
          if (attempt >= 3) throw e;
        }
      }
      if (!res.ok) throw new Error(`sandbox control ${path}: ${res.status} ${await res.text()}`);
      return res.json().catch(() => null);
    },
    async install() {
      return installFromMarketplace(db.db, { tenantId: tenant!.id, marketplaceId: "demo-marketplace", accountId: DEMO_TENANT.marketplaceAccountId, actor });
    },
    /** Full OAuth round trip over HTTP: our authorize URL → consent → central redirect → tenant callback. */
    async authorize(opts: { userLabel?: RegExp; decision?: "allow" | "deny"; country?: string } = {}) {
      const url = await startSageAuthorization(db.db, { tenantId: tenant!.id, userId: admin!.id, product: "sage-accounting", country: opts.country ?? "gb" });
      const sageRedirect = await answerSageConsent(url, { userLabel: opts.userLabel ?? /\(1 business\)/, decision: opts.decision ?? "allow" });
      const forward = await decideOAuthRedirect(sageRedirect.searchParams);
      if (forward.kind !== "forward") throw new Error(`redirector rejected: ${forward.message}`);
      const outcome = await completeSageAuthorization(db.db, { tenantId: tenant!.id, actor, params: new URL(forward.location).searchParams });
      return { outcome, sageRedirect, forwardedTo: new URL(forward.location) };
    },
    async connection() {
      const [row] = await db.db.select().from(connections).where(eq(connections.tenantId, tenant!.id));
      return row;
    },
    /** Requests our code sent that do not conform to Sage's published description (also those already cleared). */
    async specViolations() {
      return [...violationsSeen, ...(await world.requestLog()).filter((l) => l.spec_violation === true)];
    },
    /** Clears the sandbox request log, keeping any spec violation for the check in close(). */
    async clearRequestLog() {
      violationsSeen.push(...(await world.requestLog()).filter((l) => l.spec_violation === true));
      await fetch(`${sandbox.url}/__sandbox/requests`, { method: "DELETE" });
    },
    /** Closes everything; fails the test file if our code sent Sage a request the spec does not allow. */
    async close() {
      const violations = await world.specViolations().catch(() => []);
      await db.drop();
      await sandbox.close();
      if (violations.length > 0) {
        throw new Error(`Sage sandbox flagged ${violations.length} spec violation(s): ${JSON.stringify(violations.slice(0, 3))}`);
      }
    },
  };
  return world;
}

export type World = Awaited<ReturnType<typeof startWorld>>;
