import { getDb } from "@/db/client";
import { sageItemCreateRequested } from "@/inngest/events";
import { sendEvent } from "@/inngest/send";
import { planAddProductsToSage } from "@/lib/mapping/requests";
import { addProductsToSageInputSchema } from "@/lib/sage-catalog/create-item";
import { actorFor, answer, badRequest, parseBody, resellerAdmin } from "../../_shared";

/** "Add product to Sage": one Inngest run per product (it talks to Sage); poll /api/mapping/requests. */
export async function POST(request: Request) {
  const parsed = await parseBody(request, addProductsToSageInputSchema);
  if (!parsed.success) return badRequest(parsed.error);
  const { user, error } = await resellerAdmin();
  if (error) return error;
  return answer(async () => {
    const requests = await planAddProductsToSage(await getDb(), { tenantId: user.tenantId, productIds: parsed.data.productIds });
    await sendEvent(
      requests.map((r) =>
        sageItemCreateRequested.create(
          { tenantId: user.tenantId, connectionId: r.connectionId, productId: r.productId, requestId: r.requestId, type: parsed.data.type, actor: actorFor(user) },
          { id: r.requestId },
        ),
      ),
    );
    return { requests };
  }, 202);
}
