import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { getDb } from "@/db/client";
import { Card, PageTitle } from "@/components/ui/card";
import { requireResellerAdmin } from "@/lib/auth/session";
import { latestPasscode } from "@/lib/connections/file-exchange";
import { getFileExchangeTarget } from "@/lib/sage/targets";
import { PasscodePanel } from "./passcode-panel";

export const metadata: Metadata = { title: "Connect Sage 50 Cloud" };

/** Step 2 of connecting a file-exchange product: the passcode, its expiry, and what to do in Sage 50. */
export default async function PasscodePage({ searchParams }: { searchParams: Promise<{ product?: string }> }) {
  const user = await requireResellerAdmin("/connect");
  const { product } = await searchParams;
  if (product !== "sage-50-cloud") redirect("/connect");
  const target = getFileExchangeTarget(product);
  const passcode = await latestPasscode(await getDb(), { tenantId: user.tenantId, targetId: target.id });
  if (!passcode) redirect("/connect");
  return (
    <div className="mx-auto max-w-2xl">
      <PageTitle subtitle={`${target.label} connects through Sage 50 on your computer: enter this passcode there and allow access.`}>Connect {target.label}</PageTitle>
      <Card>
        <PasscodePanel product={target.id} label={target.label} initial={passcode} />
      </Card>
    </div>
  );
}
