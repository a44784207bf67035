"use client";

import { useCallback, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useFormat } from "@/components/format";
import { Button } from "@/components/ui/button";
import type { ProductRow } from "@/lib/mapping/products";
import { getJson, postJson } from "./api";
import { MappingFilterBar, NoticeLine, useRowSelection, useUrlFilters, type Notice } from "./list-toolbar";
import { Dialog, SagePicker, type SageItemOption } from "./sage-picker";
import { useMappingRequests, type Tracked } from "./use-queued-requests";
import { useVirtualPages, VirtualTable, type Page } from "./virtual-rows";


const COLS = "grid grid-cols-[2.5rem_minmax(0,2.2fr)_minmax(0,1fr)_6rem_minmax(0,2fr)_12rem] items-center gap-2 px-3";

export function ProductsTab({ initial }: { initial: { search: string; unmapped: boolean } }) {
  const queryClient = useQueryClient();
  const { track, isPending } = useMappingRequests();
  const filters = useUrlFilters(initial);
  const selection = useRowSelection(filters);
  const f = useFormat();
  const { selected } = selection;
  const [mapTarget, setMapTarget] = useState<{ ids: string[]; label: string } | null>(null);
  const [notice, setNotice] = useState<Notice>(null);

  const queryKey = ["mapping", "products", filters.debounced, filters.unmapped] as const;
  const fetchPage = useCallback(
    (offset: number, limit: number, signal: AbortSignal) =>
      getJson<Page<ProductRow>>(`/api/mapping/products?${new URLSearchParams({ search: filters.debounced, unmapped: filters.unmapped ? "1" : "0", offset: String(offset), limit: String(limit) })}`, signal),
    [filters.debounced, filters.unmapped],
  );
  const list = useVirtualPages<ProductRow>({ queryKey, fetchPage });

  const done = (text: string, tone: "success" | "info" = "success") => {
    setNotice({ tone, text });
    selection.clear();
    void queryClient.invalidateQueries({ queryKey: ["mapping"] });
  };
  const fail = (e: Error) => setNotice({ tone: "error", text: e.message });

  const map = useMutation({
    mutationFn: (v: { productIds: string[]; item: SageItemOption }) => postJson<{ mapped: number; unchanged: number }>("/api/mapping/products/map", { productIds: v.productIds, sageItemId: v.item.sageId }),
    onSuccess: (r, v) => {
      setMapTarget(null);
      done(r.mapped === 0 ? "Already mapped to that Sage item; nothing changed." : `Mapped ${r.mapped} product${r.mapped === 1 ? "" : "s"} to ${v.item.itemCode ?? ""} “${v.item.description}”.`);
    },
    onError: (e: Error) => {
      setMapTarget(null);
      fail(e);
    },
  });
  const unmap = useMutation({
    mutationFn: (productIds: string[]) => postJson<{ unmapped: number }>("/api/mapping/products/unmap", { productIds }),
    onSuccess: (r) => done(r.unmapped === 0 ? "Nothing to unmap." : `Unmapped ${r.unmapped} product${r.unmapped === 1 ? "" : "s"}.`, r.unmapped ? "success" : "info"),
    onError: fail,
  });
  const autoMatch = useMutation({
    mutationFn: (productIds?: string[]) => postJson<{ message: string; matched: number }>("/api/mapping/products/auto-match", { productIds }),
    onSuccess: (r) => done(r.message, r.matched > 0 ? "success" : "info"),
    onError: fail,
  });
  const addToSage = useMutation({
    mutationFn: (rows: ProductRow[]) => postJson<{ requests: { productId: string; requestId: string }[] }>("/api/mapping/products/add-to-sage", { productIds: rows.map((r) => r.id), type: "service" }),
    onSuccess: (r, rows) => {
      setNotice(null);
      selection.clear();
      track(
        r.requests.map((q): Tracked => {
          const row = rows.find((x) => x.id === q.productId);
          return { requestId: q.requestId, kind: "add-to-sage", subjectId: q.productId, label: `Adding ${row?.name ?? "product"} to Sage` };
        }),
      );
    },
    onError: fail,
  });

  const loaded = list.loadedRows();
  const allLoaded = selection.allOf(loaded);
  const selectedIds = selection.ids;
  const busy = map.isPending || unmap.isPending || autoMatch.isPending || addToSage.isPending;

  return (
    <div className="space-y-4">
      <MappingFilterBar filters={filters} searchLabel="Search products" placeholder="Name or MPN" total={list.total} noun="product" fetching={list.isFetching} totalTestId="product-total" />
      <div className="flex flex-wrap items-center gap-2">
        <Button type="button" onClick={() => autoMatch.mutate(selectedIds.length ? selectedIds : undefined)} disabled={busy}>
          {selectedIds.length ? `Auto-match selected (${f.number(selectedIds.length)})` : "Auto-match"}
        </Button>
        <Button type="button" variant="secondary" disabled={busy || selectedIds.length === 0} onClick={() => setMapTarget({ ids: selectedIds, label: `${f.number(selectedIds.length)} selected products` })}>
          Map selected…
        </Button>
        <Button type="button" variant="secondary" disabled={busy || selectedIds.length === 0} onClick={() => unmap.mutate(selectedIds)}>
          Unmap selected
        </Button>
        <Button type="button" variant="secondary" disabled={busy || selectedIds.length === 0} onClick={() => addToSage.mutate(loaded.filter((r) => selected.has(r.id)))}>
          Add selected to Sage
        </Button>
        {selectedIds.length > 0 && (
          <span className="text-sm text-slate-600" data-testid="selected-count">
            {f.number(selectedIds.length)} selected
          </span>
        )}
      </div>
      <NoticeLine notice={notice} />
      <VirtualTable
        list={list}
        label="Marketplace products"
        empty={filters.unmapped ? (filters.debounced ? "No unmapped product matches the search." : "Every product is mapped.") : filters.debounced ? "No product matches the search." : "No products yet. Refresh from the marketplace."}
        header={
          <div role="row" className={`${COLS} py-2`}>
            <span role="columnheader">
              <input type="checkbox" aria-label="Select all loaded products" checked={allLoaded.all} onChange={allLoaded.flip} />
            </span>
            <span role="columnheader">Product</span>
            <span role="columnheader">MPN</span>
            <span role="columnheader">Price</span>
            <span role="columnheader">Sage item</span>
            <span role="columnheader" className="text-right">Actions</span>
          </div>
        }
        renderRow={(row, index) => {
          const adding = isPending("add-to-sage", row.id);
          return (
            <div role="row" aria-rowindex={index + 2} data-testid="product-row" className={`${COLS} h-full border-b border-slate-100 text-sm ${selected.has(row.id) ? "bg-emerald-50" : ""}`}>
              <span role="cell">
                <input type="checkbox" aria-label={`Select ${row.name}`} checked={selected.has(row.id)} onChange={() => selection.toggle(row.id)} />
              </span>
              <span role="cell" className="truncate" title={row.name}>
                {row.name}
              </span>
              <span role="cell" className="truncate font-mono text-xs" title={row.mpn}>
                {row.mpn}
              </span>
              <span role="cell" className="text-slate-600">
                {row.unitPrice ? f.money(row.unitPrice, row.currency) : "—"}
              </span>
              <span role="cell" className="truncate" data-testid="product-mapping">
                {adding ? (
                  <span className="text-sky-700">Adding to Sage…</span>
                ) : row.mapping ? (
                  <span title={row.mapping.sageItemName} className={row.mapping.itemExists && !row.mapping.deletedInSage ? "" : "text-red-700"}>
                    {row.mapping.sageItemCode ? <span className="font-mono text-xs">{row.mapping.sageItemCode}</span> : null} {row.mapping.sageItemName}
                    {!row.mapping.itemExists ? " (no longer in Sage)" : row.mapping.deletedInSage ? <span data-testid="deleted-in-sage"> — Deleted in Sage 50</span> : null}
                  </span>
                ) : (
                  <span className="text-amber-700">Not mapped</span>
                )}
              </span>
              <span role="cell" className="flex justify-end gap-2">
                <button type="button" className="text-brand hover:underline disabled:opacity-50" disabled={busy || adding} onClick={() => setMapTarget({ ids: [row.id], label: row.name })}>
                  Map…
                </button>
                {row.mapping ? (
                  <button type="button" className="text-slate-700 hover:underline disabled:opacity-50" disabled={busy} onClick={() => unmap.mutate([row.id])}>
                    Unmap
                  </button>
                ) : (
                  <button type="button" className="text-slate-700 hover:underline disabled:opacity-50" disabled={busy || adding} onClick={() => addToSage.mutate([row])}>
                    Add to Sage
                  </button>
                )}
              </span>
            </div>
          );
        }}
      />
      {mapTarget && (
        <Dialog title={`Map ${mapTarget.label} to a Sage item`} onClose={() => setMapTarget(null)}>
          <SagePicker kind="item" disabled={map.isPending} onPick={(item) => map.mutate({ productIds: mapTarget.ids, item })} />
        </Dialog>
      )}
    </div>
  );
}
