import type { Metadata } from "next";
import { eq } from "drizzle-orm";
import { getDb } from "@/db/client";
import { tenants } from "@/db/schema";
import { Alert, Card, PageTitle } from "@/components/ui/card";
import { requireUser } from "@/lib/auth/session";
import { findMarketplace } from "@/lib/config";
import { findInstallationRecord } from "@/lib/install/install";
import { formatDate } from "@/lib/locale/format";
import { requestFormatContext } from "@/lib/locale/request";
import { InstallForm } from "./install-form";


export const metadata: Metadata = { title: "Install" };

export default async function InstallPage({ searchParams }: { searchParams: Promise<{ marketplace?: string; account?: string }> }) {
  const params = await searchParams;
  const marketplaceId = params.marketplace ?? "";
  const account = params.account ?? "";
  const user = await requireUser(`/install?${new URLSearchParams({ marketplace: marketplaceId, account })}`);
  const marketplace = findMarketplace(marketplaceId);
  const db = await getDb();
  const [tenant] = user.tenantId ? await db.select().from(tenants).where(eq(tenants.id, user.tenantId)) : [];
  const previous = user.tenantId && marketplace ? await findInstallationRecord(db, user.tenantId, marketplace.id) : null;
  const format = await requestFormatContext();
  const day = (d: Date) => formatDate(d, format);
  return (
    <div className="mx-auto max-w-2xl">
      <PageTitle subtitle={marketplace ? `From ${marketplace.name}` : undefined}>Install Sage Integration</PageTitle>
      <Card>
        {!marketplace ? (
          <Alert tone="error">This install link names an unknown marketplace (“{marketplaceId || "none"}”). Start again from the marketplace store.</Alert>
        ) : (
          <div className="space-y-4">
            {previous?.uninstalledAt && (
              <Alert tone="warning" role="status">
                <span data-testid="uninstalled-notice">
                  {previous.purgedAt
                    ? `Sage Integration was uninstalled on ${day(previous.uninstalledAt)} and its data was deleted on ${day(previous.purgedAt)}. Installing again starts afresh.`
                    : `Sage Integration was uninstalled on ${day(previous.uninstalledAt)}: the Sage tokens were deleted. Your mappings, tasks and history are kept until ${previous.purgeAfter ? day(previous.purgeAfter) : "the retention ends"} — install again to carry on where you left off.`}
                </span>
              </Alert>
            )}
            <p>
              Sage Integration turns your marketplace customers, orders, upgrades, downgrades and cancellations into Sage contacts,
              invoices and credit notes — exactly once, with every step in the Action Log.
            </p>
            <dl className="grid grid-cols-[10rem_1fr] gap-y-1 text-sm">
              <dt className="text-slate-500">Reseller account</dt>
              <dd>{tenant ? `${tenant.name} (${tenant.marketplaceAccountId})` : account}</dd>
              <dt className="text-slate-500">Signed in as</dt>
              <dd>{user.name} &lt;{user.email}&gt;</dd>
            </dl>
            <p className="text-sm text-slate-600">Next you will choose your Sage product and country, and authorize access on Sage&apos;s own page.</p>
            <InstallForm marketplace={marketplaceId} account={account} />
          </div>
        )}
      </Card>
    </div>
  );
}
