import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { getDb } from "@/db/client";
import { Card, PageTitle } from "@/components/ui/card";
import { ConnectionStatus } from "@/components/connection-status";
import { requireTenantReader } from "@/lib/auth/session";
import { getConfig } from "@/lib/config";
import { getConnectionOverview } from "@/lib/connections/overview";
import { findInstallation } from "@/lib/install/install";
import { eq } from "drizzle-orm";
import { tenants } from "@/db/schema";
import { CheckChangesButton } from "@/components/tasks/check-changes-button";
import { TaskCounts } from "@/components/tasks/tasks-card";
import { SyncAllButton } from "@/components/tasks/use-sync";
import { taskSummary } from "@/lib/tasks/tasks";
import { checkChangesAction } from "@/app/tasks/actions";
import { ResyncReviewCard } from "@/components/resync/resync-review-card";
import { getResyncReview } from "@/lib/sync/resync-guard";

function GearIcon() {
  return (
    <svg aria-hidden viewBox="0 0 24 24" className="h-5 w-5" fill="none" stroke="currentColor" strokeWidth="1.8">
      <path d="M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6Z" />
      <path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1Z" />
    </svg>
  );
}


export const metadata: Metadata = { title: "Dashboard" };

export default async function DashboardPage() {
  const access = await requireTenantReader("/dashboard");
  const db = await getDb();
  const installation = await findInstallation(db, access.tenantId);
  const [tenant] = await db.select().from(tenants).where(eq(tenants.id, access.tenantId));
  if (!installation) {
    const marketplace = getConfig().marketplaces[0];
    redirect(`/install?${new URLSearchParams({ marketplace: marketplace?.id ?? "", account: tenant?.marketplaceAccountId ?? "" })}`);
  }
  const connection = await getConnectionOverview(db, access.tenantId);
  const tasks = await taskSummary(db, access.tenantId);
  const resyncReview = await getResyncReview(db, access.tenantId);
  return (
    <>
      <div className="flex items-start justify-between">
        <PageTitle subtitle={tenant ? `${tenant.name} (${tenant.marketplaceAccountId})` : undefined}>Dashboard</PageTitle>
        <Link href="/settings" aria-label="Settings" title="Settings" className="rounded-md border border-slate-300 bg-white p-2 text-slate-700 hover:bg-slate-50">
          <GearIcon />
        </Link>
      </div>
      <div className="grid gap-6">
        <Card title="Sage connection">
          <ConnectionStatus initial={connection} />
        </Card>
        {resyncReview && <ResyncReviewCard initial={resyncReview} readOnly={access.viewAs !== null} />}
        <Card title="Tasks" actions={<Link href="/tasks" className="text-sm text-brand hover:underline">Open tasks</Link>}>
          <div className="space-y-4">
            <TaskCounts counts={tasks.counts} />
            <CheckChangesButton action={checkChangesAction} />
            <SyncAllButton syncable={tasks.counts.pending + tasks.counts.failed + tasks.counts.action_required} />
          </div>
        </Card>
        <Card title="Activity" actions={<Link href="/action-log" className="text-sm text-brand hover:underline">Open Action Log</Link>}>
          <p className="text-sm text-slate-600">Every install, authorization, settings change and sync step is recorded in the Action Log.</p>
        </Card>
      </div>
    </>
  );
}
