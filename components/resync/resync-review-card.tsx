"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, Card } from "@/components/ui/card";
import { Button } from "@/components/ui/button";
import type { ResyncReviewCustomer, ResyncReviewView } from "@/lib/sync/resync-guard";

const KEY = ["resync-review"] as const;
const BY: Record<string, string> = { stored_id: "its mapping", email: "e-mail", reference: "reference", name: "name" };

async function fetchReview(): Promise<ResyncReviewView | null> {
  const res = await fetch("/api/resync-review", { headers: { Accept: "application/json" } });
  const json = (await res.json().catch(() => ({}))) as { review?: ResyncReviewView | null; error?: string };
  if (!res.ok) throw new Error(json.error ?? `The server answered ${res.status}.`);
  return json.review ?? null;
}

function CustomerList({ rows, total, contact }: { rows: ResyncReviewCustomer[]; total: number; contact: boolean }) {
  if (total === 0) return null;
  return (
    <ul className="max-h-64 overflow-y-auto divide-y divide-slate-100 rounded-md border border-slate-200 text-sm">
      {rows.map((r) => (
        <li key={r.customerId} className="flex flex-wrap justify-between gap-2 px-3 py-1.5">
          <span>
            {r.name} <span className="text-slate-500">({r.marketplaceCustomerId})</span>
          </span>
          {contact && r.sageContactName && (
            <span className="text-slate-600">
              → {r.sageContactName}
              {r.matchedBy && <span className="text-slate-500"> · by {BY[r.matchedBy] ?? r.matchedBy}</span>}
            </span>
          )}
        </li>
      ))}
      {total > rows.length && <li className="px-3 py-1.5 text-slate-500">… and {total - rows.length} more</li>}
    </ul>
  );
}

/**
 * Re-sync review (re-sync guard): "Reconnected to <business>: checking existing Sage contacts… 40 / 120",
 * then what a re-sync would do, with "Create the N missing contacts and sync" for the reseller only
 * (`readOnly` for support viewing the tenant; the server refuses support anyway). Polls while the
 * check or the creation runs. Renders nothing when there is no review or it finished long ago.
 */
export function ResyncReviewCard({ initial, readOnly = false }: { initial: ResyncReviewView | null; readOnly?: boolean }) {
  const queryClient = useQueryClient();
  const { data: review, error } = useQuery({
    queryKey: KEY,
    queryFn: fetchReview,
    initialData: initial,
    refetchInterval: (q) => (q.state.data && (q.state.data.status === "checking" || q.state.data.status === "creating") ? 1000 : false),
  });
  const confirm = useMutation({
    mutationFn: async () => {
      // a write: same-origin JSON (the write guard refuses anything else), no fields
      const res = await fetch("/api/resync-review/confirm", { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: "{}" });
      const json = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
      if (!res.ok) throw new Error(json.message ?? json.error ?? `The server answered ${res.status}.`);
      return json;
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: KEY }),
  });
  if (!review) return null;
  // a completed review is shown for a day after it finished, then it is history (Action Log)
  if (review.status === "completed" && review.finishedAt && Date.now() - new Date(review.finishedAt).getTime() > 24 * 3600_000) return null;
  const business = review.businessName ?? review.businessId;
  const { checked, total } = review.progress;
  const pct = total > 0 ? Math.round((checked / total) * 100) : 0;
  return (
    <Card title="Re-sync review">
      <div className="space-y-4" data-testid="resync-review">
        {review.status === "checking" && (
          <div className="space-y-2" role="status">
            <p className="text-sm">
              Reconnected to <strong>{business}</strong>: checking existing Sage contacts… {checked} / {total}
            </p>
            <div className="h-2 w-full rounded bg-slate-100" aria-hidden>
              <div className="h-2 rounded bg-brand" style={{ width: `${pct}%` }} />
            </div>
            <p className="text-xs text-slate-500">No Sage contact is created while the check runs; orders of customers already matched keep syncing.</p>
          </div>
        )}
        {review.status !== "checking" && (
          <p className="text-sm">
            Reconnected to <strong>{business}</strong>: {review.matched} {review.matched === 1 ? "customer" : "customers"} matched to existing Sage contacts
            {review.status === "awaiting_confirmation" && <>, {review.toCreate} would be created</>}
            {review.created > 0 && <>, {review.created} created</>}.
            {review.status === "awaiting_confirmation" && review.heldTasks > 0 && <> {review.heldTasks} {review.heldTasks === 1 ? "order waits" : "orders wait"} for your decision.</>}
          </p>
        )}
        {review.lastError && <Alert tone="error">The check stopped: {review.lastError}</Alert>}
        {review.matched > 0 && (
          <details>
            <summary className="cursor-pointer text-sm font-medium">Matched to existing contacts ({review.matched})</summary>
            <div className="mt-2"><CustomerList rows={review.matchedCustomers} total={review.matched} contact /></div>
          </details>
        )}
        {review.toCreate > 0 && review.status === "awaiting_confirmation" && (
          <details open>
            <summary className="cursor-pointer text-sm font-medium">Would be created ({review.toCreate})</summary>
            <div className="mt-2"><CustomerList rows={review.toCreateCustomers} total={review.toCreate} contact={false} /></div>
          </details>
        )}
        {review.status === "creating" && <p className="text-sm" role="status">Creating the missing contacts… {review.created} / {review.toCreate}</p>}
        {review.status === "completed" && <Alert tone="success">Re-sync done{review.confirmedBy ? ` (confirmed by ${review.confirmedBy})` : ""}: no customer has two Sage contacts.</Alert>}
        {review.status === "awaiting_confirmation" &&
          (readOnly ? (
            <p className="text-sm text-slate-600">Only the reseller&apos;s administrator can confirm this re-sync.</p>
          ) : (
            <div className="space-y-2">
              <Button type="button" disabled={confirm.isPending} onClick={() => confirm.mutate()}>
                Create the {review.toCreate} missing {review.toCreate === 1 ? "contact" : "contacts"} and sync
              </Button>
              <p className="text-xs text-slate-500">Map a customer by hand below first if it already has a Sage contact: it is then not created.</p>
            </div>
          ))}
        {(error || confirm.error) && <Alert tone="error">{(confirm.error ?? error)!.message}</Alert>}
      </div>
    </Card>
  );
}
