"use client";

import Link from "next/link";
import { useEffect, useRef, useState } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { Button } from "@/components/ui/button";
import { useFormat } from "@/components/format";
import { getJson, postJson } from "./api";
import { useMappingRequests, type Tracked } from "./use-queued-requests";

type Refresh = { at: string; ok: boolean; message: string } | null;
export type MappingStatus = {
  connection: { name: string; businessName: string | null; status: string } | null;
  sage: { lastRefresh: Refresh; items: number; contacts: number };
  marketplace: { lastRefresh: Refresh; products: number; customers: number };
  needsInitialRefresh: { sage: boolean; marketplace: boolean };
  counts: { products: { total: number; mapped: number; unmapped: number }; customers: { total: number; mapped: number; unmapped: number } };
};

export function useMappingStatus() {
  return useQuery({ queryKey: ["mapping", "status"], queryFn: ({ signal }) => getJson<MappingStatus>("/api/mapping/status", signal), refetchInterval: 60_000 });
}

function useNow(intervalMs = 30_000) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

/** "Refresh from marketplace" / "Refresh from Sage" with "refreshed N min ago"; the first visit starts both. */
export function RefreshBar() {
  const { track, isPending } = useMappingRequests();
  const status = useMappingStatus();
  const now = useNow();
  const f = useFormat();
  const refresh = useMutation({
    mutationFn: (source: "sage" | "marketplace" | "both") => postJson<{ requests: { source: "sage" | "marketplace"; requestId: string }[] }>("/api/mapping/refresh", { source }),
    onSuccess: ({ requests }) =>
      track(
        requests.map((r): Tracked => ({
          requestId: r.requestId,
          kind: r.source === "sage" ? "refresh-sage" : "refresh-marketplace",
          label: r.source === "sage" ? "Refreshing from Sage" : "Refreshing from the marketplace",
        })),
      ),
  });
  const started = useRef(false);
  const data = status.data;
  useEffect(() => {
    if (!data || started.current) return;
    const { sage, marketplace } = data.needsInitialRefresh;
    if (!sage && !marketplace) return;
    started.current = true;
    refresh.mutate(sage && marketplace ? "both" : sage ? "sage" : "marketplace");
  }, [data, refresh]);

  const sagePending = isPending("refresh-sage");
  const marketPending = isPending("refresh-marketplace");
  const line = (r: Refresh) => (r ? (r.ok ? `refreshed ${f.ago(r.at, now)}` : `last refresh failed ${f.ago(r.at, now)}`) : "not refreshed yet");
  return (
    <div className="flex flex-wrap items-start justify-between gap-4 rounded-lg border border-slate-200 bg-white px-4 py-3 text-sm" data-testid="refresh-bar">
      <div className="space-y-1">
        <p>
          <span className="font-medium">Marketplace:</span>{" "}
          <span data-testid="marketplace-refreshed">
            {data ? `${f.number(data.marketplace.products)} products, ${f.number(data.marketplace.customers)} customers — ${line(data.marketplace.lastRefresh)}` : "…"}
          </span>
        </p>
        <p>
          <span className="font-medium">Sage{data?.connection?.businessName ? ` (${data.connection.businessName})` : ""}:</span>{" "}
          <span data-testid="sage-refreshed">
            {!data ? "…" : data.connection ? `${f.number(data.sage.items)} items, ${f.number(data.sage.contacts)} contacts — ${line(data.sage.lastRefresh)}` : "not connected"}
          </span>
          {data && !data.connection && (
            <>
              {" "}
              <Link href="/connect" className="text-brand underline">Connect Sage</Link>
            </>
          )}
        </p>
        {data?.sage.lastRefresh && !data.sage.lastRefresh.ok && <p className="text-red-700">{data.sage.lastRefresh.message}</p>}
        {data?.marketplace.lastRefresh && !data.marketplace.lastRefresh.ok && <p className="text-red-700">{data.marketplace.lastRefresh.message}</p>}
      </div>
      <div className="flex gap-2">
        <Button type="button" variant="secondary" onClick={() => refresh.mutate("marketplace")} disabled={marketPending}>
          {marketPending ? "Refreshing…" : "Refresh from marketplace"}
        </Button>
        <Button type="button" variant="secondary" onClick={() => refresh.mutate("sage")} disabled={sagePending || !data?.connection}>
          {sagePending ? "Refreshing…" : "Refresh from Sage"}
        </Button>
      </div>
      {refresh.isError && (
        <p role="alert" className="w-full text-red-700">
          {refresh.error.message}
        </p>
      )}
    </div>
  );
}
