import type { Metadata } from "next";
import Link from "next/link";
import { getDb } from "@/db/client";
import { Alert, Card, PageTitle } from "@/components/ui/card";
import { requireSupport } from "@/lib/auth/session";
import { formatDateTime } from "@/lib/locale/format";
import { requestFormatContext } from "@/lib/locale/request";
import { supportSearch, supportSearchSchema } from "@/lib/support/search";
import { TASK_STATE_LABELS } from "@/lib/tasks/labels";

export const metadata: Metadata = { title: "Support console" };

/** Support's start page: one search across every tenant, results linking to the tenant or the order's trace. */
export default async function SupportConsolePage({ searchParams }: { searchParams: Promise<{ q?: string | string[] }> }) {
  const raw = (await searchParams).q;
  const q = typeof raw === "string" ? raw : "";
  await requireSupport(q ? `/support?q=${encodeURIComponent(q)}` : "/support");
  const ctx = await requestFormatContext();
  const parsed = q ? supportSearchSchema.safeParse({ q }) : null;
  const result = parsed?.success ? await supportSearch(await getDb(), parsed.data.q) : null;
  return (
    <div className="space-y-6">
      <PageTitle subtitle="Find any tenant or order: tenant name, marketplace account, Sage business, marketplace order id, customer, Sage document number or reference.">Support console</PageTitle>
      <Card>
        <form role="search" method="get" action="/support" className="flex gap-2">
          <label htmlFor="support-q" className="sr-only">Search</label>
          <input id="support-q" name="q" defaultValue={q} autoFocus placeholder="e.g. ORD-1001, RES-5101, Northwind, SI-12" className="flex-1 rounded-md border border-slate-300 px-3 py-2" maxLength={200} />
          <button type="submit" className="rounded-md bg-brand px-4 py-2 font-medium text-white">Search</button>
        </form>
        {parsed && !parsed.success && <div className="mt-3"><Alert tone="error" role="alert">{parsed.error.issues[0]!.message}</Alert></div>}
      </Card>
      {result && (
        <>
          <Card title={`Orders (${result.orders.length})`}>
            {result.orders.length === 0 ? (
              <p className="text-sm text-slate-600">No order matches “{q}”.</p>
            ) : (
              <table className="w-full text-left text-sm" aria-label="Matching orders">
                <thead className="text-slate-500">
                  <tr><th className="py-1">Order</th><th>Tenant</th><th>Customer</th><th>Type</th><th>State</th><th>Created</th><th>Matched by</th></tr>
                </thead>
                <tbody>
                  {result.orders.map((o) => (
                    <tr key={o.taskId} className="border-t border-slate-100">
                      <td className="py-1"><Link className="text-brand hover:underline" href={`/support/tenants/${o.tenantId}/orders/${o.taskId}`}>{o.marketplaceOrderId}</Link></td>
                      <td><Link className="text-brand hover:underline" href={`/support/tenants/${o.tenantId}`}>{o.tenantName}</Link></td>
                      <td>{o.customerName ?? o.customerId}</td>
                      <td>{o.orderType}</td>
                      <td>{TASK_STATE_LABELS[o.state] ?? o.state}</td>
                      <td>{formatDateTime(o.createdAt, ctx)}</td>
                      <td className="text-slate-500">{o.matchedBy}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Card>
          <Card title={`Tenants (${result.tenants.length})`}>
            {result.tenants.length === 0 ? (
              <p className="text-sm text-slate-600">No tenant matches “{q}”.</p>
            ) : (
              <ul className="space-y-1 text-sm" aria-label="Matching tenants">
                {result.tenants.map((t) => (
                  <li key={t.tenantId}>
                    <Link className="text-brand hover:underline" href={`/support/tenants/${t.tenantId}`}>{t.name}</Link>{" "}
                    <span className="text-slate-500">({t.marketplaceAccountId}) · matched by {t.matchedBy}</span>
                  </li>
                ))}
              </ul>
            )}
          </Card>
        </>
      )}
      <p className="text-sm text-slate-500">Deployment set-up: <Link className="text-brand hover:underline" href="/support/file-exchange">Sage 50 Cloud application</Link>.</p>
    </div>
  );
}
