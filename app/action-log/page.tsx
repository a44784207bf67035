import type { Metadata } from "next";
import { Card, PageTitle } from "@/components/ui/card";
import { ActionLogTable } from "@/components/action-log-table";
import { requireTenantReader } from "@/lib/auth/session";


export const metadata: Metadata = { title: "Action Log" };

export default async function ActionLogPage() {
  await requireTenantReader("/action-log");
  return (
    <>
      <PageTitle subtitle="Every step, newest first, with who did it.">Action Log</PageTitle>
      <Card>
        <ActionLogTable />
      </Card>
    </>
  );
}
