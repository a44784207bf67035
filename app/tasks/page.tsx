import type { Metadata } from "next";
import Link from "next/link";
import { Card, PageTitle } from "@/components/ui/card";
import { FileUploadsCard } from "@/components/tasks/file-uploads-card";
import { TaskTable, type TaskFilters } from "@/components/tasks/task-table";
import { getDb } from "@/db/client";
import { requireTenantReader } from "@/lib/auth/session";
import { fileUploadsOverview } from "@/lib/tasks/file-uploads";
import { ORDER_TYPE_ORDER, TASK_STATE_ORDER } from "@/lib/tasks/labels";


export const metadata: Metadata = { title: "Tasks" };

export default async function TasksPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const access = await requireTenantReader("/tasks");
  const sp = await searchParams;
  const one = (k: string) => (typeof sp[k] === "string" ? (sp[k] as string) : undefined);
  const state = TASK_STATE_ORDER.find((s) => s === one("state"));
  const type = ORDER_TYPE_ORDER.find((t) => t === one("type"));
  const page = Math.max(1, Number.parseInt(one("page") ?? "1", 10) || 1);
  const initial: TaskFilters = { state, type, q: one("q"), page };
  // a file-exchange connection (Sage 50 Cloud): its order files with status and progress
  const uploads = await fileUploadsOverview(await getDb(), access.tenantId);
  return (
    <>
      <PageTitle subtitle="Marketplace orders waiting to be synced to Sage, and what happened to them.">Tasks</PageTitle>
      {uploads && (
        <div className="mb-6">
          <FileUploadsCard initial={uploads} />
        </div>
      )}
      <Card actions={<Link href="/dashboard" className="text-sm text-brand hover:underline">Check Changes on the dashboard</Link>}>
        <TaskTable initial={initial} />
      </Card>
    </>
  );
}
