import { getDb } from "@/db/client";
import type { Actor } from "@/lib/log/action-log";
import { recordRequestFailure } from "@/lib/mapping/status";
import { createSageContactForCustomer } from "@/lib/sage-catalog/create-contact";
import { defineFunction } from "../define";
import { sageContactCreateRequested, type AppEventData } from "../events";
import { SAGE_CONNECTION_CONCURRENCY } from "./sage-concurrency";

/** @deprecated name kept for callers; use `sageContactCreateRequested` from inngest/events.ts */
export const SAGE_CONTACT_CREATE_REQUESTED = sageContactCreateRequested.name;
export type SageContactCreateData = AppEventData<typeof sageContactCreateRequested.name>;

/**
 * "Create contact in Sage": match first (stored id → e-mail → reference), create only when Sage
 * has no such contact (idempotency_id, reference = marketplace customer id), then map it.
 */
export const sageContactCreate = defineFunction(
  {
    id: "sage-contact-create",
    name: "Create a Sage contact for a marketplace customer",
    triggers: [sageContactCreateRequested],
    concurrency: SAGE_CONNECTION_CONCURRENCY,
    retries: 3,
    onFailure: async ({ event, error }) => {
      const data = (event.data as { event: { data: SageContactCreateData } }).event.data;
      await recordRequestFailure(await getDb(), { tenantId: data.tenantId, actor: data.actor, requestId: data.requestId, what: "Create contact in Sage", message: error.message, details: { op: "customer_create_in_sage", customerId: data.customerId } });
    },
  },
  async ({ event, step }) => {
    const data = event.data;
    return step.run("create-contact-in-sage", async () => createSageContactForCustomer(await getDb(), data));
  },
);
