"use client";

import Link from "next/link";
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Button } from "@/components/ui/button";
import { useFormat } from "@/components/format";
import { Alert } from "@/components/ui/card";
import { linkButtonClass } from "@/components/ui/button";
import type { ConnectionOverview } from "@/lib/connections/overview";

const STATUS_LABEL: Record<ConnectionOverview["status"], string> = {
  connected: "Connected",
  refreshing: "Refreshing",
  reconnect_required: "Reconnect required",
  disconnected: "Disconnected",
};

export function ConnectionStatus({ initial }: { initial: ConnectionOverview | null }) {
  const queryClient = useQueryClient();
  const f = useFormat();
  const [watchUntil, setWatchUntil] = useState(0);
  const [confirming, setConfirming] = useState(false);
  const disconnect = useMutation({
    mutationFn: async () => {
      const res = await fetch("/api/connection/disconnect", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ confirm: true }) });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
      return body;
    },
    onSuccess: () => {
      setConfirming(false);
      void queryClient.invalidateQueries({ queryKey: ["connection"] });
    },
  });
  const test = useMutation({
    mutationFn: async () => {
      const res = await fetch("/api/connection/test", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
      return body;
    },
    onSuccess: () => setWatchUntil(Date.now() + 15_000),
  });
  const { data } = useQuery({
    queryKey: ["connection"],
    queryFn: async (): Promise<ConnectionOverview | null> => {
      const res = await fetch("/api/connection");
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return (await res.json()).connection;
    },
    initialData: initial,
    // poll quickly while a requested test is running, slowly otherwise
    refetchInterval: () => (Date.now() < watchUntil ? 1_000 : 15_000),
  });
  if (!data) {
    return (
      <div className="space-y-3">
        <p>No Sage account is connected yet.</p>
        <Link href="/connect" className={linkButtonClass}>Connect Sage</Link>
      </div>
    );
  }
  return (
    <div className="space-y-4">
      {data.status === "reconnect_required" && (
        <Alert tone="error" role="alert">
          <div className="flex items-center justify-between gap-4">
            <span>
              Sage no longer accepts this connection&apos;s credentials, so nothing can be synced. Reconnect to authorize Sage again — your mappings and
              history are kept.
            </span>
            <Link href="/connect" className={linkButtonClass}>Reconnect</Link>
          </div>
        </Alert>
      )}
      {data.status === "disconnected" && (
        <Alert tone="warning" role="alert">
          <div className="flex items-center justify-between gap-4" data-testid="disconnected-banner">
            <span>
              Disconnected from Sage{data.businessName ? ` (${data.businessName})` : ""}: syncs are paused and no tokens are kept. Your mappings and history are kept —
              connect again to resume where you left off.
            </span>
            <Link href="/connect" className={linkButtonClass}>Connect again</Link>
          </div>
        </Alert>
      )}
      {data.refreshLapse && (
        <Alert tone="warning" role="alert">
          <div className="flex items-center justify-between gap-4" data-testid="refresh-lapse-warning">
            <span>
              Sage&apos;s sign-in for this connection lapses {data.refreshLapse.daysLeft === 0 ? "today" : `in ${data.refreshLapse.daysLeft} ${data.refreshLapse.daysLeft === 1 ? "day" : "days"}`} (
              {f.date(data.refreshLapse.at)}) unless it is used: the daily keep-alive has not refreshed it. Keep it connected now; if
              that fails, reconnect.
            </span>
            <Button type="button" onClick={() => test.mutate()} disabled={test.isPending}>
              {test.isPending ? "Queuing…" : "Keep connected"}
            </Button>
          </div>
        </Alert>
      )}
      {data.needsBusiness && data.status !== "disconnected" && (
        <Alert tone="warning">
          Choose which Sage business to use. <Link href="/connect/business" className="underline">Choose business</Link>
        </Alert>
      )}
      <dl className="grid grid-cols-[12rem_1fr] gap-y-2 text-sm">
        <dt className="text-slate-500">Sage product</dt>
        <dd>{data.name}</dd>
        <dt className="text-slate-500">Status</dt>
        <dd data-testid="connection-status">{STATUS_LABEL[data.status]}</dd>
        <dt className="text-slate-500">Business</dt>
        <dd data-testid="connection-business">{data.businessName ?? "—"} <span className="uppercase text-slate-400">{data.country}</span></dd>
        <dt className="text-slate-500">Token age</dt>
        <dd title={data.tokensIssuedAt ?? undefined}>{f.duration(data.tokenAgeSeconds)}</dd>
        <dt className="text-slate-500">Latest activity</dt>
        <dd data-testid="connection-last-event">{data.lastAuthEvent ? `${data.lastAuthEvent.message} (${f.time(data.lastAuthEvent.at, { seconds: true })})` : "—"}</dd>
      </dl>
      <div className="flex items-center gap-3">
        {data.status !== "disconnected" && (
          <Button type="button" variant="secondary" onClick={() => test.mutate()} disabled={test.isPending || data.status === "reconnect_required"}>
            {test.isPending ? "Queuing…" : "Test connection"}
          </Button>
        )}
        {data.status !== "disconnected" && (
          <Link href="/connect" className="text-sm text-brand hover:underline" title="Authorize Sage again; the same business keeps its mappings and history">
            Reconnect
          </Link>
        )}
        {data.status !== "disconnected" && !data.needsBusiness && (
          <Link href="/connect/business" className="text-sm text-brand hover:underline">
            Change business…
          </Link>
        )}
        {data.status !== "disconnected" && !confirming && (
          <button type="button" className="text-sm text-red-700 hover:underline" onClick={() => setConfirming(true)}>
            Disconnect…
          </button>
        )}
        {test.isError && <span role="alert" className="text-sm text-red-700">{test.error.message}</span>}
        {test.isSuccess && <span role="status" className="text-sm text-slate-600">Test queued — the result appears above and in the Action Log.</span>}
      </div>
      {confirming && (
        <div role="alertdialog" aria-labelledby="disconnect-title" className="space-y-3 rounded-md border border-red-200 bg-red-50 p-4 text-sm">
          <p id="disconnect-title" className="font-semibold text-red-900">Disconnect from Sage?</p>
          <p className="text-red-900">
            The Sage tokens are deleted here and nothing is synced until you connect again. Mappings, tasks and the Action Log are kept. Sage publishes no way for
            an app to revoke its own access: to revoke it at Sage as well, remove Sage Connector in Sage&apos;s settings.
          </p>
          <div className="flex gap-3">
            <Button type="button" onClick={() => disconnect.mutate()} disabled={disconnect.isPending}>
              {disconnect.isPending ? "Disconnecting…" : "Disconnect now"}
            </Button>
            <Button type="button" variant="secondary" onClick={() => setConfirming(false)} disabled={disconnect.isPending}>
              Cancel
            </Button>
          </div>
          {disconnect.isError && <p role="alert" className="text-red-700">{disconnect.error.message}</p>}
        </div>
      )}
    </div>
  );
}
