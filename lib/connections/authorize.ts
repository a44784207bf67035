import { and, desc, eq, isNotNull, ne, sql } from "drizzle-orm";
import type { Database, Queryable } from "@/db/client";
import { connections, customerMappings, feeMappings, productMappings, sageContacts, sageItems, type SageBusinessSummary } from "@/db/schema";
import { getConfig } from "@/lib/config";
import { findInstallation, getMainBranch } from "@/lib/install/install";
import { writeActionLog, type Actor } from "@/lib/log/action-log";
import { consumeOAuthState, issueOAuthState, OAuthStateError } from "@/lib/oauth/state";
import { SageError } from "@/lib/sage/errors";
import { SAGE_TARGETS, getApiTarget } from "@/lib/sage/targets";
import { getSettings } from "@/lib/settings/settings";
import { releaseTasksHaltedByReconnect } from "@/lib/sync/reconnect-halt";
import { openResyncReviewIfNeeded } from "@/lib/sync/resync-guard";
import { sealCredentials } from "./credentials";
import { forgetAccessToken } from "./tokens";

export class AuthorizeError extends Error {
  constructor(readonly reason: "not_installed" | "unknown_product" | "unknown_country" | "support_cannot_authorize", message: string) {
    super(message);
  }
}

export type StartAuthorizationInput = { tenantId: string; userId: string; product: string; country: string; isSupport?: boolean };

/** Step 1: the reseller picked a Sage product and country → Sage's consent URL with a fresh state. */
export async function startSageAuthorization(db: Database, input: StartAuthorizationInput): Promise<string> {
  if (input.isSupport) throw new AuthorizeError("support_cannot_authorize", "Support staff cannot authorize Sage for a reseller; the reseller must do it.");
  const target = Object.hasOwn(SAGE_TARGETS, input.product) ? SAGE_TARGETS[input.product as keyof typeof SAGE_TARGETS] : undefined;
  if (!target) throw new AuthorizeError("unknown_product", "Choose a Sage product.");
  if (target.exchange !== "api") throw new AuthorizeError("unknown_product", `${target.label} connects with a passcode, not through Sage's sign-in page.`);
  if (!target.countries.some((c) => c.code === input.country)) throw new AuthorizeError("unknown_country", "Choose the country of your Sage business.");
  const installation = await findInstallation(db, input.tenantId);
  if (!installation) throw new AuthorizeError("not_installed", "Install Sage Integration from the marketplace first.");
  const state = await db.transaction((tx) =>
    issueOAuthState(tx, {
      purpose: "connect",
      tenantId: input.tenantId,
      installationId: installation.id,
      userId: input.userId,
      product: target.id,
      country: input.country,
      brandId: installation.brandId,
    }),
  );
  return target.authorizationUrl({ state, country: input.country, redirectUri: getConfig().oauthRedirectUrl });
}

export type CallbackOutcome =
  | { kind: "connected"; connectionId: string; needsBusiness: boolean; /** a re-sync review was opened: the caller starts its flow (resyncReviewRequested) */ resyncReviewId?: string | null }
  | { kind: "denied"; message: string; existingConnectionKept: boolean }
  | { kind: "business_mismatch"; message: string }
  | { kind: "validated" }
  | { kind: "state_error"; reason: OAuthStateError["reason"]; message: string }
  | { kind: "sage_error"; message: string };

/**
 * Where the reseller's browser goes after the callback — the same places for the top-level flow (a
 * redirect) and the popup flow (the framed page navigates there): business picker, settings wizard,
 * dashboard, or the problem page.
 */
export async function pathAfterAuthorization(db: Database, tenantId: string, outcome: CallbackOutcome): Promise<string> {
  switch (outcome.kind) {
    case "connected": {
      if (outcome.needsBusiness) return "/connect/business";
      const settings = await getSettings(db, tenantId);
      return settings.confirmed ? "/dashboard" : "/settings?setup=1";
    }
    case "validated":
      return "/settings?validated=1";
    case "denied":
      return `/connect/problem?reason=${outcome.existingConnectionKept ? "denied_kept" : "denied"}`;
    case "business_mismatch":
      return "/connect/problem?reason=business_mismatch";
    case "state_error":
      return `/connect/problem?reason=${outcome.reason}`;
    case "sage_error":
      return "/connect/problem?reason=sage_error";
  }
}

/**
 * Step 2 (tenant side of the central redirect): burn the state, exchange the code with the exact
 * same redirect_uri, store the tokens encrypted, list the user's businesses.
 */
export async function completeSageAuthorization(
  db: Database,
  input: { tenantId: string; actor: Actor; params: URLSearchParams },
): Promise<CallbackOutcome> {
  let consumed: Awaited<ReturnType<typeof consumeOAuthState>>;
  try {
    consumed = await consumeOAuthState(db, input.params.get("state"));
    if (consumed.row.tenantId !== input.tenantId) throw new OAuthStateError("wrong_tenant");
  } catch (e) {
    if (e instanceof OAuthStateError) return { kind: "state_error", reason: e.reason, message: e.message };
    throw e;
  }
  const { row: state } = consumed;
  if (state.purpose === "validate_redirect") return { kind: "validated" };

  const error = input.params.get("error");
  if (error) {
    // a Deny during a reconnect leaves the connection that is there as it was: say so, not "no access"
    const existing = await findActiveConnection(db, state.tenantId);
    const kept = existing?.status === "connected" ? existing : null;
    const keptText = kept ? ` Your existing connection${kept.businessName ? ` to ${kept.businessName}` : ""} is unchanged and keeps syncing.` : "";
    const message =
      error === "access_denied"
        ? kept
          ? `You chose Deny on Sage's consent page.${keptText} Nothing new was stored.`
          : "You chose Deny on Sage's consent page, so Sage Connector has no access to your Sage business. Nothing was stored."
        : `Sage did not authorize the connection: ${input.params.get("error_description") ?? error}.${keptText} Nothing${kept ? " new" : ""} was stored.`;
    await writeActionLog(db, {
      tenantId: state.tenantId,
      actor: input.actor,
      level: "warning",
      category: "auth",
      message: kept ? `Sage authorization was not granted; the existing connection${kept.businessName ? ` to ${kept.businessName}` : ""} is unchanged` : "Sage authorization was not granted",
      details: { error, existingConnectionKept: !!kept },
    });
    return { kind: "denied", message, existingConnectionKept: !!kept };
  }
  const code = input.params.get("code");
  if (!code) return { kind: "state_error", reason: "tampered", message: "Sage's answer carried no authorization code." };

  const target = getApiTarget(state.product ?? "sage-accounting");
  let businesses: SageBusinessSummary[];
  let tokens: Awaited<ReturnType<typeof target.exchangeCode>>;
  try {
    tokens = await target.exchangeCode({ code, redirectUri: getConfig().oauthRedirectUrl });
    businesses = await target.listBusinesses(tokens.accessToken);
  } catch (e) {
    if (e instanceof SageError) return { kind: "sage_error", message: `Sage refused the authorization (${e.message}). Start again; the code from Sage is valid for 60 seconds only.` };
    throw e;
  }

  return db.transaction(async (tx) => {
    const branch = await getMainBranch(tx, state.tenantId);
    if (!branch) throw new Error("The tenant has no branch; install first");
    const now = new Date();
    const only = businesses.length === 1 ? businesses[0]! : null;
    const values = {
      status: "connected" as const,
      country: state.country ?? "gb",
      installationId: state.installationId,
      availableBusinesses: businesses,
      businessId: only?.id ?? null,
      businessName: only?.name ?? null,
      sageUserId: tokens.sageUserId ?? null,
      scope: tokens.scope ?? null,
      credentialsEncrypted: sealCredentials({ accessToken: tokens.accessToken, refreshToken: tokens.refreshToken }),
      tokensIssuedAt: now,
      accessTokenExpiresAt: new Date(now.getTime() + tokens.expiresIn * 1000),
      refreshTokenIssuedAt: now,
      refreshTokenExpiresAt: new Date(now.getTime() + tokens.refreshTokenExpiresIn * 1000),
      lastError: null,
      updatedAt: now,
    };
    const existing = await reusableConnection(tx, branch.id, target.id);
    let connectionId: string;
    if (existing) {
      // Reconnect: keep the business the reseller chose if Sage still offers it.
      const keep = businesses.find((b) => b.id === existing.businessId);
      if (existing.businessId && !keep) {
        // a consent for a Sage user who cannot see our business: refused, the connection left as it was
        await writeActionLog(tx, {
          tenantId: state.tenantId,
          actor: input.actor,
          level: "warning",
          category: "auth",
          message: `Reconnect refused: the Sage user who consented cannot see ${existing.businessName ?? existing.businessId}; the connection is unchanged`,
          details: { connectionId: existing.id, offered: businesses.map((b) => b.name) },
        });
        return {
          kind: "business_mismatch" as const,
          message: `The Sage user you signed in with cannot see ${existing.businessName ?? "the connected business"}, so nothing was changed. Sign in to Sage as a user of that business — or, to move to another business, use Change business after reconnecting with a user who sees both.`,
        };
      }
      await tx
        .update(connections)
        .set({ ...values, businessId: keep?.id ?? values.businessId, businessName: keep?.name ?? values.businessName })
        .where(eq(connections.id, existing.id));
      connectionId = existing.id;
      forgetAccessToken(existing.id);
    } else {
      const [created] = await tx
        .insert(connections)
        .values({ ...values, tenantId: state.tenantId, branchId: branch.id, name: target.label, target: target.id })
        .returning({ id: connections.id });
      connectionId = created!.id;
    }
    await writeActionLog(tx, {
      tenantId: state.tenantId,
      actor: input.actor,
      level: "success",
      category: "auth",
      message: existing ? `${target.label} reconnected` : `${target.label} authorized`,
      details: { connectionId, country: values.country, businesses: businesses.length },
    });
    if (only) {
      await writeActionLog(tx, {
        tenantId: state.tenantId,
        actor: input.actor,
        level: "info",
        category: "auth",
        message: `Sage business selected: ${only.name}`,
        details: { connectionId, businessId: only.id, automatic: true },
      });
    }
    // Back from reconnect_required (or connected anew): the tasks a sync left processing when Sage
    // refused the authorization are syncable again at once, in this transaction. A connection that
    // was still connected may have a run busy with them, so they are left to that run.
    if (!existing || existing.status === "reconnect_required" || existing.status === "disconnected") {
      await releaseTasksHaltedByReconnect(tx, { tenantId: state.tenantId, connectionId, actor: input.actor });
    }
    // no Sage contact id on any customer of a tenant that synced before: match existing contacts before any is created
    const resyncReviewId = await openResyncReviewIfNeeded(tx, { tenantId: state.tenantId, connectionId, actor: input.actor });
    return { kind: "connected" as const, connectionId, needsBusiness: !(existing && businesses.some((b) => b.id === existing.businessId)) && !only, resyncReviewId };
  });
}

export class BusinessSelectionError extends Error {}

/** What changing the business does — shown before the reseller confirms, and refused without the confirmation. */
export const CHANGE_BUSINESS_WARNING =
  "Changing the Sage business removes every product, fee and customer mapping to the current business (its Sage ids mean nothing in another business) and its cached Sage items and contacts. Orders already synced stay recorded against the current business. In the new business, customers are matched to existing Sage contacts by e-mail and reference before any contact is created.";

/** Step 3 (when the Sage user has several businesses): the reseller picks one — or changes it, confirmed. */
export async function selectSageBusiness(db: Database, input: { tenantId: string; connectionId: string; businessId: string; actor: Actor; confirmChange?: boolean }) {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(connections).where(and(eq(connections.id, input.connectionId), eq(connections.tenantId, input.tenantId))).for("update");
    if (!row) throw new BusinessSelectionError("That Sage connection does not exist.");
    const business = row.availableBusinesses.find((b) => b.id === input.businessId);
    if (!business) throw new BusinessSelectionError("Choose one of the businesses Sage listed for your user.");
    const changing = row.businessId !== null && row.businessId !== business.id;
    if (changing && !input.confirmChange) throw new BusinessSelectionError(`Confirm the change first. ${CHANGE_BUSINESS_WARNING} Nothing was changed.`);
    let removed = { products: 0, fees: 0, customers: 0 };
    if (changing) {
      const products = await tx.delete(productMappings).where(eq(productMappings.tenantId, input.tenantId)).returning({ id: productMappings.id });
      const fees = await tx.delete(feeMappings).where(eq(feeMappings.tenantId, input.tenantId)).returning({ id: feeMappings.id });
      const customers = await tx
        .update(customerMappings)
        .set({ sageContactId: null, sageContactName: null, mappedAt: null, updatedAt: new Date() })
        .where(and(eq(customerMappings.tenantId, input.tenantId), isNotNull(customerMappings.sageContactId)))
        .returning({ id: customerMappings.id });
      await tx.delete(sageItems).where(eq(sageItems.connectionId, row.id));
      await tx.delete(sageContacts).where(eq(sageContacts.connectionId, row.id));
      removed = { products: products.length, fees: fees.length, customers: customers.length };
    }
    await tx.update(connections).set({ businessId: business.id, businessName: business.name, updatedAt: new Date() }).where(eq(connections.id, row.id));
    forgetAccessToken(row.id);
    await writeActionLog(tx, {
      tenantId: input.tenantId,
      actor: input.actor,
      level: changing ? "warning" : "info",
      category: "auth",
      message: changing
        ? `Sage business changed from ${row.businessName ?? row.businessId} to ${business.name}: ${removed.products} product, ${removed.fees} fee and ${removed.customers} customer mapping(s) to the old business removed; customers are matched in ${business.name} before any contact is created`
        : `Sage business selected: ${business.name}`,
      details: { connectionId: row.id, businessId: business.id, previous: row.businessName, removed },
    });
    // the mappings to the old business are gone (or none yet): match the new business's contacts before any is created
    const resyncReviewId = await openResyncReviewIfNeeded(tx, { tenantId: input.tenantId, connectionId: row.id, actor: input.actor });
    return { ...business, resyncReviewId };
  });
}

/** The tenant's current (not disconnected) Sage connection, if any. */
/**
 * The branch's connection to a target that a new authorization renews: the live one, else the one the
 * reseller disconnected (connected again: same row, so its mappings, cached Sage ids and history carry on).
 */
export async function reusableConnection(q: Queryable, branchId: string, targetId: string) {
  const [row] = await q
    .select()
    .from(connections)
    .where(and(eq(connections.branchId, branchId), eq(connections.target, targetId)))
    .orderBy(sql`(${connections.status} = 'disconnected')`, desc(connections.updatedAt))
    .limit(1);
  return row;
}

export async function findActiveConnection(db: Database, tenantId: string) {
  const [row] = await db
    .select()
    .from(connections)
    .where(and(eq(connections.tenantId, tenantId), ne(connections.status, "disconnected")))
    .orderBy(connections.createdAt)
    .limit(1);
  return row ?? null;
}
