import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { getDb } from "@/db/client";
import { Card, PageTitle } from "@/components/ui/card";
import { requireResellerAdmin } from "@/lib/auth/session";
import { CHANGE_BUSINESS_WARNING, findActiveConnection } from "@/lib/connections/authorize";
import { BusinessForm } from "./business-form";


export const metadata: Metadata = { title: "Choose a Sage business" };

export default async function BusinessPage() {
  const user = await requireResellerAdmin("/connect/business");
  const connection = await findActiveConnection(await getDb(), user.tenantId);
  if (!connection) redirect("/connect");
  return (
    <div className="mx-auto max-w-2xl">
      <PageTitle subtitle="Your Sage user has access to several businesses. Invoices and credit notes will be written to the one you choose.">Choose your Sage business</PageTitle>
      <Card>
        <BusinessForm connectionId={connection.id} businesses={connection.availableBusinesses} current={connection.businessId} changeWarning={CHANGE_BUSINESS_WARNING} />
      </Card>
    </div>
  );
}
