"use client";

import Link from "next/link";
import { useCallback, useEffect, useRef, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useFormat } from "@/components/format";
import { formatNumber } from "@/lib/locale/format";
import type { Notification, NotificationsPage } from "@/lib/notifications/notifications";

/**
 * Pop-up messages (toasts) while any page is open: polls GET /api/notifications every 3 s for new
 * Action Log entries of the signed-in tenant (which ones pop up follows the Notifications setting).
 * The first poll of a tab starts at the newest entry, so nothing old pops up; the cursor is kept in
 * sessionStorage so a reload or navigation does not lose what arrived in between.
 */

type Toast = {
  key: string;
  level: "success" | "error" | "action_required" | "summary";
  title: string;
  message: string;
  links: { href: string; label: string }[];
};

const POLL_MS = 3_000;
/** more new entries than this in one poll become one summary toast */
const MAX_SINGLE = 3;
const MAX_VISIBLE = 5;
const RESUME_WITHIN_MS = 10 * 60_000;

const TITLES: Record<Toast["level"], string> = { success: "Synced", error: "Error", action_required: "Action required", summary: "New activity" };
const STYLE: Record<Toast["level"], string> = {
  success: "border-emerald-300 bg-emerald-50 text-emerald-950",
  error: "border-red-300 bg-red-50 text-red-950",
  action_required: "border-violet-300 bg-violet-50 text-violet-950",
  summary: "border-slate-300 bg-white text-slate-900",
};
const HIDE_AFTER_MS: Record<Toast["level"], number> = { success: 8_000, summary: 10_000, error: 15_000, action_required: 15_000 };

function toastOf(n: Notification): Toast {
  const level = n.level === "success" ? "success" : n.level === "error" ? "error" : "action_required";
  const links: Toast["links"] = [];
  if (n.orderId) links.push({ href: `/tasks?q=${encodeURIComponent(n.orderId)}`, label: "Open task" });
  if (n.fixLink) links.push({ href: n.fixLink, label: "Fix this" });
  links.push({ href: "/action-log", label: "Action Log" });
  return { key: `entry-${n.id}`, level, title: TITLES[level], message: n.message, links };
}

function summaryOf(page: NotificationsPage, num: (n: number) => string): Toast {
  const c = page.counts;
  const parts = [
    c.success ? `${num(c.success)} synced` : null,
    c.error ? `${num(c.error)} ${c.error === 1 ? "error" : "errors"}` : null,
    c.action_required ? `${num(c.action_required)} ${c.action_required === 1 ? "needs" : "need"} action` : null,
  ].filter(Boolean);
  const failing = (c.error ?? 0) + (c.action_required ?? 0) > 0;
  return {
    key: `summary-${page.cursor}`,
    level: failing ? (c.error ? "error" : "action_required") : "summary",
    title: TITLES.summary,
    message: `${parts.join(", ")}.`,
    links: [...(failing ? [{ href: "/tasks?state=" + (c.error ? "failed" : "action_required"), label: "Open tasks" }] : [{ href: "/tasks?state=synced", label: "Open tasks" }]), { href: "/action-log", label: "Action Log" }],
  };
}

function storageKey(tenantId: string) {
  return `sage-connector.notifications.${tenantId}`;
}

function savedCursor(tenantId: string): number | undefined {
  try {
    const raw = window.sessionStorage.getItem(storageKey(tenantId));
    if (!raw) return undefined;
    const { cursor, savedAt } = JSON.parse(raw) as { cursor: number; savedAt: number };
    return Number.isInteger(cursor) && Date.now() - savedAt < RESUME_WITHIN_MS ? cursor : undefined;
  } catch {
    return undefined;
  }
}

function saveCursor(tenantId: string, cursor: number) {
  try {
    window.sessionStorage.setItem(storageKey(tenantId), JSON.stringify({ cursor, savedAt: Date.now() }));
  } catch {
    /* private mode: a reload starts from the newest entry */
  }
}

export function Notifications({ tenantId }: { tenantId: string }) {
  const [ready, setReady] = useState(false);
  const [cursor, setCursor] = useState<number | undefined>(undefined);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const seen = useRef(new Set<string>());
  const { locale } = useFormat();
  const num = useCallback((n: number) => formatNumber(n, locale), [locale]);

  useEffect(() => {
    setCursor(savedCursor(tenantId));
    setReady(true);
  }, [tenantId]);

  const { data } = useQuery({
    queryKey: ["notifications", tenantId, cursor ?? "start"],
    enabled: ready,
    queryFn: async (): Promise<NotificationsPage> => {
      const res = await fetch(`/api/notifications${cursor === undefined ? "" : `?after=${cursor}`}`, { headers: { Accept: "application/json" } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return res.json();
    },
    refetchInterval: POLL_MS,
    staleTime: 0,
    gcTime: 0,
    retry: false,
  });

  useEffect(() => {
    if (!data) return;
    const fresh = data.entries.filter((e) => !seen.current.has(`entry-${e.id}`));
    const total = Object.values(data.counts).reduce((a, b) => a + (b ?? 0), 0);
    let add: Toast[] = [];
    if (total > MAX_SINGLE) {
      if (!seen.current.has(`summary-${data.cursor}`)) add = [summaryOf(data, num)];
    } else add = fresh.map(toastOf);
    for (const e of data.entries) seen.current.add(`entry-${e.id}`);
    for (const t of add) seen.current.add(t.key);
    if (add.length) setToasts((ts) => [...ts, ...add].slice(-MAX_VISIBLE));
    if (data.cursor !== cursor) {
      saveCursor(tenantId, data.cursor);
      setCursor(data.cursor);
    }
  }, [data, cursor, tenantId, num]);

  const dismiss = useCallback((key: string) => setToasts((ts) => ts.filter((t) => t.key !== key)), []);

  // The stack sits bottom-left, away from the row actions (Sync, Fix this) on the right of tables,
  // and the page grows by its height, so the last rows can always be scrolled clear of it.
  const stack = useRef<HTMLDivElement>(null);
  const [stackHeight, setStackHeight] = useState(0);
  useEffect(() => {
    const el = stack.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setStackHeight(toasts.length ? Math.ceil(el.getBoundingClientRect().height) + 16 : 0));
    observer.observe(el);
    return () => observer.disconnect();
  }, [toasts.length]);

  return (
    <>
      <div aria-hidden="true" data-testid="toast-spacer" style={{ height: stackHeight }} />
      <section aria-label="Notifications" className="pointer-events-none fixed bottom-4 left-4 z-50 w-[min(24rem,calc(100vw-2rem))]">
        <div ref={stack} role="status" aria-live="polite" aria-relevant="additions" className="flex flex-col gap-2">
          {toasts.map((t) => (
            <ToastCard key={t.key} toast={t} onDismiss={dismiss} />
          ))}
        </div>
      </section>
    </>
  );
}

function ToastCard({ toast, onDismiss }: { toast: Toast; onDismiss: (key: string) => void }) {
  const [paused, setPaused] = useState(false);
  const remaining = useRef(HIDE_AFTER_MS[toast.level]);
  useEffect(() => {
    if (paused) return;
    const started = Date.now();
    const timer = setTimeout(() => onDismiss(toast.key), remaining.current);
    return () => {
      clearTimeout(timer);
      remaining.current = Math.max(1_000, remaining.current - (Date.now() - started));
    };
  }, [paused, toast.key, onDismiss]);
  return (
    <div
      data-testid="toast"
      data-level={toast.level}
      className={`pointer-events-auto rounded-md border px-4 py-3 text-sm shadow-lg ${STYLE[toast.level]}`}
      onMouseEnter={() => setPaused(true)}
      onMouseLeave={() => setPaused(false)}
      onFocus={() => setPaused(true)}
      onBlur={() => setPaused(false)}
    >
      <div className="flex items-start justify-between gap-3">
        <p className="font-semibold">{toast.title}</p>
        <button type="button" aria-label="Dismiss notification" className="-mr-1 rounded px-1 leading-none opacity-70 hover:opacity-100" onClick={() => onDismiss(toast.key)}>
          ×
        </button>
      </div>
      <p className="mt-1 break-words" data-testid="toast-message">{toast.message}</p>
      <p className="mt-2 flex flex-wrap gap-3">
        {toast.links.map((l) => (
          <Link key={l.href + l.label} href={l.href} className="font-medium underline" onClick={() => onDismiss(toast.key)}>
            {l.label}
          </Link>
        ))}
      </p>
    </div>
  );
}
