import type { Metadata } from "next";
import { eq } from "drizzle-orm";
import { getDb } from "@/db/client";
import { tenants } from "@/db/schema";
import { Alert, Card, PageTitle } from "@/components/ui/card";
import { requireUser } from "@/lib/auth/session";
import { findMarketplace } from "@/lib/config";
import { InstallForm } from "./install-form";


export const metadata: Metadata = { title: "Install" };

export default async function InstallPage({ searchParams }: { searchParams: Promise<{ marketplace?: string; account?: string }> }) {
  const params = await searchParams;
  const marketplaceId = params.marketplace ?? "";
  const account = params.account ?? "";
  const user = await requireUser(`/install?${new URLSearchParams({ marketplace: marketplaceId, account })}`);
  const marketplace = findMarketplace(marketplaceId);
  const [tenant] = user.tenantId ? await (await getDb()).select().from(tenants).where(eq(tenants.id, user.tenantId)) : [];
  return (
    <div className="mx-auto max-w-2xl">
      <PageTitle subtitle={marketplace ? `From ${marketplace.name}` : undefined}>Install Sage Integration</PageTitle>
      <Card>
        {!marketplace ? (
          <Alert tone="error">This install link names an unknown marketplace (“{marketplaceId || "none"}”). Start again from the marketplace store.</Alert>
        ) : (
          <div className="space-y-4">
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
