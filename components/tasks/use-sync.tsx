"use client";

import { useRouter } from "next/navigation";
import { useCallback, useEffect, useRef, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { TaskState } from "@/lib/tasks/labels";
import { useFormat } from "@/components/format";
import { Button } from "@/components/ui/button";

/**
 * "Sync" / "Sync all": POST /api/sync starts the sync flow and answers its batch id (or the one
 * task's id); the progress is polled (POST /api/sync/progress) until every task is handled or the
 * sync stopped, then the task lists refresh.
 * The running sync is kept in sessionStorage, so the progress bar survives a reload or a move
 * between the dashboard and the Tasks page.
 */

export type SyncRun = { batchId?: string; taskIds?: string[]; total: number; since: string; what: string };
export type SyncProgressData = { total: number; finished: number; counts: Partial<Record<TaskState, number>>; done: boolean; status?: string; error?: string | null };
type SyncStarted = { batchId?: string; taskIds?: string[]; taskCount: number; since: string };

const STORAGE_KEY = "sage-connector.sync-run";
/** a run older than this is not resumed after a reload */
const RESUME_WITHIN_MS = 30 * 60_000;

async function postJson<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body) });
  const json = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new Error(json.error ?? `The server answered ${res.status}.`);
  return json as T;
}

function saved(): SyncRun | null {
  try {
    const raw = window.sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const run = JSON.parse(raw) as SyncRun;
    return (typeof run.batchId === "string" || Array.isArray(run.taskIds)) && Date.now() - new Date(run.since).getTime() < RESUME_WITHIN_MS ? run : null;
  } catch {
    return null;
  }
}

function remember(run: SyncRun | null) {
  try {
    if (run) window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(run));
    else window.sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    /* private mode: the progress just does not survive a reload */
  }
}

export function useSync(opts: { refreshPage?: boolean } = {}) {
  const refreshPage = !!opts.refreshPage;
  const [run, setRun] = useState<SyncRun | null>(null);
  const queryClient = useQueryClient();
  const router = useRouter();

  useEffect(() => {
    const resumed = saved();
    if (resumed) setRun(resumed);
  }, []);

  const start = useMutation({
    mutationFn: (input: { taskIds?: string[]; what: string }) =>
      postJson<SyncStarted>("/api/sync", input.taskIds ? { taskIds: input.taskIds } : {}).then((r) => ({ ...r, what: input.what })),
    onSuccess: async (r) => {
      const next: SyncRun = r.batchId ? { batchId: r.batchId, total: r.taskCount, since: r.since, what: r.what } : { taskIds: r.taskIds ?? [], total: r.taskCount, since: r.since, what: r.what };
      remember(next);
      setRun(next);
      await queryClient.invalidateQueries({ queryKey: ["tasks"] });
    },
  });

  const progress = useQuery({
    queryKey: ["sync-progress", run?.since, run?.batchId ?? run?.taskIds?.[0]],
    enabled: !!run,
    queryFn: () => postJson<SyncProgressData>("/api/sync/progress", run!.batchId ? { batchId: run!.batchId } : { taskIds: run!.taskIds, since: run!.since }),
    refetchInterval: (q) => (q.state.data?.done ? false : run && run.total > 2_000 ? 3_000 : 1_000),
    staleTime: 0,
  });

  const done = !!progress.data?.done;
  const finishedFor = useRef<string | null>(null);
  useEffect(() => {
    if (!done || !run || finishedFor.current === run.since) return;
    finishedFor.current = run.since;
    remember(null);
    void queryClient.invalidateQueries({ queryKey: ["tasks"] });
    void queryClient.invalidateQueries({ queryKey: ["sync-documents"] });
    if (refreshPage) router.refresh(); // server-rendered counts (dashboard)
  }, [done, run, queryClient, router, refreshPage]);

  const dismiss = useCallback(() => {
    remember(null);
    setRun(null);
    start.reset();
  }, [start]);

  const running = start.isPending || (!!run && !done);
  const sync = useCallback(
    (input: { taskIds?: string[]; what: string }) => {
      if (running) return;
      start.mutate(input);
    },
    [running, start],
  );
  return { sync, run, running, progress: progress.data, progressError: progress.error as Error | null, startError: start.error as Error | null, dismiss };
}

const COUNT_WORDS: [TaskState, string][] = [
  ["synced", "synced"],
  ["failed", "failed"],
  ["action_required", "action required"],
  ["ignored", "ignored"],
];

/** "37 of 120 done — 35 synced, 1 failed, 1 action required" (numbers in the page's locale: "1,200 of 2,000 done") */
export function describeProgress(p: SyncProgressData, num: (n: number) => string = String): string {
  const parts = COUNT_WORDS.filter(([s]) => (p.counts[s] ?? 0) > 0).map(([s, w]) => `${num(p.counts[s] ?? 0)} ${w}`);
  return `${num(p.finished)} of ${num(p.total)} done${parts.length ? ` — ${parts.join(", ")}` : ""}`;
}

/** The progress bar of the running (or just finished) sync. */
export function SyncProgress({ sync }: { sync: ReturnType<typeof useSync> }) {
  const { run, progress, progressError, startError, dismiss } = sync;
  const f = useFormat();
  const num = (n: number) => f.number(n);
  if (startError) {
    return (
      <div role="alert" data-testid="sync-error" className="flex items-start justify-between gap-3 rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-900">
        <span>{startError.message}</span>
        <button type="button" className="text-red-900 underline" onClick={dismiss}>Dismiss</button>
      </div>
    );
  }
  if (!run) return null;
  const total = progress?.total ?? run.total;
  const stopped = progress?.status === "failed";
  const finished = progress?.finished ?? 0;
  const pct = total ? Math.round((finished / total) * 100) : 100;
  const done = !!progress?.done;
  const bad = (progress?.counts.failed ?? 0) + (progress?.counts.action_required ?? 0) > 0;
  return (
    <div className="space-y-2 rounded-md border border-slate-200 bg-slate-50 px-4 py-3" data-testid="sync-progress" data-done={done ? "true" : "false"}>
      <div className="flex items-center justify-between gap-3 text-sm">
        <span className="font-medium">{stopped ? `${run.what}: stopped` : done ? `${run.what}: finished` : `${run.what}…`}</span>
        {done && (
          <button type="button" className="text-slate-600 underline" onClick={dismiss}>
            Hide
          </button>
        )}
      </div>
      <div
        role="progressbar"
        aria-label="Sync progress"
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={finished}
        aria-valuetext={progress ? describeProgress(progress, num) : `0 of ${num(total)} done`}
        className="h-2 w-full overflow-hidden rounded-full bg-slate-200"
      >
        <div className={`h-2 rounded-full transition-[width] ${done && bad ? "bg-amber-500" : stopped ? "bg-red-500" : "bg-brand"}`} style={{ width: `${pct}%` }} />
      </div>
      <p role="status" aria-live="polite" className="text-sm text-slate-700" data-testid="sync-progress-text">
        {progress ? describeProgress(progress, num) : `0 of ${num(total)} done — starting…`}
      </p>
      {stopped && (
        <p role="alert" className="text-sm text-red-700" data-testid="sync-stopped">
          The sync stopped: {progress?.error ?? "an unexpected error"}. What is synced stays synced; click Sync all to go on with the rest (nothing is written twice). The Action Log has the details.
        </p>
      )}
      {progressError && <p className="text-sm text-red-700">Could not read the progress: {progressError.message}</p>}
    </div>
  );
}

/** Dashboard: "Sync all" with its progress bar. */
export function SyncAllButton({ syncable }: { syncable: number }) {
  const sync = useSync({ refreshPage: true });
  const f = useFormat();
  return (
    <div className="space-y-2">
      <div className="flex flex-wrap items-center gap-3">
        <Button type="button" onClick={() => sync.sync({ what: "Sync all" })} disabled={sync.running || syncable === 0} aria-busy={sync.running}>
          {sync.running ? "Syncing…" : "Sync all"}
        </Button>
        <span className="text-sm text-slate-600">{syncable === 0 ? "Nothing to sync." : `${f.number(syncable)} ${syncable === 1 ? "task" : "tasks"} to sync (pending, failed or action required).`}</span>
      </div>
      <SyncProgress sync={sync} />
    </div>
  );
}
