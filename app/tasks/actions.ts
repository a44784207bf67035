"use server";

import { getDb } from "@/db/client";
import { authorizeResellerAction } from "@/lib/auth/session";
import { actorFor } from "@/lib/auth/session-user";
import { checkChanges, CheckChangesError } from "@/lib/marketplace/check-changes";

export type CheckChangesState = { ok?: boolean; message?: string; error?: string; newTasks?: number; webhooksMessage?: string; at?: string };

/** Dashboard "Check Changes": read new marketplace orders now (pull) and turn them into tasks. */
export async function checkChangesAction(): Promise<CheckChangesState> {
  const { user, error } = await authorizeResellerAction("run Check Changes", { refusal: "Only a reseller administrator can check for changes." });
  if (error !== undefined) return { error };
  try {
    const result = await checkChanges(await getDb(), { tenantId: user.tenantId, actor: actorFor(user) });
    return {
      ok: result.ok,
      message: result.message.replace(/^Check Changes: /, ""),
      newTasks: result.newTasks,
      webhooksMessage: result.webhooks && !result.webhooks.ok ? result.webhooks.message : undefined,
      at: new Date().toISOString(),
    };
  } catch (e) {
    if (e instanceof CheckChangesError) return { error: e.message };
    throw e;
  }
}
