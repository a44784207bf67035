"use client";

import { useCallback, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useFormat } from "@/components/format";
import { Button } from "@/components/ui/button";
import type { CustomerRow } from "@/lib/mapping/customers";
import { getJson, postJson } from "./api";
import { MappingFilterBar, NoticeLine, useRowSelection, useUrlFilters, type Notice } from "./list-toolbar";
import { Dialog, SagePicker, type SageContactOption } from "./sage-picker";
import { useMappingRequests, type Tracked } from "./use-queued-requests";
import { useVirtualPages, VirtualTable, type Page } from "./virtual-rows";


const COLS = "grid grid-cols-[2.5rem_minmax(0,2fr)_minmax(0,1.6fr)_minmax(0,1.8fr)_6.5rem_13rem] items-center gap-2 px-3";

export function CustomersTab({ initial }: { initial: { search: string; unmapped: boolean } }) {
  const queryClient = useQueryClient();
  const { track, isPending } = useMappingRequests();
  const f = useFormat();
  const filters = useUrlFilters(initial);
  const selection = useRowSelection(filters);
  const { selected } = selection;
  const [mapTarget, setMapTarget] = useState<{ ids: string[]; label: string } | null>(null);
  const [notice, setNotice] = useState<Notice>(null);
  // the toggle flips at once; the server's answer (and the refetch) confirms or reverts it
  const [optimistic, setOptimistic] = useState<Record<string, boolean>>({});

  const queryKey = ["mapping", "customers", filters.debounced, filters.unmapped] as const;
  const fetchPage = useCallback(
    (offset: number, limit: number, signal: AbortSignal) =>
      getJson<Page<CustomerRow>>(`/api/mapping/customers?${new URLSearchParams({ search: filters.debounced, unmapped: filters.unmapped ? "1" : "0", offset: String(offset), limit: String(limit) })}`, signal),
    [filters.debounced, filters.unmapped],
  );
  const list = useVirtualPages<CustomerRow>({ queryKey, fetchPage });

  const done = (text: string, tone: "success" | "info" = "success") => {
    setNotice({ tone, text });
    selection.clear();
    void queryClient.invalidateQueries({ queryKey: ["mapping"] });
  };
  const fail = (e: Error) => setNotice({ tone: "error", text: e.message });

  const map = useMutation({
    mutationFn: (v: { customerIds: string[]; contact: SageContactOption }) => postJson<{ mapped: number }>("/api/mapping/customers/map", { customerIds: v.customerIds, sageContactId: v.contact.sageId }),
    onSuccess: (r, v) => {
      setMapTarget(null);
      done(r.mapped === 0 ? "Already mapped to that Sage contact; nothing changed." : `Mapped ${r.mapped} customer${r.mapped === 1 ? "" : "s"} to “${v.contact.name}”.`);
    },
    onError: (e: Error) => {
      setMapTarget(null);
      fail(e);
    },
  });
  const unmap = useMutation({
    mutationFn: (customerIds: string[]) => postJson<{ unmapped: number }>("/api/mapping/customers/unmap", { customerIds }),
    onSuccess: (r) => done(r.unmapped === 0 ? "Nothing to unmap." : `Unmapped ${r.unmapped} customer${r.unmapped === 1 ? "" : "s"}.`, r.unmapped ? "success" : "info"),
    onError: fail,
  });
  const autoMatch = useMutation({
    mutationFn: (customerIds?: string[]) => postJson<{ message: string; matched: number }>("/api/mapping/customers/auto-match", { customerIds }),
    onSuccess: (r) => done(r.message, r.matched > 0 ? "success" : "info"),
    onError: fail,
  });
  const autoSync = useMutation({
    mutationFn: (v: { customerIds: string[]; autoSync: boolean }) => postJson<{ changed: number }>("/api/mapping/customers/auto-sync", v),
    onMutate: (v) => setOptimistic((o) => ({ ...o, ...Object.fromEntries(v.customerIds.map((id) => [id, v.autoSync])) })),
    onSuccess: (r, v) => done(`Auto-sync ${v.autoSync ? "on" : "off"} for ${r.changed} customer${r.changed === 1 ? "" : "s"}.`, r.changed ? "success" : "info"),
    onError: fail,
    onSettled: async (_r, _e, v) => {
      await queryClient.invalidateQueries({ queryKey: ["mapping", "customers"] });
      setOptimistic((o) => Object.fromEntries(Object.entries(o).filter(([id]) => !v.customerIds.includes(id))));
    },
  });
  const createInSage = useMutation({
    mutationFn: (rows: CustomerRow[]) => postJson<{ requests: { customerId: string; requestId: string }[] }>("/api/mapping/customers/create-in-sage", { customerIds: rows.map((r) => r.id) }),
    onSuccess: (r, rows) => {
      setNotice(null);
      selection.clear();
      track(
        r.requests.map((q): Tracked => {
          const row = rows.find((x) => x.id === q.customerId);
          return { requestId: q.requestId, kind: "create-contact", subjectId: q.customerId, label: `Creating ${row?.name ?? "customer"} in Sage` };
        }),
      );
    },
    onError: fail,
  });

  const loaded = list.loadedRows();
  const allLoaded = selection.allOf(loaded);
  const selectedIds = selection.ids;
  const busy = map.isPending || unmap.isPending || autoMatch.isPending || createInSage.isPending || autoSync.isPending;

  return (
    <div className="space-y-4">
      <MappingFilterBar filters={filters} searchLabel="Search customers" placeholder="Name, e-mail or customer id" total={list.total} noun="customer" fetching={list.isFetching} totalTestId="customer-total" />
      <div className="flex flex-wrap items-center gap-2">
        <Button type="button" onClick={() => autoMatch.mutate(selectedIds.length ? selectedIds : undefined)} disabled={busy}>
          {selectedIds.length ? `Auto-match selected (${f.number(selectedIds.length)})` : "Auto-match"}
        </Button>
        <Button type="button" variant="secondary" disabled={busy || selectedIds.length === 0} onClick={() => setMapTarget({ ids: selectedIds, label: `${f.number(selectedIds.length)} selected customers` })}>
          Map selected…
        </Button>
        <Button type="button" variant="secondary" disabled={busy || selectedIds.length === 0} onClick={() => unmap.mutate(selectedIds)}>
          Unmap selected
        </Button>
        <Button type="button" variant="secondary" disabled={busy || selectedIds.length === 0} onClick={() => createInSage.mutate(loaded.filter((r) => selected.has(r.id)))}>
          Create selected in Sage
        </Button>
        <Button type="button" variant="secondary" disabled={busy || selectedIds.length === 0} onClick={() => autoSync.mutate({ customerIds: selectedIds, autoSync: true })}>
          Auto-sync on
        </Button>
        <Button type="button" variant="secondary" disabled={busy || selectedIds.length === 0} onClick={() => autoSync.mutate({ customerIds: selectedIds, autoSync: false })}>
          Auto-sync off
        </Button>
      </div>
      <NoticeLine notice={notice} />
      <VirtualTable
        list={list}
        label="Marketplace customers"
        empty={filters.unmapped ? (filters.debounced ? "No unmapped customer matches the search." : "Every customer is mapped.") : filters.debounced ? "No customer matches the search." : "No customers yet. Refresh from the marketplace."}
        header={
          <div role="row" className={`${COLS} py-2`}>
            <span role="columnheader">
              <input type="checkbox" aria-label="Select all loaded customers" checked={allLoaded.all} onChange={allLoaded.flip} />
            </span>
            <span role="columnheader">Customer</span>
            <span role="columnheader">E-mail</span>
            <span role="columnheader">Sage contact</span>
            <span role="columnheader">Auto-sync</span>
            <span role="columnheader" className="text-right">Actions</span>
          </div>
        }
        renderRow={(row, index) => {
          const creating = isPending("create-contact", row.id);
          const autoSyncOn = optimistic[row.id] ?? row.autoSync;
          return (
            <div role="row" aria-rowindex={index + 2} data-testid="customer-row" className={`${COLS} h-full border-b border-slate-100 text-sm ${selected.has(row.id) ? "bg-emerald-50" : ""}`}>
              <span role="cell">
                <input type="checkbox" aria-label={`Select ${row.name}`} checked={selected.has(row.id)} onChange={() => selection.toggle(row.id)} />
              </span>
              <span role="cell" className="truncate" title={`${row.name} (${row.marketplaceCustomerId})`}>
                {row.name} <span className="text-xs text-slate-500">{row.marketplaceCustomerId}</span>
              </span>
              <span role="cell" className="truncate text-slate-600" title={row.email ?? ""}>
                {row.email ?? "—"}
              </span>
              <span role="cell" className="truncate" data-testid="customer-mapping">
                {creating ? (
                  <span className="text-sky-700">Creating in Sage…</span>
                ) : row.mapping ? (
                  <span className={row.mapping.contactExists && !row.mapping.deletedInSage ? "" : "text-red-700"}>
                    {row.mapping.sageContactName ?? row.mapping.sageContactId}
                    {!row.mapping.contactExists ? " (no longer in Sage)" : row.mapping.deletedInSage ? <span data-testid="deleted-in-sage"> — Deleted in Sage 50</span> : null}
                  </span>
                ) : (
                  <span className="text-amber-700">Not mapped</span>
                )}
              </span>
              <span role="cell">
                <label className="inline-flex cursor-pointer items-center gap-2 align-middle">
                  <input
                    type="checkbox"
                    role="switch"
                    aria-label={`Auto-sync ${row.name}`}
                    checked={autoSyncOn}
                    // not `disabled` while saving: disabling the focused switch would throw the focus to the top of the page
                    aria-disabled={autoSync.isPending}
                    onChange={(e) => !autoSync.isPending && autoSync.mutate({ customerIds: [row.id], autoSync: e.target.checked })}
                    className="peer sr-only"
                  />
                  <span aria-hidden className="relative h-5 w-9 rounded-full bg-slate-300 transition peer-focus-visible:ring-2 peer-focus-visible:ring-brand peer-focus-visible:ring-offset-2 peer-checked:bg-brand after:absolute after:left-0.5 after:top-0.5 after:h-4 after:w-4 after:rounded-full after:bg-white after:transition peer-checked:after:translate-x-4" />
                  <span className="text-xs text-slate-600">{autoSyncOn ? "On" : "Off"}</span>
                </label>
              </span>
              <span role="cell" className="flex justify-end gap-2">
                <button type="button" className="text-brand hover:underline disabled:opacity-50" disabled={busy || creating} onClick={() => setMapTarget({ ids: [row.id], label: row.name })}>
                  Map…
                </button>
                {row.mapping ? (
                  <button type="button" className="text-slate-700 hover:underline disabled:opacity-50" disabled={busy} onClick={() => unmap.mutate([row.id])}>
                    Unmap
                  </button>
                ) : (
                  <button type="button" className="text-slate-700 hover:underline disabled:opacity-50" disabled={busy || creating} onClick={() => createInSage.mutate([row])}>
                    Create in Sage
                  </button>
                )}
              </span>
            </div>
          );
        }}
      />
      {mapTarget && (
        <Dialog title={`Map ${mapTarget.label} to a Sage contact`} onClose={() => setMapTarget(null)}>
          <SagePicker kind="contact" disabled={map.isPending} onPick={(contact) => map.mutate({ customerIds: mapTarget.ids, contact })} />
        </Dialog>
      )}
    </div>
  );
}
