"use client";

import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useFormat } from "@/components/format";
import { getJson, type RequestOutcome } from "./api";

export type Tracked = { requestId: string; kind: "refresh-sage" | "refresh-marketplace" | "add-to-sage" | "create-contact"; subjectId?: string; label: string; startedAt?: number };
export type Finished = Tracked & { ok: boolean; message: string };

type Ctx = {
  pending: Tracked[];
  finished: Finished[];
  track: (items: Tracked[]) => void;
  dismiss: () => void;
  isPending: (kind: Tracked["kind"], subjectId?: string) => boolean;
};

const RequestsContext = createContext<Ctx | null>(null);

/**
 * Work queued to an Inngest function (refreshes, Add product to Sage, Create contact in Sage):
 * keep the request ids, poll /api/mapping/requests until each has its Action Log outcome, then
 * refresh the mapping queries. (The inline runner usually finishes within a few hundred ms.)
 */
export function MappingRequestsProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [pending, setPending] = useState<Tracked[]>([]);
  const [finished, setFinished] = useState<Finished[]>([]);
  const ids = pending.map((p) => p.requestId).sort().join(",");
  const poll = useQuery({
    queryKey: ["mapping-requests", ids],
    queryFn: ({ signal }) => getJson<{ outcomes: RequestOutcome[] }>(`/api/mapping/requests?ids=${ids}`, signal),
    enabled: pending.length > 0,
    refetchInterval: 400,
    staleTime: 0,
  });
  const outcomes = poll.data?.outcomes;
  useEffect(() => {
    if (!outcomes) return;
    const done: Finished[] = [];
    for (const o of outcomes) {
      if (o.state !== "done") continue;
      const t = pending.find((p) => p.requestId === o.requestId);
      if (t) done.push({ ...t, ok: o.ok, message: o.message });
    }
    if (done.length === 0) return;
    setPending((p) => p.filter((x) => !done.some((d) => d.requestId === x.requestId)));
    setFinished((f) => [...done, ...f].slice(0, 20));
    void queryClient.invalidateQueries({ queryKey: ["mapping"] });
  }, [outcomes, pending, queryClient]);
  const track = useCallback((items: Tracked[]) => setPending((p) => [...p, ...items.map((i) => ({ ...i, startedAt: Date.now() }))]), []);
  const dismiss = useCallback(() => setFinished([]), []);
  const value = useMemo<Ctx>(
    () => ({ pending, finished, track, dismiss, isPending: (kind, subjectId) => pending.some((p) => p.kind === kind && (subjectId === undefined || p.subjectId === subjectId)) }),
    [pending, finished, track, dismiss],
  );
  return <RequestsContext.Provider value={value}>{children}</RequestsContext.Provider>;
}

export function useMappingRequests(): Ctx {
  const ctx = useContext(RequestsContext);
  if (!ctx) throw new Error("useMappingRequests outside MappingRequestsProvider");
  return ctx;
}

/** Outcomes of finished requests (newest first) and what is still running. */
export function RequestOutcomes() {
  const { pending, finished, dismiss } = useMappingRequests();
  const format = useFormat();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (pending.length === 0) return;
    const t = setInterval(() => setNow(Date.now()), 5_000);
    return () => clearInterval(t);
  }, [pending.length]);
  if (pending.length === 0 && finished.length === 0) return null;
  const slow = pending.some((p) => p.startedAt !== undefined && now - p.startedAt > 30_000);
  return (
    <div className="space-y-2" data-testid="request-outcomes">
      {pending.length > 0 && (
        <div role="status" className="flex items-center gap-2 rounded-md border border-sky-200 bg-sky-50 px-4 py-2 text-sm text-sky-900">
          <span aria-hidden className="inline-block h-3 w-3 animate-spin rounded-full border-2 border-sky-400 border-t-transparent" />
          {pending.length === 1 ? `${pending[0]!.label}…` : `${format.number(pending.length)} requests running…`}
          {slow && " This is taking longer than usual (Sage may be slow or rate-limiting); the outcome will also appear in the Action Log."}
        </div>
      )}
      {finished.length > 0 && (
        <div className="rounded-md border border-slate-200 bg-white px-4 py-2 text-sm">
          <ul className="space-y-1">
            {finished.slice(0, 5).map((f) => (
              <li key={f.requestId} role={f.ok ? "status" : "alert"} className={f.ok ? "text-emerald-800" : "text-red-800"}>
                {f.message}
              </li>
            ))}
          </ul>
          <button type="button" onClick={dismiss} className="mt-1 text-xs text-slate-500 hover:underline">
            Dismiss
          </button>
        </div>
      )}
    </div>
  );
}
