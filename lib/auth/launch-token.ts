import { eq } from "drizzle-orm";
import { decodeJwt, jwtVerify, errors as joseErrors } from "jose";
import type { Database } from "@/db/client";
import { installations, launchTokenUses, tenants, users } from "@/db/schema";
import { findMarketplace } from "@/lib/config";
import { decryptSecret } from "@/lib/crypto/envelope";
import { writeActionLog } from "@/lib/log/action-log";
import type { SessionUser } from "./session-user";
import { and } from "drizzle-orm";

/**
 * Marketplace launch token: the portal opens our iframe with `?token=<JWT>`, HS256-signed with
 * the installation's marketplace secret, ≤ 5 minutes, single use by `jti`.
 */
export const LAUNCH_AUDIENCE = "sage-connector";
export const LAUNCH_MAX_AGE_SECONDS = 300;

export type LaunchFailure = "malformed" | "unknown_marketplace" | "bad_signature" | "expired" | "replayed" | "too_long_lived" | "other_account";

export class LaunchTokenError extends Error {
  constructor(readonly reason: LaunchFailure) {
    super(
      {
        malformed: "The launch token is not a valid token.",
        unknown_marketplace: "The launch token comes from a marketplace this app does not know.",
        bad_signature: "The launch token's signature is not valid.",
        expired: "The launch token has expired. Reopen Sage Integration from the marketplace.",
        replayed: "The launch token was already used. Reopen Sage Integration from the marketplace.",
        too_long_lived: "The launch token is valid for longer than 5 minutes, which is not allowed.",
        other_account: "This user belongs to another reseller account or is not a reseller administrator.",
      }[reason],
    );
    this.name = "LaunchTokenError";
  }
}

type LaunchClaims = { iss: string; sub: string; email: string; name: string; account_id: string; account_name: string; jti: string; iat: number; exp: number };

async function secretFor(db: Database, marketplaceId: string, accountId: string, fallback: string): Promise<string> {
  const [row] = await db
    .select({ secret: installations.marketplaceSecretEncrypted })
    .from(installations)
    .innerJoin(tenants, eq(tenants.id, installations.tenantId))
    .where(and(eq(tenants.marketplaceAccountId, accountId), eq(installations.marketplaceId, marketplaceId)));
  return row ? decryptSecret(row.secret) : fallback;
}

/** Verify, burn the jti, and return the (created if new) user the marketplace vouches for. */
export async function signInWithLaunchToken(db: Database, token: string): Promise<SessionUser> {
  let unverified: ReturnType<typeof decodeJwt>;
  try {
    unverified = decodeJwt(token);
  } catch {
    throw new LaunchTokenError("malformed");
  }
  const marketplace = typeof unverified.iss === "string" ? findMarketplace(unverified.iss) : undefined;
  if (!marketplace) throw new LaunchTokenError("unknown_marketplace");
  const accountId = typeof unverified.account_id === "string" ? unverified.account_id : "";
  const secret = await secretFor(db, marketplace.id, accountId, marketplace.secret);

  let claims: LaunchClaims;
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ["HS256"],
      issuer: marketplace.id,
      audience: LAUNCH_AUDIENCE,
      maxTokenAge: LAUNCH_MAX_AGE_SECONDS,
      requiredClaims: ["jti", "exp", "iat", "sub", "account_id"],
    });
    claims = payload as unknown as LaunchClaims;
  } catch (e) {
    if (e instanceof joseErrors.JWTExpired) throw new LaunchTokenError("expired");
    if (e instanceof joseErrors.JWSSignatureVerificationFailed) throw new LaunchTokenError("bad_signature");
    if (e instanceof joseErrors.JWTClaimValidationFailed && e.claim === "iat") throw new LaunchTokenError("expired");
    throw new LaunchTokenError("malformed");
  }
  if (claims.exp - claims.iat > LAUNCH_MAX_AGE_SECONDS) throw new LaunchTokenError("too_long_lived");
  const email = String(claims.email ?? claims.sub).toLowerCase();

  return db.transaction(async (tx) => {
    const burned = await tx
      .insert(launchTokenUses)
      .values({ jti: claims.jti, marketplaceId: marketplace.id, expiresAt: new Date(claims.exp * 1000) })
      .onConflictDoNothing()
      .returning();
    if (burned.length === 0) throw new LaunchTokenError("replayed");

    let [tenant] = await tx.select().from(tenants).where(eq(tenants.marketplaceAccountId, claims.account_id));
    if (!tenant) {
      [tenant] = await tx.insert(tenants).values({ marketplaceAccountId: claims.account_id, name: claims.account_name || claims.account_id }).returning();
      await writeActionLog(tx, {
        tenantId: tenant!.id,
        actor: { type: "marketplace", id: marketplace.id, label: marketplace.name },
        level: "info",
        category: "install",
        message: `Reseller account ${claims.account_id} registered from ${marketplace.name}`,
      });
    }
    let [user] = await tx.select().from(users).where(eq(users.email, email));
    if (!user) {
      [user] = await tx.insert(users).values({ email, name: claims.name || email, role: "reseller_admin", tenantId: tenant!.id }).returning();
      await writeActionLog(tx, {
        tenantId: tenant!.id,
        actor: { type: "marketplace", id: marketplace.id, label: marketplace.name },
        level: "info",
        category: "auth",
        message: `User ${email} added by ${marketplace.name} launch`,
      });
    }
    if (user!.role !== "reseller_admin" || user!.tenantId !== tenant!.id) throw new LaunchTokenError("other_account");
    return { id: user!.id, email: user!.email, name: user!.name, role: user!.role, tenantId: user!.tenantId, via: "marketplace" as const };
  });
}
