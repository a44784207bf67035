"use client";

import { useEffect, useRef, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useFormat } from "@/components/format";
import { Button } from "@/components/ui/button";
import { getJson, postJson } from "./api";
import { NoticeLine } from "./list-toolbar";
import { Dialog, SagePicker } from "./sage-picker";
import { useMappingRequests } from "./use-queued-requests";

type Fee = {
  feeKind: "cancellation";
  label: string;
  marketplaceProducts: { id: string; mpn: string; name: string; unitPrice: string | null; currency: string | null }[];
  mapping: { sageItemId: string; sageItemType: string; sageItemName: string; itemExists: boolean; deletedInSage?: true } | null;
};

/** Fees Mapping: which Sage item a fee (the cancellation fee) is invoiced as. */
export function FeesPane({ focus }: { focus?: boolean }) {
  const queryClient = useQueryClient();
  const f = useFormat();
  const ref = useRef<HTMLElement>(null);
  const [picking, setPicking] = useState<Fee | null>(null);
  const [notice, setNotice] = useState<{ tone: "success" | "error"; text: string } | null>(null);
  const fees = useQuery({ queryKey: ["mapping", "fees"], queryFn: ({ signal }) => getJson<{ fees: Fee[] }>("/api/mapping/fees", signal) });
  useEffect(() => {
    if (focus) ref.current?.scrollIntoView({ block: "start" });
  }, [focus]);
  const onDone = (text: string) => {
    setNotice({ tone: "success", text });
    void queryClient.invalidateQueries({ queryKey: ["mapping"] });
  };
  const map = useMutation({
    mutationFn: (v: { feeKind: string; sageItemId: string }) => postJson<{ changed: boolean }>("/api/mapping/fees", v),
    onSuccess: () => {
      setPicking(null);
      onDone("Fee mapping saved.");
    },
    onError: (e: Error) => {
      setPicking(null);
      setNotice({ tone: "error", text: e.message });
    },
  });
  const { track, isPending } = useMappingRequests();
  // "Create fee item in Sage": the marketplace fee product, looked up by item code in Sage and
  // created only if Sage has none (the same queued request as Add to Sage on the product)
  const createItem = useMutation({
    mutationFn: (productId: string) => postJson<{ requests: { productId: string; requestId: string }[] }>("/api/mapping/products/add-to-sage", { productIds: [productId], type: "service" }),
    onSuccess: (r, productId) => {
      setNotice(null);
      track(r.requests.map((q) => ({ requestId: q.requestId, kind: "add-to-sage" as const, subjectId: productId, label: "Creating the fee item in Sage" })));
    },
    onError: (e: Error) => setNotice({ tone: "error", text: e.message }),
  });
  const unmap = useMutation({
    mutationFn: (feeKind: string) => postJson<{ changed: boolean }>("/api/mapping/fees/unmap", { feeKind }),
    onSuccess: () => onDone("Fee unmapped."),
    onError: (e: Error) => setNotice({ tone: "error", text: e.message }),
  });
  return (
    <section ref={ref} id="fees" aria-labelledby="fees-title" className={`rounded-lg border bg-white p-6 shadow-sm ${focus ? "border-brand" : "border-slate-200"}`}>
      <h2 id="fees-title" className="mb-1 text-lg font-semibold">
        Fees mapping
      </h2>
      <p className="mb-4 text-sm text-slate-600">Fees on marketplace orders (such as the cancellation fee) are invoiced as this Sage item.</p>
      <NoticeLine notice={notice} />
      <ul className="divide-y divide-slate-100">
        {(fees.data?.fees ?? []).map((fee) => (
          <li key={fee.feeKind} className="flex flex-wrap items-center justify-between gap-4 py-3" data-testid={`fee-${fee.feeKind}`}>
            <div className="text-sm">
              <p className="font-medium">{fee.label}</p>
              <p className="text-slate-500">
                {fee.marketplaceProducts.length
                  ? `Marketplace: ${fee.marketplaceProducts.map((p) => `${p.name} (${p.mpn}${p.unitPrice ? `, ${f.money(p.unitPrice, p.currency)}` : ""})`).join(", ")}`
                  : "No fee product in the marketplace catalog yet."}
              </p>
            </div>
            <div className="flex items-center gap-3 text-sm">
              <span data-testid="fee-mapping" className={fee.mapping && (!fee.mapping.itemExists || fee.mapping.deletedInSage) ? "text-red-700" : ""}>
                {fee.mapping ? `→ ${fee.mapping.sageItemName}${!fee.mapping.itemExists ? " (no longer in Sage)" : fee.mapping.deletedInSage ? " — Deleted in Sage 50" : ""}` : <span className="text-amber-700">Not mapped</span>}
              </span>
              {fee.marketplaceProducts[0] && (!fee.mapping || !fee.mapping.itemExists) && (
                <Button
                  type="button"
                  onClick={() => createItem.mutate(fee.marketplaceProducts[0]!.id)}
                  disabled={createItem.isPending || isPending("add-to-sage", fee.marketplaceProducts[0].id)}
                  title={`A Sage service “${fee.marketplaceProducts[0].name}” (${fee.marketplaceProducts[0].mpn}) on Other Income, at the marketplace price — or the one Sage already has with that code`}
                >
                  {isPending("add-to-sage", fee.marketplaceProducts[0].id) ? "Creating fee item…" : "Create fee item in Sage"}
                </Button>
              )}
              <Button type="button" variant="secondary" onClick={() => setPicking(fee)} disabled={map.isPending}>
                {fee.mapping ? "Change Sage item…" : "Choose Sage item…"}
              </Button>
              {fee.mapping && (
                <button type="button" className="text-slate-700 hover:underline" onClick={() => unmap.mutate(fee.feeKind)} disabled={unmap.isPending}>
                  Unmap fee
                </button>
              )}
            </div>
          </li>
        ))}
      </ul>
      {picking && (
        <Dialog title={`Map the ${picking.label.toLowerCase()} to a Sage item`} onClose={() => setPicking(null)}>
          <SagePicker kind="item" disabled={map.isPending} onPick={(item) => map.mutate({ feeKind: picking.feeKind, sageItemId: item.sageId })} />
        </Dialog>
      )}
    </section>
  );
}
