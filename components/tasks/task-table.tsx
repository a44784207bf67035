"use client";

import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { OrderType, TaskState } from "@/lib/tasks/labels";
import { useFormat } from "@/components/format";
import { Button } from "@/components/ui/button";
import { Alert } from "@/components/ui/card";
import { ORDER_TYPE_FILTER_LABELS, ORDER_TYPE_ORDER, TASK_STATE_LABELS, TASK_STATE_ORDER, TASK_STATE_STYLE } from "@/lib/tasks/labels";
import { describeItem } from "@/lib/tasks/order-to-task";
import type { TaskList, TaskRow } from "@/lib/tasks/tasks";
import { SyncProgress, useSync } from "./use-sync";

type SageDocumentLink = { taskId: string | null; kind: string; sageId: string; displayedAs: string | null; url: string | null };

/** "Invoice SI-12", "Credit note SCN-3", "Lines added to invoice SI-14", "Allocated SCN-3 → SI-12" */
function documentLabel(d: SageDocumentLink) {
  const name = d.displayedAs ?? d.sageId.slice(0, 8);
  if (d.kind === "contact_allocation") return `Allocated ${name}`;
  return d.kind === "sales_credit_note" ? `Credit note ${name}` : d.kind === "sales_invoice_lines" ? `Lines added to invoice ${name}` : `Invoice ${name}`;
}

const SYNCABLE: readonly TaskState[] = ["pending", "action_required", "failed"];

export type TaskFilters = { state?: TaskState; type?: OrderType; q?: string; page: number };

const PAGE_SIZE = 25;

function toSearch(f: TaskFilters) {
  const p = new URLSearchParams();
  if (f.state) p.set("state", f.state);
  if (f.type) p.set("type", f.type);
  if (f.q) p.set("q", f.q);
  if (f.page > 1) p.set("page", String(f.page));
  return p;
}

async function postJson(url: string, body: unknown) {
  const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.error ?? `HTTP ${res.status}`);
  return json;
}

function typeLabel(t: TaskRow) {
  const base = ORDER_TYPE_FILTER_LABELS[t.orderType];
  return t.requestType === "suspend" ? "Suspension" : t.requestType === "resume" ? "Resumption" : base;
}

/** A "Fix this" link that lets the Mapping screen lead back to these tasks, filters kept. */
function withBackToTasks(link: string, filters: TaskFilters): string {
  const qs = toSearch(filters).toString();
  const back = qs ? `/tasks?${qs}` : "/tasks";
  return `${link}${link.includes("?") ? "&" : "?"}from=${encodeURIComponent(back)}`;
}

export function TaskTable({ initial }: { initial: TaskFilters }) {
  const [filters, setFilters] = useState<TaskFilters>(initial);
  const [search, setSearch] = useState(initial.q ?? "");
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [reason, setReason] = useState("");
  const [asking, setAsking] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const queryClient = useQueryClient();
  const sync = useSync();
  const f = useFormat();

  // a link to /tasks?q=… while the page is open (e.g. from a notification) sets the filters again
  const initialKey = JSON.stringify(initial);
  const [appliedKey, setAppliedKey] = useState(initialKey);
  if (initialKey !== appliedKey) {
    setAppliedKey(initialKey);
    setFilters(initial);
    setSearch(initial.q ?? "");
    setSelected(new Set());
  }

  // keep the URL shareable (?state=ignored …) without a navigation
  useEffect(() => {
    const qs = toSearch(filters).toString();
    window.history.replaceState(null, "", qs ? `/tasks?${qs}` : "/tasks");
  }, [filters]);

  // debounce the search box
  useEffect(() => {
    const t = setTimeout(() => setFilters((f) => (f.q === (search.trim() || undefined) ? f : { ...f, q: search.trim() || undefined, page: 1 })), 300);
    return () => clearTimeout(t);
  }, [search]);

  const { data, isLoading, isError, error, isFetching } = useQuery({
    queryKey: ["tasks", filters],
    queryFn: async (): Promise<TaskList> => {
      const res = await fetch(`/api/tasks?${toSearch(filters)}&pageSize=${PAGE_SIZE}`);
      const json = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(json.error ?? `HTTP ${res.status}`);
      return json;
    },
    placeholderData: keepPreviousData,
    refetchInterval: sync.running ? 1_500 : 10_000,
  });

  const setFilter = (patch: Partial<TaskFilters>) => {
    setSelected(new Set());
    setAsking(false);
    setFilters((f) => ({ ...f, ...patch, page: patch.page ?? 1 }));
  };

  const viewingIgnored = filters.state === "ignored";
  const selectable = (t: TaskRow) => (viewingIgnored ? t.canUnignore : SYNCABLE.includes(t.state));
  const rows = useMemo(() => data?.tasks ?? [], [data]);

  // the Sage documents of the rows on this page (links to the invoice / credit note)
  const rowIds = rows.map((t) => t.id).join(",");
  const documents = useQuery({
    queryKey: ["sync-documents", rowIds, rows.filter((t) => t.state === "synced" || t.state === "failed").length],
    enabled: rows.some((t) => t.state === "synced" || t.state === "failed"),
    queryFn: async (): Promise<SageDocumentLink[]> => {
      const res = await fetch(`/api/sync/documents?ids=${rowIds}`);
      const json = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(json.error ?? `HTTP ${res.status}`);
      return json.documents;
    },
    placeholderData: keepPreviousData,
  });
  const docsOf = useMemo(() => {
    const m = new Map<string, SageDocumentLink[]>();
    for (const d of documents.data ?? []) if (d.taskId) m.set(d.taskId, [...(m.get(d.taskId) ?? []), d]);
    return m;
  }, [documents.data]);
  const syncableCount = data ? SYNCABLE.reduce((n, s) => n + (data.counts[s] ?? 0), 0) : 0;
  const syncSelected = () => {
    setNotice(null);
    sync.sync({ taskIds: [...selected], what: `Sync of ${selected.size} selected ${selected.size === 1 ? "task" : "tasks"}` });
    setSelected(new Set());
  };
  const selectableRows = rows.filter(selectable);
  const allSelected = selectableRows.length > 0 && selectableRows.every((t) => selected.has(t.id));

  const done = async (message: string) => {
    setSelected(new Set());
    setAsking(false);
    setReason("");
    setNotice(message);
    await queryClient.invalidateQueries({ queryKey: ["tasks"] });
  };
  const ignore = useMutation({
    mutationFn: () => postJson("/api/tasks/ignore", { ids: [...selected], reason }),
    onSuccess: (r: { ignored: number }) => done(`${r.ignored} ${r.ignored === 1 ? "task" : "tasks"} ignored.`),
  });
  const unignore = useMutation({
    mutationFn: () => postJson("/api/tasks/unignore", { ids: [...selected] }),
    onSuccess: (r: { unignored: number; actionRequired: number }) =>
      done(`${r.unignored} ${r.unignored === 1 ? "task" : "tasks"} un-ignored${r.actionRequired ? ` (${r.actionRequired} still need action)` : ""}.`),
  });
  const mutationError = (ignore.error ?? unignore.error) as Error | null;

  const total = data ? Object.values(data.counts).reduce((a, b) => a + b, 0) : 0;
  const pages = data ? Math.max(1, Math.ceil(data.total / PAGE_SIZE)) : 1;

  return (
    <div className="space-y-4">
      <nav aria-label="Task states" className="flex flex-wrap gap-2">
        {[undefined, ...TASK_STATE_ORDER].map((s) => {
          const active = filters.state === s;
          const count = s ? data?.counts[s] : total;
          return (
            <button
              key={s ?? "all"}
              type="button"
              aria-pressed={active}
              onClick={() => setFilter({ state: s })}
              className={`rounded-full border px-3 py-1 text-sm ${active ? "border-brand bg-brand text-white" : "border-slate-300 bg-white hover:bg-slate-50"}`}
            >
              {s ? TASK_STATE_LABELS[s] : "All"} <span data-testid={`count-${s ?? "all"}`}>{count === undefined ? "…" : f.number(count)}</span>
            </button>
          );
        })}
      </nav>

      <div className="flex flex-wrap items-end gap-3">
        <label className="text-sm">
          <span className="mb-1 block text-slate-600">Order type</span>
          <select className="rounded-md border border-slate-300 bg-white px-2 py-1.5" value={filters.type ?? ""} onChange={(e) => setFilter({ type: (e.target.value || undefined) as OrderType | undefined })}>
            <option value="">All types</option>
            {ORDER_TYPE_ORDER.map((t) => (
              <option key={t} value={t}>{ORDER_TYPE_FILTER_LABELS[t]}</option>
            ))}
          </select>
        </label>
        <label className="grow text-sm">
          <span className="mb-1 block text-slate-600">Search</span>
          <input
            type="search"
            className="w-full rounded-md border border-slate-300 px-2 py-1.5"
            placeholder="Order id or customer"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </label>
        {isFetching && <span className="text-sm text-slate-500">Loading…</span>}
      </div>

      <div className="flex flex-wrap items-center gap-3" role="group" aria-label="Sync">
        <Button
          type="button"
          onClick={() => {
            setNotice(null);
            sync.sync({ what: "Sync all" });
          }}
          disabled={sync.running || !data || syncableCount === 0}
          aria-busy={sync.running}
          title={data && syncableCount === 0 ? "No task is pending, failed or waiting for action." : "Sync every pending, failed and action-required task to Sage"}
        >
          {sync.running ? "Syncing…" : "Sync all"}
        </Button>
        <span className="text-sm text-slate-600" data-testid="syncable-count">
          {data ? (syncableCount === 0 ? "Nothing to sync." : `${f.number(syncableCount)} ${syncableCount === 1 ? "task" : "tasks"} to sync`) : ""}
          {data && (data.counts.processing ?? 0) > 0 ? ` · ${f.number(data.counts.processing)} being synced` : ""}
        </span>
      </div>
      <SyncProgress sync={sync} />

      {notice && <Alert tone="success">{notice}</Alert>}
      {mutationError && <Alert tone="error">{mutationError.message}</Alert>}

      {selected.size > 0 && (
        <div className="flex flex-wrap items-center gap-3 rounded-md border border-slate-200 bg-slate-50 px-4 py-3" role="region" aria-label="Selected tasks">
          <span className="text-sm">{f.number(selected.size)} selected</span>
          {!viewingIgnored && !asking && (
            <Button type="button" onClick={syncSelected} disabled={sync.running}>
              Sync selected
            </Button>
          )}
          {viewingIgnored ? (
            <Button type="button" onClick={() => unignore.mutate()} disabled={unignore.isPending}>
              {unignore.isPending ? "Un-ignoring…" : "Un-ignore"}
            </Button>
          ) : asking ? (
            <form
              className="flex grow flex-wrap items-center gap-2"
              onSubmit={(e) => {
                e.preventDefault();
                ignore.mutate();
              }}
            >
              <label className="grow text-sm">
                <span className="sr-only">Reason for ignoring</span>
                <input
                  required
                  autoFocus
                  maxLength={500}
                  aria-label="Reason for ignoring"
                  className="w-full rounded-md border border-slate-300 px-2 py-1.5"
                  placeholder="Why are these tasks ignored? (required)"
                  value={reason}
                  onChange={(e) => setReason(e.target.value)}
                />
              </label>
              <Button type="submit" disabled={ignore.isPending || reason.trim() === ""}>
                {ignore.isPending ? "Ignoring…" : "Confirm ignore"}
              </Button>
              <Button type="button" variant="secondary" onClick={() => setAsking(false)}>Cancel</Button>
            </form>
          ) : (
            <Button type="button" variant="secondary" onClick={() => { setNotice(null); setAsking(true); }}>Ignore…</Button>
          )}
        </div>
      )}

      {isLoading ? (
        <p role="status">Loading tasks…</p>
      ) : isError ? (
        <Alert tone="error">Could not load tasks: {(error as Error).message}</Alert>
      ) : rows.length === 0 ? (
        <p className="text-slate-600">
          {filters.state || filters.type || filters.q ? "No tasks match these filters." : "No tasks yet. New marketplace orders arrive here by themselves, or use Check Changes on the dashboard."}
        </p>
      ) : (
        <table className="w-full text-left text-sm">
          <thead className="border-b border-slate-200 text-slate-500">
            <tr>
              <th className="w-8 py-2 pr-2">
                <input
                  type="checkbox"
                  aria-label="Select all on this page"
                  checked={allSelected}
                  disabled={selectableRows.length === 0}
                  onChange={() => setSelected(allSelected ? new Set() : new Set(selectableRows.map((t) => t.id)))}
                />
              </th>
              <th className="py-2 pr-4 font-medium">Order</th>
              <th className="py-2 pr-4 font-medium">Customer</th>
              <th className="py-2 pr-4 font-medium">Type</th>
              <th className="py-2 pr-4 font-medium">Items</th>
              <th className="py-2 pr-4 font-medium">State</th>
              <th className="py-2 pr-4 font-medium">Created</th>
              <th className="py-2 font-medium">Sage</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((t) => (
              <tr key={t.id} className="border-b border-slate-100 align-top" data-testid="task-row" data-order-id={t.marketplaceOrderId}>
                <td className="py-2 pr-2">
                  <input
                    type="checkbox"
                    aria-label={`Select ${t.marketplaceOrderId}`}
                    disabled={!selectable(t)}
                    checked={selected.has(t.id)}
                    onChange={() =>
                      setSelected((s) => {
                        const next = new Set(s);
                        if (next.has(t.id)) next.delete(t.id);
                        else next.add(t.id);
                        return next;
                      })
                    }
                  />
                </td>
                <td className="whitespace-nowrap py-2 pr-4 font-mono text-xs">
                  {t.marketplaceOrderId}
                  <div className="font-sans text-slate-400" title="How the order arrived">{t.source === "push" ? "pushed" : "Check Changes"}</div>
                  <Link href={`/tasks/${t.id}/trace`} className="font-sans text-brand underline" aria-label={`Trace of ${t.marketplaceOrderId}`} data-testid="task-trace-link">Trace</Link>
                </td>
                <td className="py-2 pr-4">
                  {t.customerName ?? "—"}
                  <div className="text-xs text-slate-500">{t.customerId}</div>
                </td>
                <td className="py-2 pr-4">{typeLabel(t)}</td>
                <td className="py-2 pr-4">
                  <ul className="space-y-0.5">
                    {t.items.map((i, n) => (
                      <li key={n} className={i.invalid ? "text-red-700" : ""}>{describeItem(i, f.number)}</li>
                    ))}
                  </ul>
                </td>
                <td className="py-2 pr-4">
                  <span data-testid="task-state" className={`whitespace-nowrap rounded px-2 py-0.5 text-xs ${TASK_STATE_STYLE[t.state]}`}>{TASK_STATE_LABELS[t.state]}</span>
                  {t.reason && <p className={`mt-1 max-w-xs text-xs ${t.state === "failed" ? "text-red-800" : "text-slate-600"}`} data-testid="task-reason">{t.reason}</p>}
                  {t.state === "ignored" && t.ignoredBy && <p className="text-xs text-slate-400">by {t.ignoredBy}{t.ignoredAt ? `, ${f.dateTime(t.ignoredAt)}` : ""}</p>}
                  {(t.state === "action_required" || t.state === "failed") && t.reasonLink && (
                    <Link href={withBackToTasks(t.reasonLink, filters)} className="text-xs text-brand underline">Fix this</Link>
                  )}
                </td>
                <td className="whitespace-nowrap py-2 pr-4" title={t.createdAt} data-testid="task-created">{f.dateTime(t.createdAt)}</td>
                <td className="py-2">
                  {(docsOf.get(t.id) ?? []).length > 0 && (
                    <ul className="space-y-0.5" aria-label={`Sage documents of ${t.marketplaceOrderId}`}>
                      {(docsOf.get(t.id) ?? []).map((d) => (
                        <li key={`${d.kind}-${d.sageId}`}>
                          {d.url ? (
                            <a href={d.url} target="_blank" rel="noopener noreferrer" className="whitespace-nowrap text-brand underline" data-testid="sage-document-link">
                              {documentLabel(d)}
                            </a>
                          ) : (
                            <span className="whitespace-nowrap" data-testid="sage-document-link" title="Open it in Sage 50 on your computer">
                              {documentLabel(d)}
                            </span>
                          )}
                        </li>
                      ))}
                    </ul>
                  )}
                  {SYNCABLE.includes(t.state) && (
                    <Button
                      type="button"
                      variant="secondary"
                      className="px-3 py-1"
                      aria-label={`Sync ${t.marketplaceOrderId}`}
                      disabled={sync.running}
                      onClick={() => {
                        setNotice(null);
                        sync.sync({ taskIds: [t.id], what: `Sync of ${t.marketplaceOrderId}` });
                      }}
                    >
                      Sync
                    </Button>
                  )}
                  {t.state === "processing" && <span className="text-xs text-slate-500">Syncing…</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {data && data.total > PAGE_SIZE && (
        <div className="flex items-center justify-between text-sm">
          <span className="text-slate-600">
            {f.number((filters.page - 1) * PAGE_SIZE + 1)}–{f.number(Math.min(filters.page * PAGE_SIZE, data.total))} of {f.number(data.total)}
          </span>
          <div className="flex gap-2">
            <Button type="button" variant="secondary" disabled={filters.page <= 1} onClick={() => setFilter({ page: filters.page - 1 })}>Previous</Button>
            <Button type="button" variant="secondary" disabled={filters.page >= pages} onClick={() => setFilter({ page: filters.page + 1 })}>Next</Button>
          </div>
        </div>
      )}
    </div>
  );
}
