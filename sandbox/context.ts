// One running sandbox instance: options, mutable config, clock, request log, faults and the
// simulated worlds. Every startSandbox() call gets its own instance (tests run several).
import { FaultStore } from "./faults";
import { RequestLog } from "./log";
import { defaultWebhookConfig, WebhookDispatcher, type WebhookConfig } from "./marketplace/webhooks";
import { MarketplaceWorld } from "./marketplace/world";
import { SageWorld } from "./sage/world";
import { AppCaller } from "./sage50/calls";
import type { Sage50Config } from "./sage50/config";
import { Sage50World } from "./sage50/state";

export interface SandboxOptions {
  port?: number;
  host?: string;
  appUrl?: string;
  marketplaceSecret?: string;
  sageClientId?: string;
  sageClientSecret?: string;
  redirectUris?: string[];
  /**
   * Keep the state (Sage users, businesses, grants and data; marketplace accounts; clock; request log)
   * in `<dataDir>/sandbox-state.json`, loaded at start and saved shortly after every change.
   * Unset: in memory only. The direct run reads SANDBOX_DATA_DIR.
   */
  dataDir?: string;
  /**
   * Sage 50 Cloud simulator settings (else SANDBOX_SAGE50_PASSCODE_TTL_S, SANDBOX_SAGE50_API_KEY_TTL_S,
   * SANDBOX_SAGE50_TRACKING_STEP_MS, else the defaults); changed at run time by POST /control/sage50/config.
   */
  sage50?: Partial<Sage50Config>;
}

export interface ResolvedOptions {
  appUrl: string;
  marketplaceSecret: string;
  sageClientId: string;
  sageClientSecret: string;
  sageAppName: string;
  sage50: Partial<Sage50Config>;
}

export interface RateLimitConfig {
  /** Calls allowed per business per window. */
  limit: number;
  windowSeconds: number;
  /** Send a Retry-After header on 429 (not confirmed for real Sage; switchable). */
  retryAfter: boolean;
}

export interface SandboxConfig {
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  codeTtlSeconds: number;
  redirectUris: string[];
  rateLimit: RateLimitConfig;
  /** Status a readonly-scope token gets on POST/PUT/DELETE (not documented publicly). */
  readonlyWriteStatus: 401 | 403;
  /** Validate /sage/v3.1 requests against the published spec. */
  specValidation: boolean;
  /** Marketplace → plugin webhook delivery. */
  webhooks: WebhookConfig;
}

export function defaultConfig(redirectUris: string[]): SandboxConfig {
  return {
    accessTokenTtlSeconds: 300,
    refreshTokenTtlSeconds: 31 * 24 * 3600,
    codeTtlSeconds: 60,
    redirectUris: redirectUris.slice(),
    rateLimit: { limit: 200, windowSeconds: 60, retryAfter: true },
    readonlyWriteStatus: 403,
    specValidation: true,
    webhooks: defaultWebhookConfig(),
  };
}

export class Sandbox {
  readonly opts: ResolvedOptions;
  readonly initialRedirectUris: string[];
  config: SandboxConfig;
  readonly log = new RequestLog();
  readonly faults = new FaultStore();
  clockOffsetMs = 0;
  sage: SageWorld;
  marketplace: MarketplaceWorld;
  webhooks: WebhookDispatcher;
  /** Simulated Sage 50 Cloud (Connected Cloud) and its calls to applications. */
  sage50: Sage50World;
  sage50Calls: AppCaller;
  /** Told about state changes that happen outside a request (set by the persister). */
  onChange: (() => void) | null = null;

  constructor(opts: ResolvedOptions, redirectUris: string[]) {
    this.opts = opts;
    this.initialRedirectUris = redirectUris.slice();
    this.config = defaultConfig(redirectUris);
    this.sage = new SageWorld(() => this.now());
    this.marketplace = new MarketplaceWorld(() => this.now());
    this.webhooks = this.newDispatcher();
    this.sage50 = new Sage50World(() => this.now(), opts.sage50);
    this.sage50Calls = new AppCaller(() => this.sage50);
  }

  private newDispatcher(): WebhookDispatcher {
    return new WebhookDispatcher(
      () => this.marketplace,
      () => this.config.webhooks,
      () => this.now(),
      () => this.onChange?.(),
    );
  }

  /** Sandbox clock (real time plus an offset the control API can advance). */
  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  reset(): void {
    this.config = defaultConfig(this.initialRedirectUris);
    this.log.clear();
    this.faults.clear();
    this.clockOffsetMs = 0;
    this.sage = new SageWorld(() => this.now());
    this.webhooks.stop();
    this.marketplace = new MarketplaceWorld(() => this.now());
    this.webhooks = this.newDispatcher();
    this.sage50Calls.stop();
    this.sage50 = new Sage50World(() => this.now(), this.opts.sage50);
    this.sage50Calls = new AppCaller(() => this.sage50);
  }

  /** Stops background work (webhook deliveries, Sage 50 notifications, and their retries). */
  dispose(): void {
    this.webhooks.stop();
    this.sage50Calls.stop();
  }
}

export function resolveOptions(opts: SandboxOptions = {}): { resolved: ResolvedOptions; redirectUris: string[] } {
  const env = process.env;
  const appUrl = (opts.appUrl ?? env.APP_URL ?? "http://localhost:3000").replace(/\/+$/, "");
  const fromEnv = env.SANDBOX_SAGE_REDIRECT_URIS?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const redirectUris = opts.redirectUris ?? (fromEnv && fromEnv.length ? fromEnv : [`${appUrl}/oauth2redirect`]);
  return {
    resolved: {
      appUrl,
      marketplaceSecret: opts.marketplaceSecret ?? env.MARKETPLACE_SECRET ?? "demo-marketplace-shared-secret-change-me",
      sageClientId: opts.sageClientId ?? env.SAGE_CLIENT_ID ?? "sage-connector-demo",
      sageClientSecret: opts.sageClientSecret ?? env.SAGE_CLIENT_SECRET ?? "sandbox-client-secret",
      sageAppName: env.SANDBOX_SAGE_APP_NAME ?? "Sage Connector",
      sage50: { ...(opts.sage50 ?? {}) },
    },
    redirectUris,
  };
}
