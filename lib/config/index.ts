import { z } from "zod";

/**
 * Run-time configuration, read from the environment. Every value has an embedded default that
 * points at the local sandbox, so `npm run demo` needs no configuration.
 */
/**
 * Values that are public (in this repository): fine for development and the demo, refused in
 * production (lib/config/production-check.ts). One source of truth for the defaults below.
 */
export const PUBLIC_DEFAULTS = {
  MARKETPLACE_SECRET: "demo-marketplace-shared-secret-change-me",
  SAGE_CLIENT_ID: "sage-connector-demo",
  SAGE_CLIENT_SECRET: "sandbox-client-secret",
  /** used only when neither OAUTH_STATE_SECRET nor AUTH_SECRET is set (development) */
  OAUTH_STATE_SECRET: "dev-only-oauth-state-secret-0123456789abcdef",
} as const;

const marketplaceSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  /** origins allowed to frame our pages (CSP frame-ancestors) */
  origins: z.array(z.string().url()).min(1),
  /** shared secret: launch tokens (HS256) and the marketplace API key */
  secret: z.string().min(16),
  /**
   * Rotation overlap: secrets still accepted for launch tokens after `secret` was replaced. Remove
   * them when the marketplace signs with the new one only (README "Rotating a marketplace secret").
   */
  previousSecrets: z.array(z.string().min(16)).default([]),
  /** brand this marketplace's resellers use (OAuth redirect routing) */
  brandId: z.string().min(1),
  /** the marketplace's public API (docs/marketplace-api.md) */
  apiUrl: z.string().url(),
});
export type MarketplaceConfig = z.infer<typeof marketplaceSchema>;

const envSchema = z.object({
  APP_URL: z.string().url().default("http://localhost:3000"),
  SANDBOX_URL: z.string().url().default("http://localhost:4010"),
  /** central OAuth 2.0 redirect URL registered verbatim at Sage */
  OAUTH_REDIRECT_URL: z.string().url().optional(),
  /** brand id → base URL of that brand's deployment, JSON; the redirector forwards only here */
  OAUTH_BRANDS: z.string().optional(),
  OAUTH_STATE_SECRET: z.string().min(32).optional(),
  SAGE_CLIENT_ID: z.string().default(PUBLIC_DEFAULTS.SAGE_CLIENT_ID),
  SAGE_CLIENT_SECRET: z.string().default(PUBLIC_DEFAULTS.SAGE_CLIENT_SECRET),
  SAGE_AUTHORIZE_URL: z.string().url().optional(),
  SAGE_TOKEN_URL: z.string().url().optional(),
  SAGE_API_URL: z.string().url().optional(),
  /** Sage 50 Cloud's Connected Cloud API (file exchange) */
  SAGE50_API_URL: z.string().url().optional(),
  /** JSON array of marketplaces (see marketplaceSchema) */
  MARKETPLACES: z.string().optional(),
  MARKETPLACE_SECRET: z.string().min(16).default(PUBLIC_DEFAULTS.MARKETPLACE_SECRET),
  /** rotation overlap for the single demo marketplace: the old secret, still accepted for launches */
  MARKETPLACE_PREVIOUS_SECRET: z.string().min(16).optional(),
  MARKETPLACE_ORIGIN: z.string().url().default("http://127.0.0.1:4010"),
  /** Sage calls allowed per business, "<calls>/<seconds>" (Sage documents 200 per minute) */
  SAGE_RATE_LIMIT: z.string().regex(/^\d+\/\d+$/, "SAGE_RATE_LIMIT must look like 200/60").default("200/60"),
  /** document writes a Sync all keeps in flight per connection (one customer's documents stay in order) */
  SAGE_WRITES_IN_FLIGHT: z.coerce.number().int("SAGE_WRITES_IN_FLIGHT must be a whole number").min(1).max(16).default(2),
  /** days a tenant's data is kept after the plugin is uninstalled from the marketplace, then purged */
  TENANT_DATA_RETENTION_DAYS: z.coerce.number().int("TENANT_DATA_RETENTION_DAYS must be a whole number of days").min(0).max(3650).default(30),
  /** days Action Log rows are kept (a tenant's settings may override it), then the daily purge deletes them */
  ACTION_LOG_RETENTION_DAYS: z.coerce
    .number()
    .int("ACTION_LOG_RETENTION_DAYS must be a whole number of days")
    .min(1, "ACTION_LOG_RETENTION_DAYS must be at least 1 day")
    .max(36500, "ACTION_LOG_RETENTION_DAYS must be at most 36500 days")
    .default(365),
  /** days the record of every Sage call (the order trace) is kept, then the daily purge deletes it */
  SAGE_CALL_RETENTION_DAYS: z.coerce
    .number()
    .int("SAGE_CALL_RETENTION_DAYS must be a whole number of days")
    .min(1, "SAGE_CALL_RETENTION_DAYS must be at least 1 day")
    .max(3650, "SAGE_CALL_RETENTION_DAYS must be at most 3650 days")
    .default(30),
});

export type AppConfig = {
  appUrl: string;
  oauthRedirectUrl: string;
  brands: Record<string, string>;
  defaultBrandId: string;
  oauthStateSecret: string;
  sage: { clientId: string; clientSecret: string; authorizeUrl: string; tokenUrl: string; apiUrl: string; rateLimit: { limit: number; periodSeconds: number }; writesInFlight: number };
  sage50: { apiUrl: string };
  marketplaces: MarketplaceConfig[];
  /** TENANT_DATA_RETENTION_DAYS: kept after an uninstall, then purged */
  tenantDataRetentionDays: number;
  /** ACTION_LOG_RETENTION_DAYS: Action Log rows older than this are purged daily (per-tenant override in tenant_settings) */
  actionLogRetentionDays: number;
  /** SAGE_CALL_RETENTION_DAYS: recorded Sage calls (sage_calls) older than this are purged daily */
  sageCallRetentionDays: number;
};

let cached: AppConfig | undefined;

export function getConfig(): AppConfig {
  if (cached) return cached;
  const env = envSchema.parse(process.env);
  const appUrl = env.APP_URL.replace(/\/$/, "");
  const sandbox = env.SANDBOX_URL.replace(/\/$/, "");
  const brands = brandTable(env.OAUTH_BRANDS ? z.record(z.string(), z.string().url()).parse(JSON.parse(env.OAUTH_BRANDS)) : { demo: appUrl });
  const marketplaces = env.MARKETPLACES
    ? z.array(marketplaceSchema).parse(JSON.parse(env.MARKETPLACES))
    : [
        {
          id: "demo-marketplace",
          name: "Demo Reseller Marketplace",
          origins: [env.MARKETPLACE_ORIGIN],
          secret: env.MARKETPLACE_SECRET,
          previousSecrets: env.MARKETPLACE_PREVIOUS_SECRET ? [env.MARKETPLACE_PREVIOUS_SECRET] : [],
          brandId: Object.keys(brands)[0] ?? "demo",
          apiUrl: `${sandbox}/marketplace/public/v1`,
        },
      ];
  cached = {
    appUrl,
    oauthRedirectUrl: env.OAUTH_REDIRECT_URL ?? `${appUrl}/oauth2redirect`,
    brands,
    defaultBrandId: Object.keys(brands)[0] ?? "demo",
    oauthStateSecret: env.OAUTH_STATE_SECRET ?? process.env.AUTH_SECRET ?? PUBLIC_DEFAULTS.OAUTH_STATE_SECRET,
    sage: {
      clientId: env.SAGE_CLIENT_ID,
      clientSecret: env.SAGE_CLIENT_SECRET,
      authorizeUrl: env.SAGE_AUTHORIZE_URL ?? `${sandbox}/sage/oauth2/auth/central?filter=apiv3.1`,
      tokenUrl: env.SAGE_TOKEN_URL ?? `${sandbox}/sage/oauth/token`,
      apiUrl: (env.SAGE_API_URL ?? `${sandbox}/sage/v3.1`).replace(/\/$/, ""),
      rateLimit: { limit: Number(env.SAGE_RATE_LIMIT.split("/")[0]), periodSeconds: Number(env.SAGE_RATE_LIMIT.split("/")[1]) },
      writesInFlight: env.SAGE_WRITES_IN_FLIGHT,
    },
    sage50: { apiUrl: (env.SAGE50_API_URL ?? `${sandbox}/sage50/api`).replace(/\/$/, "") },
    marketplaces,
    tenantDataRetentionDays: env.TENANT_DATA_RETENTION_DAYS,
    actionLogRetentionDays: env.ACTION_LOG_RETENTION_DAYS,
    sageCallRetentionDays: env.SAGE_CALL_RETENTION_DAYS,
  };
  return cached;
}

/**
 * Brand id → base URL as an object without a prototype: a brand named `__proto__`, `constructor` or
 * `toString` (e.g. from a signed OAuth state) finds nothing instead of Object.prototype's members.
 * Look brands up with `brandBaseUrl`.
 */
function brandTable(entries: Record<string, string>): Record<string, string> {
  const table = Object.create(null) as Record<string, string>;
  for (const [id, url] of Object.entries(entries)) if (id !== "__proto__") table[id] = url;
  return Object.freeze(table);
}

/** The allowlisted base URL of a brand (own entries only), or undefined. */
export function brandBaseUrl(brand: string): string | undefined {
  const { brands } = getConfig();
  return Object.hasOwn(brands, brand) ? brands[brand] : undefined;
}

export function findMarketplace(id: string): MarketplaceConfig | undefined {
  return getConfig().marketplaces.find((m) => m.id === id);
}

/** Every origin allowed to frame the app (CSP frame-ancestors). */
export function frameAncestorOrigins(): string[] {
  return [...new Set(getConfig().marketplaces.flatMap((m) => m.origins))];
}

/**
 * Are `X-Forwarded-*` headers from a reverse proxy to be believed? Only when configured
 * (`AUTH_TRUST_HOST=true`, next-auth's own variable): by default they are client-supplied and ignored.
 */
export function trustsForwardedHeaders(): boolean {
  return ["true", "1"].includes((process.env.AUTH_TRUST_HOST ?? "").toLowerCase());
}

/** Tests only. */
export function resetConfigForTests() {
  cached = undefined;
}
