"use server";

import { redirect } from "next/navigation";
import { z } from "zod";
import { getDb } from "@/db/client";
import { currentViewAs, getSessionUser } from "@/lib/auth/session";
import { clearViewAsCookie, setViewAsCookie } from "@/lib/auth/view-as";
import { endViewAs, startViewAs, ViewAsError } from "@/lib/support/view-as";

const viewAsSchema = z.object({ tenantId: z.string().uuid("Choose a tenant.") });

export type ViewAsState = { error?: string };

/** Support console: open the tenant's own pages read only (a banner on every page; every write refused and logged). */
export async function startViewAsAction(_prev: ViewAsState, form: FormData): Promise<ViewAsState> {
  const parsed = viewAsSchema.safeParse(Object.fromEntries(form));
  if (!parsed.success) return { error: parsed.error.issues[0]!.message };
  const user = await getSessionUser();
  if (!user) redirect("/login?callbackUrl=/support");
  if (user.role !== "support") return { error: "Only support staff can view a tenant's pages as the tenant." };
  try {
    const { token, expiresAt } = await startViewAs(await getDb(), { user, tenantId: parsed.data.tenantId });
    await setViewAsCookie(token, expiresAt);
  } catch (e) {
    if (e instanceof ViewAsError) return { error: e.message };
    throw e;
  }
  redirect("/dashboard");
}

/** The banner's "Stop viewing": back to the tenant's console page. */
export async function endViewAsAction() {
  const user = await getSessionUser();
  if (!user) redirect("/login?callbackUrl=/support");
  const viewAs = await currentViewAs(user);
  await clearViewAsCookie();
  if (viewAs) {
    await endViewAs(await getDb(), { user, tenantId: viewAs.tenantId });
    redirect(`/support/tenants/${viewAs.tenantId}`);
  }
  redirect("/support");
}
