"use server";

import { redirect } from "next/navigation";
import { z } from "zod";
import { getDb } from "@/db/client";
import { authorizeResellerAction } from "@/lib/auth/session";
import { actorFor } from "@/lib/auth/session-user";
import { InstallError, installFromMarketplace } from "@/lib/install/install";

const installSchema = z.object({ marketplace: z.string().min(1).max(100), account: z.string().min(1).max(100) });

export type InstallState = { error?: string };

export async function installAction(_prev: InstallState, form: FormData): Promise<InstallState> {
  const parsed = installSchema.safeParse(Object.fromEntries(form));
  if (!parsed.success) return { error: "The install link is missing the marketplace or the account. Start again from the marketplace store." };
  const { user, error } = await authorizeResellerAction("install Sage Integration", { refusal: "Only a reseller administrator can install Sage Integration.", loginReturnTo: "/install" });
  if (error !== undefined) return { error };
  try {
    await installFromMarketplace(await getDb(), { tenantId: user.tenantId, marketplaceId: parsed.data.marketplace, accountId: parsed.data.account, actor: actorFor(user) });
  } catch (e) {
    if (e instanceof InstallError) return { error: e.message };
    throw e;
  }
  redirect("/connect");
}
