import { getDb } from "@/db/client";
import type { Actor } from "@/lib/log/action-log";
import { recordRequestFailure } from "@/lib/mapping/status";
import { addProductToSage, type SageItemTypeForCreate } from "@/lib/sage-catalog/create-item";
import { defineFunction } from "../define";
import { sageItemCreateRequested, type AppEventData } from "../events";
import { SAGE_CONNECTION_CONCURRENCY } from "./sage-concurrency";

/** @deprecated name kept for callers; use `sageItemCreateRequested` from inngest/events.ts */
export const SAGE_ITEM_CREATE_REQUESTED = sageItemCreateRequested.name;
export type SageItemCreateData = AppEventData<typeof sageItemCreateRequested.name>;

/**
 * "Add product to Sage": look the MPN up as an item code, create the service/product only when
 * Sage has none (with an idempotency_id), then map it. One at a time per tenant, so two clicks
 * for the same product cannot both create.
 */
export const sageItemCreate = defineFunction(
  {
    id: "sage-item-create",
    name: "Add a marketplace product to Sage",
    triggers: [sageItemCreateRequested],
    concurrency: SAGE_CONNECTION_CONCURRENCY,
    retries: 3,
    onFailure: async ({ event, error }) => {
      const data = (event.data as { event: { data: SageItemCreateData } }).event.data;
      await recordRequestFailure(await getDb(), { tenantId: data.tenantId, actor: data.actor, requestId: data.requestId, what: "Add product to Sage", message: error.message, details: { op: "product_add_to_sage", productId: data.productId } });
    },
  },
  async ({ event, step }) => {
    const data = event.data;
    return step.run("add-product-to-sage", async () => addProductToSage(await getDb(), data));
  },
);
