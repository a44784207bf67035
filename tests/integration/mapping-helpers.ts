import { sageSession } from "@/lib/connections/sage-session";
import { and, eq, gt } from "drizzle-orm";
import { randomUUID } from "node:crypto";
import { setDatabaseHandleForTests } from "@/db/client";
import { actionLog } from "@/db/schema";
import { functions } from "@/inngest/functions";
import type { MarketplaceCustomerDto, MarketplaceProductDto } from "@/lib/marketplace/api-schemas";
import { marketplaceCustomerSchema, marketplaceProductSchema } from "@/lib/marketplace/api-schemas";
import { upsertMarketplaceCustomer, upsertMarketplaceProduct } from "@/lib/marketplace/catalog";
import { createSageAccountingClient, type SageAccountingClient } from "@/lib/sage/accounting/api";
import { testRunner } from "../inngest/helpers";
import { startWorld, type World } from "../helpers/world";

/** Fast client retries so fault tests take milliseconds. */
export const FAST = { baseDelayMs: 5, maxDelayMs: 20, attemptTimeoutMs: 3_000, maxRetryAfterMs: 1_000 };

export type MappingWorld = World & {
  sage: SageAccountingClient;
  businessId: string;
  connectionId: string;
  /** this business's records as the sandbox stores them */
  state(): Promise<{ contacts: { id: string; name: string; reference?: string }[]; products: { id: string; item_code?: string }[]; services: { id: string; item_code?: string }[] }>;
  fault(f: Record<string, unknown>): Promise<unknown>;
  clearFaults(): Promise<void>;
  runner: ReturnType<typeof testRunner>["runner"];
  product(p: Partial<MarketplaceProductDto> & { id: string; mpn: string; name: string }): Promise<string>;
  customer(c: { id: string; name: string; email?: string | null; currency?: string; contactInfo?: Record<string, unknown> }): Promise<string>;
  /** Action Log rows of category mapping written after `sinceId` */
  mappingLog(sinceId?: number): Promise<(typeof actionLog.$inferSelect)[]>;
  lastLogId(): Promise<number>;
  requestId(): string;
};

/** A world with an installed, authorized tenant, the inline runner over its database, and helpers. */
export async function startMappingWorld(): Promise<MappingWorld> {
  const world = await startWorld();
  await world.install();
  await world.authorize();
  const conn = (await world.connection())!;
  setDatabaseHandleForTests(world.db);
  const { runner } = testRunner(world.db, functions);
  runner.start();
  const sage = createSageAccountingClient({ ...sageSession(world.db.db, conn.id, { paced: false }), policy: FAST });
  const close = world.close;
  return Object.assign(world, {
    sage,
    businessId: conn.businessId!,
    connectionId: conn.id,
    runner,
    async state() {
      return (await fetch(`${world.sandbox.url}/__sandbox/state?business=${conn.businessId}`)).json();
    },
    fault: (f: Record<string, unknown>) => world.control("faults", f),
    async clearFaults() {
      await fetch(`${world.sandbox.url}/__sandbox/faults`, { method: "DELETE" });
    },
    product: (p: Partial<MarketplaceProductDto> & { id: string; mpn: string; name: string }) =>
      upsertMarketplaceProduct(world.db.db, world.tenantId, marketplaceProductSchema.parse({ type: "item", currency: "GBP", billing_period: "monthly", ...p })),
    customer: (c: { id: string; name: string; email?: string | null; currency?: string; contactInfo?: Record<string, unknown> }) =>
      upsertMarketplaceCustomer(
        world.db.db,
        world.tenantId,
        marketplaceCustomerSchema.parse({ id: c.id, name: c.name, currency: c.currency ?? "GBP", contact_info: c.email ? { email: c.email, contact_name: `${c.name} billing`, ...c.contactInfo } : null }) as MarketplaceCustomerDto,
      ),
    async mappingLog(sinceId = 0) {
      return world.db.db.select().from(actionLog).where(and(eq(actionLog.tenantId, world.tenantId), eq(actionLog.category, "mapping"), gt(actionLog.id, sinceId))).orderBy(actionLog.id);
    },
    async lastLogId() {
      const rows = await world.db.db.select({ id: actionLog.id }).from(actionLog);
      return Math.max(0, ...rows.map((r) => r.id));
    },
    requestId: () => randomUUID(),
    async close() {
      await runner.stop();
      setDatabaseHandleForTests(undefined);
      await close();
    },
  });
}
