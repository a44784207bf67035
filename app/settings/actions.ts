"use server";

import { redirect } from "next/navigation";
import { getDb } from "@/db/client";
import { authorizeResellerAction } from "@/lib/auth/session";
import { actorFor } from "@/lib/auth/session-user";
import { saveSettings, settingsInputSchema, type SettingsInput } from "@/lib/settings/settings";

export type SettingsState = { fieldErrors?: Partial<Record<keyof SettingsInput, string>>; error?: string; saved?: boolean; changes?: number };

export async function saveSettingsAction(_prev: SettingsState, form: FormData): Promise<SettingsState> {
  const parsed = settingsInputSchema.safeParse(Object.fromEntries(form));
  if (!parsed.success) {
    const fieldErrors: SettingsState["fieldErrors"] = {};
    for (const issue of parsed.error.issues) fieldErrors[issue.path[0] as keyof SettingsInput] ??= issue.message;
    return { fieldErrors, error: "Some settings need a value. Nothing was saved." };
  }
  const { user, error } = await authorizeResellerAction("save the settings", { refusal: "Only a reseller administrator can change settings.", loginReturnTo: "/settings" });
  if (error !== undefined) return { error };
  const { changes } = await saveSettings(await getDb(), { tenantId: user.tenantId, values: parsed.data, actor: actorFor(user) });
  if (form.get("setup") === "1") redirect("/dashboard");
  return { saved: true, changes: changes.length };
}
