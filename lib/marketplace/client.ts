import { z } from "zod";
import { findMarketplace, type MarketplaceConfig } from "@/lib/config";
import {
  installationRegistrationSchema,
  marketplaceCustomerSchema,
  marketplaceProductSchema,
  marketplaceRequestSchema,
  type MarketplaceCustomerDto,
  type MarketplaceProductDto,
  type MarketplaceRequestDto,
} from "./api-schemas";

export class MarketplaceApiError extends Error {
  constructor(message: string, readonly status?: number, readonly retryable = false, readonly retryAfterMs?: number) {
    super(message);
    this.name = "MarketplaceApiError";
  }
}

const PAGE_SIZE = 500;
const READ_ATTEMPTS = 3;

/** A client for one marketplace's public API (docs/marketplace-api.md). */
export class MarketplaceClient {
  constructor(private readonly marketplace: MarketplaceConfig) {}

  static for(marketplaceId: string): MarketplaceClient {
    const m = findMarketplace(marketplaceId);
    if (!m) throw new MarketplaceApiError(`Unknown marketplace “${marketplaceId}”`);
    return new MarketplaceClient(m);
  }

  /**
   * One call; reads (GET) are retried on a dropped connection (e.g. a keep-alive socket the server
   * closed while we were busy with the previous page), 429 (Retry-After) and 5xx: 3 attempts.
   */
  private async request(path: string, init: RequestInit = {}): Promise<{ body: unknown; headers: Headers }> {
    const idempotent = (init.method ?? "GET") === "GET";
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.requestOnce(path, init);
      } catch (e) {
        if (!idempotent || attempt >= READ_ATTEMPTS || !(e instanceof MarketplaceApiError) || !e.retryable) throw e;
        await new Promise((r) => setTimeout(r, Math.min(e.retryAfterMs ?? 250 * 2 ** (attempt - 1), 10_000)));
      }
    }
  }

  private async requestOnce(path: string, init: RequestInit = {}): Promise<{ body: unknown; headers: Headers }> {
    let res: Response;
    try {
      res = await fetch(`${this.marketplace.apiUrl}${path}`, {
        ...init,
        headers: { Authorization: `ApiKey ${this.marketplace.secret}`, Accept: "application/json", ...(init.body ? { "Content-Type": "application/json" } : {}) },
        signal: AbortSignal.timeout(20_000),
      });
    } catch (cause) {
      throw new MarketplaceApiError(`${this.marketplace.name} did not answer (${(cause as Error).message})`, undefined, true);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (cause) {
      throw new MarketplaceApiError(`${this.marketplace.name} broke off its answer (${(cause as Error).message})`, res.status, true);
    }
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      throw new MarketplaceApiError(`${this.marketplace.name} answered ${res.status} with a body that is not JSON`, res.status, res.status >= 500);
    }
    if (!res.ok) {
      const message = (body as { message?: string } | null)?.message ?? `HTTP ${res.status}`;
      const retryAfter = Number(res.headers.get("retry-after"));
      throw new MarketplaceApiError(`${this.marketplace.name}: ${message}`, res.status, res.status === 429 || res.status >= 500, Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : undefined);
    }
    return { body, headers: res.headers };
  }

  /** Every item of a Content-Range paged list. */
  private async *list<T>(path: string, params: Record<string, string | undefined>, schema: z.ZodType<T>): AsyncGenerator<T> {
    let offset = 0;
    for (;;) {
      const query = new URLSearchParams({ ...Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined) as [string, string][]), limit: String(PAGE_SIZE), offset: String(offset) });
      const { body, headers } = await this.request(`${path}?${query}`);
      const items = z.array(schema).parse(body);
      for (const item of items) yield item;
      const total = Number(/\/(\d+)$/.exec(headers.get("content-range") ?? "")?.[1] ?? NaN);
      offset += items.length;
      if (items.length === 0 || !(offset < total)) return;
    }
  }

  registerInstallation(input: { accountId: string; webhookUrl: string }) {
    return this.request("/installations", {
      method: "POST",
      body: JSON.stringify({ account_id: input.accountId, product_id: "sage-connector", webhook_url: input.webhookUrl }),
    }).then(({ body }) => installationRegistrationSchema.parse(body));
  }

  orders(accountId: string, updatedSince?: Date): AsyncGenerator<MarketplaceRequestDto> {
    return this.list("/requests", { account_id: accountId, updated_since: updatedSince?.toISOString() }, marketplaceRequestSchema);
  }

  customers(accountId: string): AsyncGenerator<MarketplaceCustomerDto> {
    return this.list("/customers", { account_id: accountId }, marketplaceCustomerSchema);
  }

  products(accountId: string): AsyncGenerator<MarketplaceProductDto> {
    return this.list("/products", { account_id: accountId }, marketplaceProductSchema);
  }
}
