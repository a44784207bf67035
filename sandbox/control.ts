// Control API for tests and the demo: /__sandbox/*. Not logged, never faulted.
import { z } from "zod";
import { faultInputSchema } from "./faults";
import { json, sageError, text, type Reply } from "./http";
import type { LogEntry } from "./log";
import { portalUser, resellerAccount } from "./marketplace/identity";
import { mintLaunchToken } from "./marketplace/portal";
import { controlBody, route, type RequestContext, type Route } from "./router";
import { stateReply } from "./sage/state";

function bad(message: string, issues?: unknown): Reply {
  return json(400, { error: "bad_request", message, issues });
}

function globMatch(glob: string, value: string): boolean {
  const re = new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
  return re.test(value);
}

function getRequests(ctx: RequestContext): Reply {
  const { route: routeGlob, grant_type } = ctx.query;
  const filter = (e: LogEntry): boolean =>
    (!routeGlob || globMatch(routeGlob, e.route)) && (!grant_type || e.grant_type === grant_type);
  return text(200, ctx.sb.log.toJsonLines(filter), "application/x-ndjson; charset=utf-8");
}

const configSchema = z
  .object({
    accessTokenTtlSeconds: z.number().int().min(1),
    refreshTokenTtlSeconds: z.number().int().min(1),
    codeTtlSeconds: z.number().int().min(1),
    redirectUris: z.array(z.string().min(1)),
    rateLimit: z
      .object({
        limit: z.number().int().min(1),
        windowSeconds: z.number().int().min(1),
        retryAfter: z.boolean(),
      })
      .partial(),
    readonlyWriteStatus: z.union([z.literal(401), z.literal(403)]),
    specValidation: z.boolean(),
    webhooks: z
      .object({
        enabled: z.boolean(),
        baseDelayMs: z.number().int().min(0).max(3_600_000),
        maxDelayMs: z.number().int().min(0).max(86_400_000),
        maxAttempts: z.number().int().min(1).max(100),
        timeoutMs: z.number().int().min(1).max(600_000),
        concurrency: z.number().int().min(1).max(256),
      })
      .partial()
      .strict(),
  })
  .partial()
  .strict();

function postConfig(ctx: RequestContext): Reply {
  const parsed = configSchema.safeParse(controlBody(ctx));
  if (!parsed.success) return bad("invalid config", parsed.error.issues);
  const { rateLimit, webhooks, ...rest } = parsed.data;
  const cfg = ctx.sb.config;
  Object.assign(cfg, rest);
  if (rateLimit) {
    cfg.rateLimit = { ...cfg.rateLimit, ...rateLimit };
  }
  if (webhooks) {
    cfg.webhooks = { ...cfg.webhooks, ...webhooks };
  }
  return json(200, cfg);
}

function postClock(ctx: RequestContext): Reply {
  const body = controlBody(ctx);
  const parsed = z.object({ advanceSeconds: z.number() }).safeParse(body);
  if (!parsed.success) return bad("expected { advanceSeconds: number }", parsed.error.issues);
  ctx.sb.clockOffsetMs += parsed.data.advanceSeconds * 1000;
  return json(200, { now: new Date(ctx.sb.now()).toISOString(), offsetSeconds: ctx.sb.clockOffsetMs / 1000 });
}

function expireAccessTokens(ctx: RequestContext): Reply {
  const now = ctx.sb.now();
  let n = 0;
  for (const t of ctx.sb.sage.accessTokens.values()) {
    if (t.expiresAt > now) {
      t.expiresAt = now;
      n += 1;
    }
  }
  return json(200, { expired: n });
}

function revokeRefreshTokens(ctx: RequestContext): Reply {
  let n = 0;
  for (const t of ctx.sb.sage.refreshTokens.values()) {
    if (!t.revoked && !t.used) n += 1;
    t.revoked = true;
  }
  return json(200, { revoked: n });
}

function tokenSummary(ctx: RequestContext): Reply {
  const now = ctx.sb.now();
  const s = ctx.sb.sage;
  return json(200, {
    codes: { total: s.codes.size, unused: [...s.codes.values()].filter((c) => !c.used && c.expiresAt > now).length },
    accessTokens: {
      total: s.accessTokens.size,
      live: [...s.accessTokens.values()].filter((t) => t.expiresAt > now).length,
    },
    refreshTokens: {
      total: s.refreshTokens.size,
      live: [...s.refreshTokens.values()].filter((t) => !t.used && !t.revoked && t.expiresAt > now).length,
    },
  });
}

function setSubscription(ctx: RequestContext): Reply {
  const parsed = z.object({ business: z.string().min(1), active: z.boolean() }).safeParse(controlBody(ctx));
  if (!parsed.success) return bad("expected { business: id|key, active: boolean }", parsed.error.issues);
  const b = ctx.sb.sage.findBusiness(parsed.data.business);
  if (!b) return json(404, { error: "not_found", message: `unknown business ${parsed.data.business}` });
  b.subscriptionActive = parsed.data.active;
  return json(200, { business: b.id, key: b.key, subscriptionActive: b.subscriptionActive });
}

/** A business's foreign currencies: multi-currency on/off and stored exchange rates (a rate of null deletes it). */
function setCurrencies(ctx: RequestContext): Reply {
  const parsed = z
    .object({
      business: z.string().min(1),
      multi_currency_enabled: z.boolean().optional(),
      rates: z.record(z.string().regex(/^[A-Z]{3}$/), z.number().positive().nullable()).optional(),
    })
    .strict()
    .safeParse(controlBody(ctx));
  if (!parsed.success) return bad("expected { business: id|key, multi_currency_enabled?: boolean, rates?: { EUR: 1.17 | null } }", parsed.error.issues);
  const b = ctx.sb.sage.findBusiness(parsed.data.business);
  const data = b ? ctx.sb.sage.data.get(b.id) : undefined;
  if (!b || !data) return json(404, { error: "not_found", message: `unknown business ${parsed.data.business}` });
  if (parsed.data.multi_currency_enabled !== undefined) data.multiCurrencyEnabled = parsed.data.multi_currency_enabled;
  for (const [code, rate] of Object.entries(parsed.data.rates ?? {})) {
    if (rate === null) delete data.exchangeRates[code];
    else data.exchangeRates[code] = { rate, updatedMs: data.stamp() };
  }
  return json(200, { business: b.id, base_currency: data.currency, multi_currency_enabled: data.multiCurrencyEnabled, rates: Object.fromEntries(Object.entries(data.exchangeRates).map(([c, r]) => [c, r.rate])) });
}

function listSageWorld(ctx: RequestContext): Reply {
  const s = ctx.sb.sage;
  return json(200, {
    users: [...s.users.values()].map((u) => ({
      id: u.id,
      key: u.key,
      name: s.userName(u),
      email: u.email,
      lead_business_id: u.leadBusinessId,
      business_ids: u.businessIds,
    })),
    businesses: [...s.businesses.values()].map((b) => ({
      id: b.id,
      key: b.key,
      name: b.name,
      country: b.country,
      currency: b.currency,
      subscriptionActive: b.subscriptionActive,
    })),
    clientId: ctx.sb.opts.sageClientId,
    redirectUris: ctx.sb.config.redirectUris,
  });
}

function postFault(ctx: RequestContext): Reply {
  const parsed = faultInputSchema.strict().safeParse(controlBody(ctx));
  if (!parsed.success) return bad("invalid fault", parsed.error.issues);
  return json(201, ctx.sb.faults.add(parsed.data));
}

async function launchToken(ctx: RequestContext): Promise<Reply> {
  const user = portalUser(ctx.query.user);
  const account = resellerAccount(ctx.query.account, ctx.query.account_name);
  return json(200, { token: await mintLaunchToken(ctx.sb, user, account), user, account });
}

const c = { control: true };
export const controlRoutes: Route[] = [
  route("GET", "/__sandbox/health", "control.health", () => json(200, { ok: true }), c),
  route("GET", "/__sandbox/requests", "control.requests", getRequests, c),
  route("DELETE", "/__sandbox/requests", "control.requests.clear", (ctx) => {
    ctx.sb.log.clear();
    return json(200, { cleared: true });
  }, c),
  route("GET", "/__sandbox/config", "control.config", (ctx) => json(200, ctx.sb.config), c),
  route("POST", "/__sandbox/config", "control.config.set", postConfig, c),
  route("GET", "/__sandbox/clock", "control.clock", (ctx) =>
    json(200, { now: new Date(ctx.sb.now()).toISOString(), offsetSeconds: ctx.sb.clockOffsetMs / 1000 }), c),
  route("POST", "/__sandbox/clock", "control.clock.advance", postClock, c),
  route("GET", "/__sandbox/sage", "control.sage", listSageWorld, c),
  route("GET", "/__sandbox/sage/tokens", "control.sage.tokens", tokenSummary, c),
  route("POST", "/__sandbox/sage/expire-access-tokens", "control.sage.expire", expireAccessTokens, c),
  route("POST", "/__sandbox/sage/revoke-refresh-tokens", "control.sage.revoke", revokeRefreshTokens, c),
  route("POST", "/__sandbox/sage/subscription", "control.sage.subscription", setSubscription, c),
  route("POST", "/__sandbox/sage/currencies", "control.sage.currencies", setCurrencies, c),
  route("GET", "/__sandbox/faults", "control.faults", (ctx) => json(200, ctx.sb.faults.list()), c),
  route("POST", "/__sandbox/faults", "control.faults.add", postFault, c),
  route("DELETE", "/__sandbox/faults", "control.faults.clear", (ctx) => {
    ctx.sb.faults.clear();
    return json(200, { cleared: true });
  }, c),
  route("GET", "/__sandbox/state", "control.state", stateReply, c),
  route("GET", "/__sandbox/marketplace/launch-token", "control.marketplace.token", launchToken, c),
  route("POST", "/__sandbox/reset", "control.reset", (ctx) => {
    ctx.sb.reset();
    return json(200, { reset: true });
  }, c),
];

export function controlNotFound(): Reply {
  return sageError(404, "NotFound", "Unknown control endpoint.");
}
