import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { getDb } from "@/db/client";
import { Card, PageTitle } from "@/components/ui/card";
import { requireResellerAdmin } from "@/lib/auth/session";
import { findInstallation } from "@/lib/install/install";
import { SAGE_TARGETS } from "@/lib/sage/targets";
import { getConfig } from "@/lib/config";
import { ConnectForm } from "./connect-form";

/** Products we will offer; only those with a target implementation can be chosen today. */
const PLANNED = [
  { id: "sage-active", label: "Sage Active (DE / ES / FR)", note: "coming soon" },
  { id: "sage-one-aus", label: "Sage One (Australia)", note: "coming soon" },
];


export const metadata: Metadata = { title: "Connect to Sage" };

export default async function ConnectPage() {
  const user = await requireResellerAdmin("/connect");
  const installation = await findInstallation(await getDb(), user.tenantId);
  if (!installation) {
    const m = getConfig().marketplaces[0];
    redirect(`/install?marketplace=${encodeURIComponent(m?.id ?? "")}`);
  }
  const products = [
    ...Object.values(SAGE_TARGETS).map((t) => ({ id: t.id, label: t.label, available: true, countries: t.countries, capabilities: t.capabilities, exchange: t.exchange })),
    ...PLANNED.map((p) => ({ ...p, available: false, countries: [] })),
  ];
  return (
    <div className="mx-auto max-w-2xl">
      <PageTitle subtitle="You will be sent to Sage to allow access, then brought back here.">Connect your Sage account</PageTitle>
      <Card>
        <ConnectForm products={products} />
      </Card>
    </div>
  );
}
