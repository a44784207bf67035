"use client";

import { useEffect, useId, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useFormat } from "@/components/format";
import { getJson } from "./api";

export type SageItemOption = { sageId: string; type: "product" | "service"; itemCode: string | null; description: string; salesPrice: string | null; active: boolean; mappedProducts: number };
export type SageContactOption = { sageId: string; name: string; reference: string | null; email: string | null; currency: string | null; mappedCustomers: number };

export function useDebounced<T>(value: T, ms = 250): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/** A searchable list of the cached Sage items or contacts; picking one calls `onPick`. */
export function SagePicker(
  props:
    | { kind: "item"; onPick: (item: SageItemOption) => void; disabled?: boolean }
    | { kind: "contact"; onPick: (contact: SageContactOption) => void; disabled?: boolean },
) {
  const [search, setSearch] = useState("");
  const debounced = useDebounced(search, 200);
  const f = useFormat();
  const inputId = useId();
  const listId = useId();
  const url = props.kind === "item" ? "/api/mapping/sage-items" : "/api/mapping/sage-contacts";
  const query = useQuery({
    queryKey: ["mapping", "picker", props.kind, debounced],
    queryFn: ({ signal }) => getJson<{ items?: SageItemOption[]; contacts?: SageContactOption[] }>(`${url}?search=${encodeURIComponent(debounced)}&limit=50`, signal),
  });
  const label = props.kind === "item" ? "Sage item" : "Sage contact";
  const items = props.kind === "item" ? (query.data?.items ?? []) : [];
  const contacts = props.kind === "contact" ? (query.data?.contacts ?? []) : [];
  const empty = !query.isLoading && items.length === 0 && contacts.length === 0;
  // keyboard: ↑/↓ move through the options (aria-activedescendant; focus stays in the search box), Enter picks
  const [active, setActive] = useState(-1);
  const count = items.length + contacts.length;
  const [listKey, setListKey] = useState(debounced);
  if (listKey !== debounced) {
    setListKey(debounced);
    setActive(-1);
  }
  const pickAt = (index: number) => {
    if (props.disabled || index < 0) return;
    if (props.kind === "item" && items[index]) props.onPick(items[index]);
    if (props.kind === "contact" && contacts[index]) props.onPick(contacts[index]);
  };
  const onSearchKey = (e: React.KeyboardEvent<HTMLInputElement>) => {
    if (count === 0) return;
    if (e.key === "ArrowDown") {
      e.preventDefault();
      setActive((a) => Math.min(count - 1, a + 1));
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setActive((a) => Math.max(0, a - 1));
    } else if (e.key === "Home") {
      setActive(0);
    } else if (e.key === "End") {
      setActive(count - 1);
    } else if (e.key === "Enter" && active >= 0) {
      e.preventDefault();
      pickAt(active);
    }
  };
  const optionId = (index: number) => `${listId}-option-${index}`;
  useEffect(() => {
    if (active >= 0) document.getElementById(optionId(active))?.scrollIntoView({ block: "nearest" });
  });
  return (
    <div className="space-y-2">
      <label htmlFor={inputId} className="block text-sm font-medium">
        Search {label}s
      </label>
      <input
        id={inputId}
        role="combobox"
        aria-controls={listId}
        aria-expanded="true"
        aria-autocomplete="list"
        aria-activedescendant={active >= 0 ? optionId(active) : undefined}
        onKeyDown={onSearchKey}
        aria-label={label}
        autoFocus
        value={search}
        onChange={(e) => setSearch(e.target.value)}
        placeholder={props.kind === "item" ? "Item code or description" : "Name, reference or e-mail"}
        className="w-full rounded-md border border-slate-300 px-3 py-2 text-sm"
      />
      <ul id={listId} role="listbox" aria-label={`${label}s`} className="max-h-72 overflow-auto rounded-md border border-slate-200">
        {query.isLoading && <li className="px-3 py-2 text-sm text-slate-500">Loading…</li>}
        {empty && <li className="px-3 py-2 text-sm text-slate-500">No {label} matches. Refresh from Sage if it was added in Sage just now.</li>}
        {items.map((i, index) => (
          <li
            key={i.sageId}
            id={optionId(index)}
            role="option"
            aria-selected={index === active}
            tabIndex={0}
            aria-disabled={props.disabled}
            onClick={() => !props.disabled && (props.onPick as (x: SageItemOption) => void)(i)}
            onKeyDown={(e) => e.key === "Enter" && !props.disabled && (props.onPick as (x: SageItemOption) => void)(i)}
            className="cursor-pointer border-b border-slate-100 px-3 py-2 text-sm last:border-0 hover:bg-slate-50 focus:bg-slate-100 focus:outline-none aria-selected:bg-brand/10 aria-selected:ring-2 aria-selected:ring-inset aria-selected:ring-brand"
          >
            <span className="font-mono text-xs">{i.itemCode ?? "—"}</span> {i.description}
            <span className="ml-2 text-xs text-slate-500">
              {i.type}
              {i.salesPrice ? ` · ${f.money(i.salesPrice, null)}` : ""}
              {i.mappedProducts > 0 ? ` · mapped to ${f.number(i.mappedProducts)} product${i.mappedProducts === 1 ? "" : "s"}` : ""}
            </span>
          </li>
        ))}
        {contacts.map((c, index) => (
          <li
            key={c.sageId}
            id={optionId(index)}
            role="option"
            aria-selected={index === active}
            tabIndex={0}
            aria-disabled={props.disabled}
            onClick={() => !props.disabled && (props.onPick as (x: SageContactOption) => void)(c)}
            onKeyDown={(e) => e.key === "Enter" && !props.disabled && (props.onPick as (x: SageContactOption) => void)(c)}
            className="cursor-pointer border-b border-slate-100 px-3 py-2 text-sm last:border-0 hover:bg-slate-50 focus:bg-slate-100 focus:outline-none aria-selected:bg-brand/10 aria-selected:ring-2 aria-selected:ring-inset aria-selected:ring-brand"
          >
            {c.name}
            <span className="ml-2 text-xs text-slate-500">
              {[c.reference, c.email, c.mappedCustomers > 0 ? `mapped to ${f.number(c.mappedCustomers)} customer${c.mappedCustomers === 1 ? "" : "s"}` : null].filter(Boolean).join(" · ")}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** A modal panel (used to pick the Sage item/contact to map to). */
export function Dialog({ title, onClose, children }: { title: string; onClose: () => void; children: React.ReactNode }) {
  // focus goes back where it was (the button that opened the dialog) when the dialog closes; read
  // while rendering, before the search box inside takes the focus
  const [opener] = useState(() => (typeof document !== "undefined" && document.activeElement instanceof HTMLElement ? document.activeElement : null));
  useEffect(
    () => () => {
      // the opener may still be disabled while the choice is being saved: try again for a moment
      const restore = (tries: number) => {
        if (!opener?.isConnected) return;
        if ((opener as HTMLButtonElement).disabled && tries > 0) return void setTimeout(() => restore(tries - 1), 50);
        opener.focus();
      };
      restore(40);
    },
    [opener],
  );
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);
  return (
    <div className="fixed inset-0 z-40 flex items-start justify-center bg-slate-900/30 p-4 pt-24" onClick={onClose}>
      <div role="dialog" aria-modal="true" aria-label={title} className="w-full max-w-xl rounded-lg bg-white p-5 shadow-xl" onClick={(e) => e.stopPropagation()}>
        <div className="mb-3 flex items-center justify-between">
          <h2 className="text-lg font-semibold">{title}</h2>
          <button type="button" onClick={onClose} className="text-sm text-slate-600 hover:underline">
            Cancel
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}
