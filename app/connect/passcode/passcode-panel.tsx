"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { Button } from "@/components/ui/button";
import { Alert } from "@/components/ui/card";

type Passcode = { id: string; passcode: string; expiresAt: string; status: "waiting" | "granted" | "denied" | "expired"; connectionId: string | null };

function remaining(expiresAt: string, now: number): string {
  const s = Math.max(0, Math.round((Date.parse(expiresAt) - now) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** The passcode with its expiry counting down, a "New passcode" button, the next steps; polls until access is granted. */
export function PasscodePanel({ product, label, initial }: { product: string; label: string; initial: Passcode }) {
  const router = useRouter();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const query = useQuery({
    queryKey: ["passcode", product],
    queryFn: async (): Promise<Passcode> => {
      const res = await fetch(`/api/connect/passcode?product=${encodeURIComponent(product)}`, { headers: { accept: "application/json" } });
      if (!res.ok) throw new Error(`Could not read the passcode (HTTP ${res.status})`);
      return ((await res.json()) as { passcode: Passcode }).passcode;
    },
    initialData: initial,
    refetchInterval: (q) => (q.state.data?.status === "waiting" ? 2000 : false),
  });
  const renew = useMutation({
    mutationFn: async (): Promise<Passcode> => {
      const res = await fetch("/api/connect/passcode", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ product, country: new URLSearchParams(window.location.search).get("country") ?? "gb" }) });
      const body = (await res.json().catch(() => ({}))) as { passcode?: Passcode; error?: string };
      if (!res.ok || !body.passcode) throw new Error(body.error ?? `Could not get a new passcode (HTTP ${res.status})`);
      return body.passcode;
    },
    onSuccess: (p) => query.refetch().then(() => p),
  });
  const p = query.data;
  const expired = p.status === "expired" || (p.status === "waiting" && Date.parse(p.expiresAt) <= now);
  useEffect(() => {
    if (p.status === "granted") router.push("/settings?setup=1");
  }, [p.status, router]);
  return (
    <div className="space-y-6">
      {p.status === "granted" && <Alert tone="success">Access granted: {label} is connected. Opening Settings…</Alert>}
      {p.status === "denied" && <Alert tone="error">Access was denied in Sage 50. Get a new passcode to try again.</Alert>}
      {renew.error && <Alert tone="error">{renew.error.message}</Alert>}
      <div className="rounded-md border border-slate-300 p-4 text-center">
        <p className="text-sm text-slate-600">Your passcode</p>
        <p className="mt-1 font-mono text-3xl tracking-widest" data-testid="passcode">{p.passcode}</p>
        <p className="mt-2 text-sm" data-testid="passcode-expiry" aria-live="polite">
          {expired ? "This passcode has expired." : p.status === "waiting" ? `Expires in ${remaining(p.expiresAt, now)}` : ""}
        </p>
      </div>
      <ol className="list-decimal space-y-1 pl-5 text-sm">
        <li>Open Sage 50 on the computer that holds your company.</li>
        <li>Go to the connected services (Sage 50 Cloud) settings and choose to connect an application.</li>
        <li>Enter the passcode above and allow access to e-Commerce data for “Sage Connector”.</li>
        <li>Stay on this page: it continues by itself as soon as Sage 50 confirms.</li>
      </ol>
      <Button type="button" onClick={() => renew.mutate()} disabled={renew.isPending}>
        {renew.isPending ? "Asking Sage for a passcode…" : "New passcode"}
      </Button>
    </div>
  );
}
