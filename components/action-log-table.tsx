"use client";

import { useQuery } from "@tanstack/react-query";
import { useFormat } from "@/components/format";
import { Alert } from "@/components/ui/card";

type Entry = { id: number; at: string; actorType: string; actorLabel: string; level: string; category: string; message: string; details: Record<string, unknown> };

const LEVEL_STYLE: Record<string, string> = {
  info: "bg-slate-100 text-slate-700",
  success: "bg-emerald-100 text-emerald-800",
  warning: "bg-amber-100 text-amber-800",
  error: "bg-red-100 text-red-800",
  action_required: "bg-violet-100 text-violet-800",
};

export function ActionLogTable() {
  const f = useFormat();
  const { data, isLoading, isError, error, refetch, isFetching } = useQuery({
    queryKey: ["action-log"],
    queryFn: async (): Promise<Entry[]> => {
      const res = await fetch("/api/action-log?limit=200");
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return (await res.json()).entries;
    },
    refetchInterval: 10_000,
  });
  if (isLoading) return <p role="status">Loading the Action Log…</p>;
  if (isError) return <Alert tone="error">Could not load the Action Log: {error.message}</Alert>;
  return (
    <div className="space-y-3">
      <div className="flex justify-end">
        <button type="button" onClick={() => refetch()} className="text-sm text-brand hover:underline" disabled={isFetching}>
          {isFetching ? "Refreshing…" : "Refresh"}
        </button>
      </div>
      {data && data.length === 0 ? (
        <p>Nothing has happened yet.</p>
      ) : (
        <table className="w-full text-left text-sm">
          <thead className="border-b border-slate-200 text-slate-500">
            <tr>
              <th className="py-2 pr-4 font-medium">When</th>
              <th className="py-2 pr-4 font-medium">Level</th>
              <th className="py-2 pr-4 font-medium">Category</th>
              <th className="py-2 pr-4 font-medium">What happened</th>
              <th className="py-2 font-medium">Actor</th>
            </tr>
          </thead>
          <tbody>
            {data?.map((e) => (
              <tr key={e.id} className="border-b border-slate-100 align-top" data-testid="action-log-row">
                <td className="whitespace-nowrap py-2 pr-4" title={e.at} data-testid="action-log-at">{f.dateTime(e.at, { seconds: true })}</td>
                <td className="py-2 pr-4"><span className={`rounded px-2 py-0.5 text-xs ${LEVEL_STYLE[e.level] ?? ""}`}>{e.level.replace("_", " ")}</span></td>
                <td className="py-2 pr-4">{e.category}</td>
                <td className="py-2 pr-4">{e.message}</td>
                <td className="py-2">{e.actorLabel}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
