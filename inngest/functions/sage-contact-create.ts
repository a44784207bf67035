import { getDb } from "@/db/client";
import type { Actor } from "@/lib/log/action-log";
import { recordRequestFailure } from "@/lib/mapping/status";
import { createSageContactForCustomer } from "@/lib/sage-catalog/create-contact";
import { defineFunction } from "../define";

export const SAGE_CONTACT_CREATE_REQUESTED = "mapping/sage-contact.create.requested";
export type SageContactCreateData = { tenantId: string; customerId: string; requestId: string; actor: Actor };

/**
 * "Create contact in Sage": match first (stored id → e-mail → reference), create only when Sage
 * has no such contact (idempotency_id, reference = marketplace customer id), then map it.
 */
export const sageContactCreate = defineFunction(
  {
    id: "sage-contact-create",
    name: "Create a Sage contact for a marketplace customer",
    triggers: [{ event: SAGE_CONTACT_CREATE_REQUESTED }],
    concurrency: { limit: 1, key: "event.data.tenantId" },
    retries: 3,
    onFailure: async ({ event, error }) => {
      const data = (event.data as { event: { data: SageContactCreateData } }).event.data;
      await recordRequestFailure(await getDb(), { tenantId: data.tenantId, actor: data.actor, requestId: data.requestId, what: "Create contact in Sage", message: error.message, details: { op: "customer_create_in_sage", customerId: data.customerId } });
    },
  },
  async ({ event, step }) => {
    const data = event.data as SageContactCreateData;
    return step.run("create-contact-in-sage", async () => createSageContactForCustomer(await getDb(), data));
  },
);
