import { z } from "zod";
import { getDb } from "@/db/client";
import { authorizeResellerAdmin, authorizeTenantRead } from "@/lib/auth/session";
import { actorFor } from "@/lib/auth/session-user";
import { MAX_TAX_RULES } from "@/lib/sync/tax-rules";
import { getTaxRules, saveTaxRules } from "@/lib/settings/tax-rules-settings";

/** `{ rules: [...] }` saves the table, `{ rules: null }` restores the defaults; each rule is checked by lib/. */
const bodySchema = z.object({ rules: z.array(z.unknown()).max(MAX_TAX_RULES, `At most ${MAX_TAX_RULES} rules. Nothing was saved.`).nullable() }).strict();

export async function GET() {
  const { access, error } = await authorizeTenantRead();
  if (error) return error;
  return Response.json(await getTaxRules(await getDb(), access.tenantId));
}

/** Settings › VAT by customer → Save rules / Restore defaults. */
export async function POST(request: Request) {
  const { user, error } = await authorizeResellerAdmin();
  if (error) return error;
  const parsed = bodySchema.safeParse(await request.json().catch(() => null));
  if (!parsed.success) return Response.json({ error: parsed.error.issues[0]?.message ?? "Send { \"rules\": [...] } or { \"rules\": null }. Nothing was saved." }, { status: 400 });
  const result = await saveTaxRules(await getDb(), { tenantId: user.tenantId, rules: parsed.data.rules, actor: actorFor(user) });
  if (!result.ok) return Response.json({ error: `The rules were not saved: ${result.errors.join("; ")}.`, errors: result.errors }, { status: 422 });
  return Response.json({ ...result.view, changed: result.changed });
}
