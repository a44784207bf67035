import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { z } from "zod";
import { getDb } from "@/db/client";
import { ActionLogTable } from "@/components/action-log-table";
import { Card, PageTitle } from "@/components/ui/card";
import { requireSupport } from "@/lib/auth/session";
import { formatDateTime, formatDuration } from "@/lib/locale/format";
import { requestFormatContext } from "@/lib/locale/request";
import { SETTING_LABELS } from "@/lib/settings/settings";
import { supportTenantOverview } from "@/lib/support/tenant-overview";
import { getResyncReview } from "@/lib/sync/resync-guard";
import { TASK_STATE_LABELS, TASK_STATE_ORDER } from "@/lib/tasks/labels";
import { ViewAsButton } from "../../view-as-button";

export const metadata: Metadata = { title: "Tenant · Support" };

const params = z.object({ tenantId: z.string().uuid() });

/** Support's page for one tenant: everything read only, the tenant's Action Log, and "View as". */
export default async function SupportTenantPage({ params: raw }: { params: Promise<{ tenantId: string }> }) {
  const parsed = params.safeParse(await raw);
  if (!parsed.success) notFound();
  await requireSupport(`/support/tenants/${parsed.data.tenantId}`);
  const db = await getDb();
  const overview = await supportTenantOverview(db, parsed.data.tenantId);
  if (!overview) notFound();
  const review = await getResyncReview(db, parsed.data.tenantId, { listLimit: 20 });
  const ctx = await requestFormatContext();
  const { tenant, settings, mappings } = overview;
  return (
    <div className="space-y-6">
      <p className="text-sm"><Link href="/support" className="text-brand hover:underline">← Support console</Link></p>
      <div className="flex items-start justify-between gap-4">
        <PageTitle subtitle={`Marketplace account ${tenant.marketplaceAccountId} · tenant ${tenant.id}`}>{tenant.name}</PageTitle>
        <ViewAsButton tenantId={tenant.id} tenantName={tenant.name} />
      </div>
      <Card title="Installation">
        {overview.installations.length === 0 ? <p className="text-sm">Not installed.</p> : (
          <ul className="space-y-1 text-sm">
            {overview.installations.map((i) => (
              <li key={i.marketplaceId}>
                {i.marketplaceId} (brand {i.brandId}{i.marketplaceInstallationId ? `, installation ${i.marketplaceInstallationId}` : ""}) — installed {formatDateTime(i.installedAt, ctx)}
                {i.uninstalledAt && <> · <strong>uninstalled</strong> {formatDateTime(i.uninstalledAt, ctx)}, data purged after {formatDateTime(i.purgeAfter, ctx)}</>}
              </li>
            ))}
          </ul>
        )}
      </Card>
      <Card title="Sage connections">
        {overview.connections.length === 0 ? <p className="text-sm">No Sage connection yet.</p> : (
          <table className="w-full text-left text-sm" aria-label="Sage connections">
            <thead className="text-slate-500"><tr><th className="py-1">Target</th><th>Business</th><th>Status</th><th>Token age</th><th>Last refresh / rotation</th><th>Last sync</th><th>Rate budget used</th></tr></thead>
            <tbody>
              {overview.connections.map((c) => (
                <tr key={c.id} className="border-t border-slate-100 align-top">
                  <td className="py-1">{c.target}<div className="text-xs text-slate-500">{c.name}</div></td>
                  <td>{c.businessName ?? "—"}</td>
                  <td data-testid="support-connection-status">{c.status}{c.lastError && <div className="text-xs text-red-700">{c.lastError}</div>}</td>
                  <td>{c.tokenAgeSeconds === null ? "—" : formatDuration(c.tokenAgeSeconds, ctx.locale)}<div className="text-xs text-slate-500">issued {formatDateTime(c.tokensIssuedAt, ctx)}</div></td>
                  <td>{c.lastRefresh ? <>{formatDateTime(c.lastRefresh.at, ctx)}<div className="text-xs text-slate-500">{c.lastRefresh.message}</div></> : "—"}</td>
                  <td>{c.lastSyncAt ? formatDateTime(c.lastSyncAt, ctx) : "never"}</td>
                  <td>{c.rateBudget ? `${c.rateBudget.used} / ${c.rateBudget.limit} per ${c.rateBudget.periodMs / 1000} s` : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      {review && (
        <Card title="Re-sync review (after a reconnect)">
          <div className="space-y-1 text-sm" data-testid="support-resync-review">
            <p>
              {review.businessName ?? review.businessId}: <strong>{review.status.replace(/_/g, " ")}</strong> — checked {review.progress.checked} of {review.progress.total} customers
              ({review.progress.contactsRead} Sage contacts read); {review.matched} matched to existing contacts, {review.toCreate} would be created, {review.created} created.
            </p>
            {review.holding && <p className="text-amber-800">New Sage contacts are held until the reseller confirms; {review.heldTasks} order(s) wait. Only the reseller can confirm.</p>}
            {review.lastError && <p className="text-red-700">{review.lastError}</p>}
            {review.toCreateCustomers.length > 0 && <p className="text-slate-600">Would be created: {review.toCreateCustomers.map((c) => c.name).join(", ")}{review.toCreate > review.toCreateCustomers.length ? ", …" : ""}</p>}
          </div>
        </Card>
      )}
      <Card title="Tasks">
        <ul className="flex flex-wrap gap-4 text-sm" aria-label="Tasks by state">
          {TASK_STATE_ORDER.map((s) => <li key={s}>{TASK_STATE_LABELS[s]}: <strong>{overview.taskCounts[s] ?? 0}</strong></li>)}
        </ul>
        <p className="mt-2 text-sm text-slate-600">Find an order above by its id to read its trace, or open the tenant&apos;s Tasks page with View as.</p>
      </Card>
      <div className="grid gap-6 md:grid-cols-2">
        <Card title="Settings (read only)">
          <dl className="grid grid-cols-2 gap-x-3 gap-y-1 text-sm">
            {(Object.keys(SETTING_LABELS) as (keyof typeof SETTING_LABELS)[]).map((k) => (
              <div key={k} className="contents">
                <dt className="text-slate-500">{SETTING_LABELS[k].label}</dt>
                <dd>{SETTING_LABELS[k].options[String(settings[k])] ?? String(settings[k])}</dd>
              </div>
            ))}
            <dt className="text-slate-500">Confirmed by the reseller</dt><dd>{settings.confirmed ? "Yes" : "Not yet"}</dd>
          </dl>
        </Card>
        <Card title="Mappings (read only)">
          <p className="text-sm">Products: {mappings.products.mapped} of {mappings.products.total} mapped · Customers: {mappings.customers.mapped} of {mappings.customers.total} mapped</p>
          {mappings.mappedProducts.length > 0 && (
            <table className="mt-2 w-full text-left text-xs"><thead className="text-slate-500"><tr><th>MPN</th><th>Product</th><th>Sage item</th></tr></thead>
              <tbody>{mappings.mappedProducts.map((m) => <tr key={m.mpn}><td>{m.mpn}</td><td>{m.name}</td><td>{m.sageItemName}{m.sageItemCode ? ` (${m.sageItemCode})` : ""}</td></tr>)}</tbody>
            </table>
          )}
        </Card>
      </div>
      <Card title="Action Log">
        <ActionLogTable tenantId={tenant.id} />
      </Card>
    </div>
  );
}
