"use client";

import { Fragment, useEffect, useMemo, useState } from "react";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useFormat } from "@/components/format";
import { Alert } from "@/components/ui/card";
import { Button } from "@/components/ui/button";

type Entry = { id: number; at: string; tenantId: string | null; actorType: string; actorLabel: string; level: string; category: string; message: string; taskId: string | null };
type EntryWithDetails = Entry & { actorId: string | null; details: Record<string, unknown> };
type Page = { entries: Entry[]; nextCursor: string | null };

const LEVELS = [
  ["info", "Info"],
  ["success", "Success"],
  ["warning", "Warning"],
  ["error", "Error"],
  ["action_required", "Action required"],
] as const;
const CATEGORIES = ["install", "auth", "settings", "mapping", "sync", "support", "system"] as const;
const ACTOR_TYPES = [
  ["user", "Reseller"],
  ["support", "Support (view as)"],
  ["marketplace", "Marketplace"],
  ["system", "System"],
] as const;

const LEVEL_STYLE: Record<string, string> = {
  info: "bg-slate-100 text-slate-700",
  success: "bg-emerald-100 text-emerald-800",
  warning: "bg-amber-100 text-amber-800",
  error: "bg-red-100 text-red-800",
  action_required: "bg-violet-100 text-violet-800",
};

const PAGE_SIZE = 200;

type Filters = { levels: string[]; category: string; actorType: string; actor: string; from: string; to: string; text: string };
const NO_FILTERS: Filters = { levels: [], category: "", actorType: "", actor: "", from: "", to: "", text: "" };

/** The filters as the API's query string; dates are the browser's local days (`to` inclusive). */
function filterParams(f: Filters): URLSearchParams {
  const p = new URLSearchParams();
  if (f.levels.length) p.set("level", f.levels.join(","));
  if (f.category) p.set("category", f.category);
  if (f.actorType) p.set("actorType", f.actorType);
  if (f.actor.trim()) p.set("actor", f.actor.trim());
  if (f.from) p.set("from", localDayStart(f.from).toISOString());
  if (f.to) {
    const end = localDayStart(f.to);
    end.setDate(end.getDate() + 1);
    p.set("to", end.toISOString());
  }
  if (f.text.trim()) p.set("q", f.text.trim());
  return p;
}

function localDayStart(day: string): Date {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y!, m! - 1, d!);
}

/** A value that follows `value` once it has been still for `ms` (typing in a search box). */
function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

async function readError(res: Response): Promise<string> {
  const body = (await res.json().catch(() => null)) as { error?: string } | null;
  return body?.error ?? `HTTP ${res.status}`;
}

/** `tenantId`: support's console reads that tenant's log (a reseller always reads their own). */
export function ActionLogTable({ tenantId }: { tenantId?: string } = {}) {
  const f = useFormat();
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [openId, setOpenId] = useState<number | null>(null);
  // typing waits for a pause; choices apply at once
  const actor = useSettled(filters.actor, 300);
  const text = useSettled(filters.text, 300);
  const query = useMemo(() => {
    const p = filterParams({ ...filters, actor, text });
    if (tenantId) p.set("tenant", tenantId);
    return p.toString();
  }, [filters, actor, text, tenantId]);
  const invalidRange = filters.from && filters.to && filters.from > filters.to;

  const log = useInfiniteQuery({
    queryKey: ["action-log", query],
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }): Promise<Page> => {
      const p = new URLSearchParams(query);
      p.set("limit", String(PAGE_SIZE));
      if (pageParam) p.set("cursor", pageParam);
      const res = await fetch(`/api/action-log?${p}`);
      if (!res.ok) throw new Error(await readError(res));
      return res.json();
    },
    getNextPageParam: (last) => last.nextCursor,
    enabled: !invalidRange,
    refetchInterval: 10_000,
  });
  const entries = log.data?.pages.flatMap((p) => p.entries) ?? [];
  const set = <K extends keyof Filters>(key: K, value: Filters[K]) => setFilters((prev) => ({ ...prev, [key]: value }));
  const filtered = JSON.stringify(filters) !== JSON.stringify(NO_FILTERS);

  return (
    <div className="space-y-4">
      <form className="grid gap-3 text-sm md:grid-cols-3" onSubmit={(e) => e.preventDefault()} aria-label="Filter the Action Log">
        <fieldset className="md:col-span-3">
          <legend className="mb-1 font-medium text-slate-700">Level</legend>
          <div className="flex flex-wrap gap-3">
            {LEVELS.map(([value, label]) => (
              <label key={value} className="inline-flex items-center gap-1">
                <input
                  type="checkbox"
                  checked={filters.levels.includes(value)}
                  onChange={(e) => set("levels", e.target.checked ? [...filters.levels, value] : filters.levels.filter((l) => l !== value))}
                />
                {label}
              </label>
            ))}
          </div>
        </fieldset>
        <label className="flex flex-col gap-1">
          <span className="font-medium text-slate-700">Category</span>
          <select className="rounded border border-slate-300 px-2 py-1" value={filters.category} onChange={(e) => set("category", e.target.value)}>
            <option value="">All categories</option>
            {CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label className="flex flex-col gap-1">
          <span className="font-medium text-slate-700">Who acted</span>
          <select className="rounded border border-slate-300 px-2 py-1" value={filters.actorType} onChange={(e) => set("actorType", e.target.value)}>
            <option value="">Anyone</option>
            {ACTOR_TYPES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label className="flex flex-col gap-1">
          <span className="font-medium text-slate-700">Actor name</span>
          <input className="rounded border border-slate-300 px-2 py-1" value={filters.actor} maxLength={200} placeholder="e.g. Alex" onChange={(e) => set("actor", e.target.value)} />
        </label>
        <label className="flex flex-col gap-1">
          <span className="font-medium text-slate-700">From</span>
          <input type="date" className="rounded border border-slate-300 px-2 py-1" value={filters.from} onChange={(e) => set("from", e.target.value)} />
        </label>
        <label className="flex flex-col gap-1">
          <span className="font-medium text-slate-700">To</span>
          <input type="date" className="rounded border border-slate-300 px-2 py-1" value={filters.to} onChange={(e) => set("to", e.target.value)} />
        </label>
        <label className="flex flex-col gap-1">
          <span className="font-medium text-slate-700">Message contains</span>
          <input type="search" className="rounded border border-slate-300 px-2 py-1" value={filters.text} maxLength={200} placeholder="order id, customer, …" onChange={(e) => set("text", e.target.value)} />
        </label>
      </form>

      <div className="flex flex-wrap items-center justify-end gap-4">
        {filtered && (
          <button type="button" className="text-sm text-brand hover:underline" onClick={() => setFilters(NO_FILTERS)}>
            Clear filters
          </button>
        )}
        <button type="button" onClick={() => log.refetch()} className="text-sm text-brand hover:underline" disabled={log.isFetching}>
          {log.isFetching && !log.isFetchingNextPage ? "Refreshing…" : "Refresh"}
        </button>
        <a href={`/api/action-log/export?${query}`} download className="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50" data-testid="action-log-export">
          Export CSV
        </a>
      </div>

      {invalidRange ? (
        <Alert tone="warning">“From” must not be after “To”.</Alert>
      ) : log.isLoading ? (
        <p role="status">Loading the Action Log…</p>
      ) : log.isError ? (
        <Alert tone="error">Could not load the Action Log: {log.error.message}</Alert>
      ) : entries.length === 0 ? (
        <p>{filtered ? "No entries match these filters." : "Nothing has happened yet."}</p>
      ) : (
        <>
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
              {entries.map((e) => (
                <Fragment key={e.id}>
                  <tr
                    className="cursor-pointer border-b border-slate-100 align-top hover:bg-slate-50"
                    data-testid="action-log-row"
                    aria-expanded={openId === e.id}
                    tabIndex={0}
                    onClick={() => setOpenId(openId === e.id ? null : e.id)}
                    onKeyDown={(k) => {
                      if (k.key === "Enter" || k.key === " ") {
                        k.preventDefault();
                        setOpenId(openId === e.id ? null : e.id);
                      }
                    }}
                  >
                    <td className="whitespace-nowrap py-2 pr-4" title={e.at} data-testid="action-log-at">{f.dateTime(e.at, { seconds: true })}</td>
                    <td className="py-2 pr-4"><span className={`rounded px-2 py-0.5 text-xs ${LEVEL_STYLE[e.level] ?? ""}`}>{e.level.replace("_", " ")}</span></td>
                    <td className="py-2 pr-4">{e.category}</td>
                    <td className="py-2 pr-4">{e.message}</td>
                    <td className="py-2">{e.actorLabel}</td>
                  </tr>
                  {openId === e.id && (
                    <tr className="border-b border-slate-100 bg-slate-50">
                      <td colSpan={5} className="px-4 py-3">
                        <EntryDetails id={e.id} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
          <div className="flex items-center justify-between text-sm text-slate-600">
            <span>
              {entries.length} {entries.length === 1 ? "entry" : "entries"} shown
            </span>
            {log.hasNextPage ? (
              <Button variant="secondary" onClick={() => log.fetchNextPage()} disabled={log.isFetchingNextPage}>
                {log.isFetchingNextPage ? "Loading…" : "Load more"}
              </Button>
            ) : (
              <span>That is everything.</span>
            )}
          </div>
        </>
      )}
    </div>
  );
}

function EntryDetails({ id }: { id: number }) {
  const details = useQuery({
    queryKey: ["action-log-entry", id],
    queryFn: async (): Promise<EntryWithDetails> => {
      const res = await fetch(`/api/action-log/${id}`);
      if (!res.ok) throw new Error(await readError(res));
      return (await res.json()).entry;
    },
    staleTime: Infinity,
  });
  if (details.isLoading) return <p role="status">Loading the details…</p>;
  if (details.isError) return <Alert tone="error">Could not load the details: {details.error.message}</Alert>;
  const e = details.data!;
  return (
    <dl className="grid gap-x-4 gap-y-1 text-sm md:grid-cols-[10rem_1fr]" data-testid="action-log-details">
      <dt className="text-slate-500">Entry</dt>
      <dd>#{e.id} · {e.at}</dd>
      <dt className="text-slate-500">Actor</dt>
      <dd>
        {e.actorLabel} ({e.actorType}
        {e.actorId ? `, ${e.actorId}` : ""})
      </dd>
      {e.taskId && (
        <>
          <dt className="text-slate-500">Task</dt>
          <dd className="font-mono text-xs">{e.taskId}</dd>
        </>
      )}
      <dt className="text-slate-500">Details</dt>
      <dd>
        {Object.keys(e.details ?? {}).length === 0 ? (
          <span className="text-slate-500">none</span>
        ) : (
          <pre className="max-h-80 overflow-auto rounded bg-white p-2 text-xs">{JSON.stringify(e.details, null, 2)}</pre>
        )}
      </dd>
    </dl>
  );
}
