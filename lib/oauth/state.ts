import { randomBytes } from "node:crypto";
import { and, eq, gt, isNull } from "drizzle-orm";
import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import type { Queryable } from "@/db/client";
import { oauthStates } from "@/db/schema";
import { getConfig } from "@/lib/config";
import { isStorableText } from "@/lib/http/storable-json";

/**
 * OAuth `state`: an HS256 JWT (jose) that is signed, expires in 10 minutes and binds brand, tenant,
 * installation and a nonce. The nonce row makes it single use.
 */
export const STATE_TTL_SECONDS = 600;
const AUDIENCE = "sage-connector/oauth-state";

export type StatePurpose = "connect" | "validate_redirect";
export type StateClaims = {
  brand: string;
  tenant: string;
  installation: string | null;
  nonce: string;
  purpose: StatePurpose;
};

export type StateFailure = "missing" | "tampered" | "expired" | "replayed" | "wrong_tenant";

export class OAuthStateError extends Error {
  constructor(readonly reason: StateFailure) {
    super(
      {
        missing: "The answer from Sage carried no state.",
        tampered: "The sign-in state was not issued by us or was changed on the way.",
        expired: "The sign-in took longer than 10 minutes and expired.",
        replayed: "This sign-in answer was already used.",
        wrong_tenant: "This sign-in was started by a different reseller account.",
      }[reason],
    );
    this.name = "OAuthStateError";
  }
}

function key() {
  return new TextEncoder().encode(getConfig().oauthStateSecret);
}

export async function issueOAuthState(
  tx: Queryable,
  input: {
    purpose: StatePurpose;
    tenantId: string;
    installationId: string | null;
    userId: string | null;
    product?: string;
    country?: string;
    connectionId?: string | null;
    brandId?: string;
  },
): Promise<string> {
  const nonce = randomBytes(16).toString("hex");
  const expiresAt = new Date(Date.now() + STATE_TTL_SECONDS * 1000);
  await tx.insert(oauthStates).values({
    nonce,
    purpose: input.purpose,
    tenantId: input.tenantId,
    installationId: input.installationId,
    userId: input.userId,
    product: input.product,
    country: input.country,
    connectionId: input.connectionId ?? null,
    expiresAt,
  });
  const claims: StateClaims = {
    brand: input.brandId ?? getConfig().defaultBrandId,
    tenant: input.tenantId,
    installation: input.installationId,
    nonce,
    purpose: input.purpose,
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setAudience(AUDIENCE)
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(key());
}

/** Signature (and, unless `allowExpired`, expiry) check. Holds no Sage secret. */
export async function verifyOAuthState(state: string | null | undefined, opts: { allowExpired?: boolean } = {}): Promise<StateClaims> {
  if (!state) throw new OAuthStateError("missing");
  try {
    const { payload } = await jwtVerify(state, key(), {
      audience: AUDIENCE,
      algorithms: ["HS256"],
      // the redirector only routes; the tenant side enforces expiry
      currentDate: opts.allowExpired ? new Date(0) : undefined,
    });
    const p = payload as Partial<StateClaims>;
    if (typeof p.brand !== "string" || typeof p.tenant !== "string" || typeof p.nonce !== "string") throw new OAuthStateError("tampered");
    // signed by us, yet text no row of ours could hold (U+0000, lone surrogates): not a state we issued as such
    if (![p.brand, p.tenant, p.nonce, ...(typeof p.installation === "string" ? [p.installation] : [])].every(isStorableText)) throw new OAuthStateError("tampered");
    return {
      brand: p.brand,
      tenant: p.tenant,
      installation: typeof p.installation === "string" ? p.installation : null,
      nonce: p.nonce,
      purpose: p.purpose === "validate_redirect" ? "validate_redirect" : "connect",
    };
  } catch (e) {
    if (e instanceof OAuthStateError) throw e;
    if (e instanceof joseErrors.JWTExpired) throw new OAuthStateError("expired");
    throw new OAuthStateError("tampered");
  }
}

/** Verify and burn the state's nonce (single use). Returns the stored row. */
export async function consumeOAuthState(tx: Queryable, state: string | null | undefined) {
  const claims = await verifyOAuthState(state);
  const now = new Date();
  const [row] = await tx
    .update(oauthStates)
    .set({ usedAt: now })
    .where(and(eq(oauthStates.nonce, claims.nonce), isNull(oauthStates.usedAt), gt(oauthStates.expiresAt, now)))
    .returning();
  if (!row) {
    const [existing] = await tx.select().from(oauthStates).where(eq(oauthStates.nonce, claims.nonce));
    throw new OAuthStateError(!existing ? "tampered" : existing.usedAt ? "replayed" : "expired");
  }
  if (row.tenantId !== claims.tenant) throw new OAuthStateError("tampered");
  return { claims, row };
}
