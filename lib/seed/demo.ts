import { eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { branches, tenants, users } from "@/db/schema";
import { hashPassword } from "@/lib/auth/passwords";
import { writeActionLog, SYSTEM_ACTOR } from "@/lib/log/action-log";

export const DEMO_TENANT = { marketplaceAccountId: "RES-1001", name: "Northwind Cloud Reseller" };
export const DEMO_ADMIN = { email: "admin@northwind.test", name: "Nora Admin", password: "northwind-demo" };
export const DEMO_SUPPORT = { email: "support@sage-connector.test", name: "Sam Support", password: "support-demo" };

/** Demo data: one reseller with an admin, and a support user. Safe to run on every start. */
export async function seedDemo(db: Database) {
  await db.transaction(async (tx) => {
    let [tenant] = await tx.select().from(tenants).where(eq(tenants.marketplaceAccountId, DEMO_TENANT.marketplaceAccountId));
    if (!tenant) {
      [tenant] = await tx.insert(tenants).values(DEMO_TENANT).returning();
      await tx.insert(branches).values({ tenantId: tenant!.id, name: "Main branch" });
      await writeActionLog(tx, { tenantId: tenant!.id, actor: SYSTEM_ACTOR, level: "info", category: "system", message: "Demo reseller account created" });
    }
    const [admin] = await tx.select({ id: users.id }).from(users).where(eq(users.email, DEMO_ADMIN.email));
    if (!admin) {
      await tx.insert(users).values({ email: DEMO_ADMIN.email, name: DEMO_ADMIN.name, role: "reseller_admin", tenantId: tenant!.id, passwordHash: hashPassword(DEMO_ADMIN.password) });
    }
    const [support] = await tx.select({ id: users.id }).from(users).where(eq(users.email, DEMO_SUPPORT.email));
    if (!support) {
      await tx.insert(users).values({ email: DEMO_SUPPORT.email, name: DEMO_SUPPORT.name, role: "support", tenantId: null, passwordHash: hashPassword(DEMO_SUPPORT.password) });
    }
  });
}
