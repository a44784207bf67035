"use client";

import { useEffect, useState } from "react";
import { usePathname } from "next/navigation";
import { useFormat } from "@/components/format";
import { useDebounced } from "./sage-picker";

/** What the two mapping lists (products, customers) share: filters in the URL, row selection, the filter bar, notices. */

export type Notice = { tone: "success" | "error" | "info"; text: string } | null;

export function NoticeLine({ notice }: { notice: Notice }) {
  if (!notice) return null;
  const tones = { success: "border-emerald-200 bg-emerald-50 text-emerald-900", error: "border-red-200 bg-red-50 text-red-900", info: "border-sky-200 bg-sky-50 text-sky-900" };
  return (
    <div role={notice.tone === "error" ? "alert" : "status"} data-testid="mapping-notice" className={`rounded-md border px-4 py-2 text-sm ${tones[notice.tone]}`}>
      {notice.text}
    </div>
  );
}

/** Keeps ?search= and ?unmapped=1 in the address bar (tasks link to /mapping/products?unmapped=1). */
export function useUrlFilters(initial: { search: string; unmapped: boolean }) {
  const pathname = usePathname();
  const [search, setSearch] = useState(initial.search);
  const [unmapped, setUnmapped] = useState(initial.unmapped);
  const debounced = useDebounced(search.trim(), 250);
  useEffect(() => {
    const params = new URLSearchParams(window.location.search);
    if (debounced) params.set("search", debounced);
    else params.delete("search");
    if (unmapped) params.set("unmapped", "1");
    else params.delete("unmapped");
    const next = params.toString();
    // no server round trip: Next.js keeps its router in step with history.replaceState
    if (next !== window.location.search.replace(/^\?/, "")) window.history.replaceState(null, "", `${pathname}${next ? `?${next}` : ""}`);
  }, [debounced, unmapped, pathname]);
  return { search, setSearch, unmapped, setUnmapped, debounced };
}

export type UrlFilters = ReturnType<typeof useUrlFilters>;

/** The rows ticked in a list; cleared whenever the filters change. */
export function useRowSelection(filters: UrlFilters) {
  const [selected, setSelected] = useState<Set<string>>(new Set());
  useEffect(() => setSelected(new Set()), [filters.debounced, filters.unmapped]);
  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  const clear = () => setSelected(new Set());
  /** every loaded row ticked? and the header checkbox's action */
  const allOf = (loaded: { id: string }[]) => {
    const all = loaded.length > 0 && loaded.every((r) => selected.has(r.id));
    return { all, flip: () => setSelected(all ? new Set() : new Set(loaded.map((r) => r.id))) };
  };
  return { selected, ids: [...selected], toggle, clear, allOf };
}

/** Search box, "Show only unmapped" and the row count above a mapping list. */
export function MappingFilterBar(props: { filters: UrlFilters; searchLabel: string; placeholder: string; total: number; noun: string; fetching: boolean; totalTestId: string }) {
  const { filters } = props;
  const f = useFormat();
  return (
    <div className="flex flex-wrap items-end gap-3">
      <label className="flex flex-col text-sm">
        <span className="mb-1 font-medium">{props.searchLabel}</span>
        <input
          type="search"
          value={filters.search}
          onChange={(e) => filters.setSearch(e.target.value)}
          placeholder={props.placeholder}
          className="w-72 rounded-md border border-slate-300 px-3 py-2"
        />
      </label>
      <label className="flex items-center gap-2 pb-2 text-sm">
        <input type="checkbox" checked={filters.unmapped} onChange={(e) => filters.setUnmapped(e.target.checked)} />
        Show only unmapped
      </label>
      <span className="pb-2 text-sm text-slate-500" data-testid={props.totalTestId}>
        {f.number(props.total)} {props.noun}
        {props.total === 1 ? "" : "s"}
        {props.fetching ? " (updating…)" : ""}
      </span>
    </div>
  );
}
