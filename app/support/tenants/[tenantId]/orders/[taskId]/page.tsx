import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { OrderTraceView } from "@/components/order-trace";
import { Card, PageTitle } from "@/components/ui/card";
import { getDb } from "@/db/client";
import { tenants } from "@/db/schema";
import { requireSupport } from "@/lib/auth/session";
import { requestFormatContext } from "@/lib/locale/request";
import { getOrderTrace } from "@/lib/trace/order-trace";

export const metadata: Metadata = { title: "Order trace · Support" };

const params = z.object({ tenantId: z.string().uuid(), taskId: z.string().uuid() });

/** Support's trace of any tenant's order (the same timeline the reseller reads from the task row). */
export default async function SupportOrderTracePage({ params: raw }: { params: Promise<{ tenantId: string; taskId: string }> }) {
  const parsed = params.safeParse(await raw);
  if (!parsed.success) notFound();
  const { tenantId, taskId } = parsed.data;
  await requireSupport(`/support/tenants/${tenantId}/orders/${taskId}`);
  const db = await getDb();
  const [tenant] = await db.select({ name: tenants.name, account: tenants.marketplaceAccountId }).from(tenants).where(eq(tenants.id, tenantId));
  const trace = tenant ? await getOrderTrace(db, { tenantId, taskId }) : null;
  if (!tenant || !trace) notFound();
  const format = await requestFormatContext();
  return (
    <>
      <p className="mb-2 text-sm">
        <Link href="/support" className="text-brand hover:underline">← Support console</Link>
      </p>
      <PageTitle
        subtitle={
          <>
            Tenant <Link href={`/support/tenants/${tenantId}`} className="text-brand hover:underline">{tenant.name}</Link> ({tenant.account}) — how the order arrived, each state change, every Sage call (secrets and personal data removed), the documents and the notifications.
          </>
        }
      >
        Order {trace.task.orderId}
      </PageTitle>
      <Card>
        <OrderTraceView trace={trace} format={format} basePath="/support" />
      </Card>
    </>
  );
}
