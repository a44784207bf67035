import { eq } from "drizzle-orm";
import { jwtVerify, errors as joseErrors } from "jose";
import { z } from "zod";
import type { Database } from "@/db/client";
import { launchTokenUses, tenants, users } from "@/db/schema";
import { getConfig, type MarketplaceConfig } from "@/lib/config";
import { writeActionLog } from "@/lib/log/action-log";
import type { SessionUser } from "./session-user";

/**
 * Marketplace launch token: the portal opens our iframe with `?token=<JWT>`, HS256-signed with the
 * marketplace's configured secret (`MARKETPLACES[].secret`, or one of its `previousSecrets` during a
 * rotation), ≤ 5 minutes, single use by `jti`.
 *
 * The signature is verified before anything in the token is used: no claim (not even `iss` or the
 * account id) chooses a key or reaches the database before a configured secret has verified it.
 */
export const LAUNCH_AUDIENCE = "sage-connector";
export const LAUNCH_MAX_AGE_SECONDS = 300;

export type LaunchFailure = "malformed" | "bad_signature" | "expired" | "replayed" | "too_long_lived" | "other_account";

export class LaunchTokenError extends Error {
  constructor(readonly reason: LaunchFailure) {
    super(
      {
        malformed: "The launch token is not a valid token.",
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

/** Text PostgreSQL can store: no U+0000, no lone surrogates. */
const storable = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes("\u0000") && s.isWellFormed(), "contains characters that cannot be stored");

const claimsSchema = z.object({
  iss: z.string(),
  sub: storable(320).min(1),
  email: storable(320).pipe(z.string().email()).optional(),
  name: storable(200).optional(),
  account_id: storable(200).min(1),
  account_name: storable(200).optional(),
  jti: storable(200).min(1),
  iat: z.number(),
  exp: z.number(),
});

export type LaunchIdentity = {
  marketplace: MarketplaceConfig;
  email: string;
  name: string;
  accountId: string;
  accountName: string;
  jti: string;
  expiresAt: Date;
};

/** Every (marketplace, secret) pair currently accepted: the current secret first, then the overlap. */
function candidateKeys(): { marketplace: MarketplaceConfig; key: Uint8Array }[] {
  return getConfig().marketplaces.flatMap((marketplace) =>
    [marketplace.secret, ...marketplace.previousSecrets].map((secret) => ({ marketplace, key: new TextEncoder().encode(secret) })),
  );
}

/**
 * Verify a launch token against the configured marketplace secrets, without using or storing it.
 * Throws LaunchTokenError. Does not burn the `jti` (signInWithLaunchToken does).
 */
export async function verifyLaunchToken(token: string): Promise<LaunchIdentity> {
  if (typeof token !== "string" || token.length === 0 || token.length > 4096) throw new LaunchTokenError("malformed");
  for (const { marketplace, key } of candidateKeys()) {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: ["HS256"],
        issuer: marketplace.id,
        audience: LAUNCH_AUDIENCE,
        maxTokenAge: LAUNCH_MAX_AGE_SECONDS,
        requiredClaims: ["jti", "exp", "iat", "sub", "account_id"],
      }));
    } catch (e) {
      if (e instanceof joseErrors.JWSSignatureVerificationFailed) continue; // not this key
      // jose checks the signature before the claims: these mean the signature matched this key
      if (e instanceof joseErrors.JWTClaimValidationFailed && e.claim === "iss") continue; // another marketplace's token signed with a shared key
      if (e instanceof joseErrors.JWTExpired) throw new LaunchTokenError("expired");
      if (e instanceof joseErrors.JWTClaimValidationFailed && e.claim === "iat") throw new LaunchTokenError("expired");
      throw new LaunchTokenError("malformed");
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new LaunchTokenError("malformed");
    const c = claims.data;
    if (c.exp - c.iat > LAUNCH_MAX_AGE_SECONDS) throw new LaunchTokenError("too_long_lived");
    const email = (c.email ?? c.sub).toLowerCase();
    if (!z.string().email().safeParse(email).success) throw new LaunchTokenError("malformed");
    return {
      marketplace,
      email,
      name: c.name || email,
      accountId: c.account_id,
      accountName: c.account_name || c.account_id,
      jti: c.jti,
      expiresAt: new Date(c.exp * 1000),
    };
  }
  throw new LaunchTokenError("bad_signature");
}

/** Verify, burn the jti, and return the (created if new) user the marketplace vouches for. */
export async function signInWithLaunchToken(db: Database, token: string): Promise<SessionUser> {
  const launch = await verifyLaunchToken(token);
  const { marketplace } = launch;
  return db.transaction(async (tx) => {
    const burned = await tx
      .insert(launchTokenUses)
      .values({ jti: launch.jti, marketplaceId: marketplace.id, expiresAt: launch.expiresAt })
      .onConflictDoNothing()
      .returning();
    if (burned.length === 0) throw new LaunchTokenError("replayed");

    let [tenant] = await tx.select().from(tenants).where(eq(tenants.marketplaceAccountId, launch.accountId));
    if (!tenant) {
      [tenant] = await tx.insert(tenants).values({ marketplaceAccountId: launch.accountId, name: launch.accountName }).returning();
      await writeActionLog(tx, {
        tenantId: tenant!.id,
        actor: { type: "marketplace", id: marketplace.id, label: marketplace.name },
        level: "info",
        category: "install",
        message: `Reseller account ${launch.accountId} registered from ${marketplace.name}`,
      });
    }
    let [user] = await tx.select().from(users).where(eq(users.email, launch.email));
    if (!user) {
      [user] = await tx.insert(users).values({ email: launch.email, name: launch.name, role: "reseller_admin", tenantId: tenant!.id }).returning();
      await writeActionLog(tx, {
        tenantId: tenant!.id,
        actor: { type: "marketplace", id: marketplace.id, label: marketplace.name },
        level: "info",
        category: "auth",
        message: `User ${launch.email} added by ${marketplace.name} launch`,
      });
    }
    if (user!.role !== "reseller_admin" || user!.tenantId !== tenant!.id) throw new LaunchTokenError("other_account");
    return { id: user!.id, email: user!.email, name: user!.name, role: user!.role, tenantId: user!.tenantId, via: "marketplace" as const, sessionVersion: user!.sessionVersion };
  });
}
