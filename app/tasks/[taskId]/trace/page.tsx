import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { z } from "zod";
import { OrderTraceView } from "@/components/order-trace";
import { Card, PageTitle } from "@/components/ui/card";
import { getDb } from "@/db/client";
import { requireTenantReader } from "@/lib/auth/session";
import { requestFormatContext } from "@/lib/locale/request";
import { getOrderTrace } from "@/lib/trace/order-trace";

export const metadata: Metadata = { title: "Order trace" };

const params = z.object({ taskId: z.string().uuid() });

/** The reseller's trace of one of their orders (from the task row; support viewing as reads it too); another tenant's task is a 404. */
export default async function OrderTracePage({ params: raw }: { params: Promise<{ taskId: string }> }) {
  const parsed = params.safeParse(await raw);
  if (!parsed.success) notFound();
  const { taskId } = parsed.data;
  const access = await requireTenantReader(`/tasks/${taskId}/trace`);
  const trace = await getOrderTrace(await getDb(), { tenantId: access.tenantId, taskId });
  if (!trace) notFound();
  const format = await requestFormatContext();
  return (
    <>
      <PageTitle subtitle="Everything that happened to this order, in time order: how it arrived, each state change, every Sage call (secrets and personal data removed), the documents and the notifications.">
        Order {trace.task.orderId}
      </PageTitle>
      <Card>
        <OrderTraceView trace={trace} format={format} basePath="/tasks" backLink={{ href: "/tasks", label: "← Back to Tasks" }} />
      </Card>
    </>
  );
}
