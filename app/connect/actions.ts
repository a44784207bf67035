"use server";

import { redirect } from "next/navigation";
import { z } from "zod";
import { getDb } from "@/db/client";
import { resyncReviewRequested } from "@/inngest/events";
import { sendEvent } from "@/inngest/send";
import { authorizeResellerAction } from "@/lib/auth/session";
import { actorFor } from "@/lib/auth/session-user";
import { AuthorizeError, BusinessSelectionError, selectSageBusiness, startSageAuthorization } from "@/lib/connections/authorize";
import { startSageAuthorizationInPopup } from "@/lib/connections/consent-popup";
import { FileExchangeError, issuePasscode } from "@/lib/connections/file-exchange";
import { SAGE_TARGETS } from "@/lib/sage/targets";
import { getSettings } from "@/lib/settings/settings";

const connectSchema = z.object({
  product: z.string({ message: "Choose a Sage product." }).min(1, "Choose a Sage product."),
  country: z.string({ message: "Choose the country of your Sage business." }).min(2, "Choose the country of your Sage business."),
  /** "popup": the page runs in the marketplace's iframe and opens consent in a popup (no redirect) */
  mode: z.enum(["redirect", "popup"]).default("redirect"),
});

export type ConnectState = {
  error?: string;
  fieldErrors?: Partial<Record<"product" | "country", string>>;
  /** popup mode: the single-use ticket the page hands to its consent popup (lib/connections/consent-popup.ts) */
  ticket?: string;
  /** a fresh value per answer, so the page can tell two tickets apart */
  issuedAt?: number;
};

export async function startAuthorizationAction(_prev: ConnectState, form: FormData): Promise<ConnectState> {
  const parsed = connectSchema.safeParse(Object.fromEntries(form));
  if (!parsed.success) {
    const fieldErrors: ConnectState["fieldErrors"] = {};
    for (const issue of parsed.error.issues) fieldErrors[issue.path[0] as "product" | "country"] = issue.message;
    return { fieldErrors };
  }
  const { user, error } = await authorizeResellerAction("authorize a Sage connection", { refusal: "Support staff cannot authorize Sage for a reseller; the reseller must do it.", loginReturnTo: "/connect" });
  if (error !== undefined) return { error };
  const input = { tenantId: user.tenantId, userId: user.id, product: parsed.data.product, country: parsed.data.country, isSupport: false };
  let url: string;
  const target = Object.hasOwn(SAGE_TARGETS, input.product) ? SAGE_TARGETS[input.product as keyof typeof SAGE_TARGETS] : undefined;
  if (target?.exchange === "file_exchange") {
    // a passcode to enter in Sage 50 desktop instead of a sign-in page (works inside the iframe as is)
    try {
      await issuePasscode(await getDb(), { tenantId: user.tenantId, targetId: target.id, country: input.country, actor: actorFor(user), isSupport: input.isSupport });
    } catch (e) {
      if (e instanceof FileExchangeError) return { error: e.message };
      throw e;
    }
    redirect(`/connect/passcode?product=${encodeURIComponent(target.id)}&country=${encodeURIComponent(input.country)}`);
  }
  try {
    if (parsed.data.mode === "popup") {
      const { ticket } = await startSageAuthorizationInPopup(await getDb(), input);
      return { ticket, issuedAt: Date.now() };
    }
    url = await startSageAuthorization(await getDb(), input);
  } catch (e) {
    if (e instanceof AuthorizeError) return { error: e.message };
    throw e;
  }
  redirect(url);
}

const businessSchema = z.object({
  connectionId: z.string().uuid(),
  businessId: z.string({ message: "Choose a business." }).min(1, "Choose a business."),
  confirmChange: z.literal("on").optional(),
});

export type BusinessState = { error?: string };

export async function selectBusinessAction(_prev: BusinessState, form: FormData): Promise<BusinessState> {
  const parsed = businessSchema.safeParse(Object.fromEntries(form));
  if (!parsed.success) return { error: "Choose one of your Sage businesses." };
  const { user, error } = await authorizeResellerAction("choose the Sage business", { refusal: "Only a reseller administrator can choose the Sage business.", loginReturnTo: "/connect/business" });
  if (error !== undefined) return { error };
  const db = await getDb();
  try {
    const selected = await selectSageBusiness(db, { tenantId: user.tenantId, connectionId: parsed.data.connectionId, businessId: parsed.data.businessId, actor: actorFor(user), confirmChange: parsed.data.confirmChange === "on" });
    // no Sage contact id on any customer (changed business, or picked after a reconnect): the re-sync review checks first
    if (selected.resyncReviewId) await sendEvent(resyncReviewRequested.create({ tenantId: user.tenantId, connectionId: parsed.data.connectionId, reviewId: selected.resyncReviewId }, { id: `resync-review-${selected.resyncReviewId}` }));
  } catch (e) {
    if (e instanceof BusinessSelectionError) return { error: e.message };
    throw e;
  }
  const settings = await getSettings(db, user.tenantId);
  redirect(settings.confirmed ? "/dashboard" : "/settings?setup=1");
}
