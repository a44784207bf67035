import { getDb } from "@/db/client";
import { sageContactCreateRequested } from "@/inngest/events";
import { sendEvent } from "@/inngest/send";
import { planCreateContacts } from "@/lib/mapping/requests";
import { createContactsInputSchema } from "@/lib/sage-catalog/create-contact";
import { actorFor, answer, badRequest, parseBody, resellerAdmin } from "../../_shared";

/** "Create contact in Sage": one Inngest run per customer (match before create); poll /api/mapping/requests. */
export async function POST(request: Request) {
  const parsed = await parseBody(request, createContactsInputSchema);
  if (!parsed.success) return badRequest(parsed.error);
  const { user, error } = await resellerAdmin();
  if (error) return error;
  return answer(async () => {
    const requests = await planCreateContacts(await getDb(), { tenantId: user.tenantId, customerIds: parsed.data.customerIds });
    await sendEvent(
      requests.map((r) =>
        sageContactCreateRequested.create({ tenantId: user.tenantId, connectionId: r.connectionId, customerId: r.customerId, requestId: r.requestId, actor: actorFor(user) }, { id: r.requestId }),
      ),
    );
    return { requests };
  }, 202);
}
