import { z } from "zod";
import { findMarketplace, type MarketplaceConfig } from "@/lib/config";
import { findUnstorable, storableText } from "@/lib/http/storable-json";
import {
  installationRegistrationSchema,
  marketplaceCustomerSchema,
  marketplaceProductSchema,
  marketplaceRequestSchema,
  type MarketplaceCustomerDto,
  type MarketplaceProductDto,
  type MarketplaceRequestDto,
} from "./api-schemas";
import { recordLabel, type RejectedRecord } from "./rejected-record";

export class MarketplaceApiError extends Error {
  constructor(message: string, readonly status?: number, readonly retryable = false, readonly retryAfterMs?: number) {
    // the message may quote the marketplace's answer and ends up in the Action Log: keep it storable
    super(storableText(message));
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

  /** One page of a Content-Range paged list, as it came (an array), and the total. */
  private async *pages(path: string, params: Record<string, string | undefined>): AsyncGenerator<unknown[]> {
    let offset = 0;
    for (;;) {
      const query = new URLSearchParams({ ...Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined) as [string, string][]), limit: String(PAGE_SIZE), offset: String(offset) });
      const { body, headers } = await this.request(`${path}?${query}`);
      const items = z.array(z.unknown()).parse(body);
      yield items;
      const total = Number(/\/(\d+)$/.exec(headers.get("content-range") ?? "")?.[1] ?? NaN);
      offset += items.length;
      if (items.length === 0 || !(offset < total)) return;
    }
  }

  /** Every item of a paged list, validated page by page (a wrong shape fails as before). */
  private async *list<T>(path: string, params: Record<string, string | undefined>, schema: z.ZodType<T>): AsyncGenerator<T> {
    for await (const page of this.pages(path, params)) for (const item of z.array(schema).parse(page)) yield item;
  }

  registerInstallation(input: { accountId: string; webhookUrl: string }) {
    return this.request("/installations", {
      method: "POST",
      body: JSON.stringify({ account_id: input.accountId, product_id: "sage-connector", webhook_url: input.webhookUrl }),
    }).then(({ body }) => installationRegistrationSchema.parse(body));
  }

  /**
   * Orders updated since `updatedSince` (sorted by `updated`, then id). An order holding text
   * PostgreSQL cannot store (U+0000, a lone surrogate) or nested deeper than 64 levels comes as a
   * `RejectedRecord` (id, updated, the JSON path of the problem) instead: Check Changes reports it
   * and records the rest of the page. An order in a wrong shape still fails the read (ZodError).
   */
  async *orders(accountId: string, updatedSince?: Date): AsyncGenerator<MarketplaceRequestDto | RejectedRecord> {
    for await (const page of this.pages("/requests", { account_id: accountId, updated_since: updatedSince?.toISOString() })) {
      for (const item of page) {
        const problem = findUnstorable(item);
        if (problem) {
          const o = item && typeof item === "object" && !Array.isArray(item) ? (item as Record<string, unknown>) : {};
          yield { rejected: true, kind: "order", id: recordLabel(o.id), updated: recordLabel(o.updated) ?? recordLabel(o.created), problem };
        } else yield marketplaceRequestSchema.parse(item);
      }
    }
  }

  /** Customers as the marketplace lists them; text PostgreSQL cannot store is judged where they are saved (./catalog.ts). */
  customers(accountId: string): AsyncGenerator<MarketplaceCustomerDto> {
    return this.list("/customers", { account_id: accountId }, marketplaceCustomerSchema);
  }

  products(accountId: string): AsyncGenerator<MarketplaceProductDto> {
    return this.list("/products", { account_id: accountId }, marketplaceProductSchema);
  }
}
