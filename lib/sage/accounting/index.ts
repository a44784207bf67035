import { z } from "zod";
import { SageError } from "../errors";
import type { SageApiTarget, SageBusiness } from "../target";
import { buildAuthorizationUrl, exchangeAuthorizationCode, refreshAccessToken } from "./oauth";
import { sageApiUrl, sageErrorFromResponse } from "./http";
import { accountingConnection } from "./operations";

// Only what Sage's published user/businesses description has: `GET /businesses` takes no query
// parameters (no items_per_page, page or attributes), `GET /businesses/{key}` answers one Business.
const businessRef = z.object({ id: z.string(), displayed_as: z.string().nullish(), name: z.string().nullish(), country: z.unknown().optional() });
/** The description models a bare array of Business; Sage's guides show the paging envelope. Both are read. */
const businessesAnswer = z.union([
  z.array(businessRef),
  z.object({ $items: z.array(businessRef), $next: z.string().nullable().optional() }),
]);
const businessDetail = businessRef;

type BusinessRef = z.infer<typeof businessRef>;

/** Country code of a Business (`country: {id: "GB", displayed_as: …}` per the description; a string accepted). */
function countryOf(b: BusinessRef): string | null | undefined {
  const c = b.country;
  if (c === undefined) return undefined;
  if (typeof c === "string") return c;
  if (c && typeof c === "object") {
    const o = c as { id?: unknown; displayed_as?: unknown };
    if (typeof o.id === "string") return o.id;
    if (typeof o.displayed_as === "string") return o.displayed_as;
  }
  return null;
}

async function getUserApi(accessToken: string, path: string, what: string): Promise<unknown> {
  const res: Response = await fetch(sageApiUrl(path), {
    headers: { Authorization: `Bearer ${accessToken}`, Accept: "application/json" },
    signal: AbortSignal.timeout(15_000),
  }).catch((cause) => {
    throw new SageError("retryable", `Could not reach Sage to read ${what}`, { cause });
  });
  if (!res.ok) throw await sageErrorFromResponse(res);
  return res.json().catch((cause: unknown) => {
    throw new SageError("retryable", `Sage's answer with ${what} was cut off or unreadable`, { status: res.status, cause });
  });
}

/** How many `GET /businesses/{id}` look-ups run at once when the list lacks the country. */
const DETAIL_CONCURRENCY = 4;

/** Sage Business Cloud Accounting v3.1 (OAuth 2.0, REST). */
export const sageAccounting: SageApiTarget = {
  id: "sage-accounting",
  label: "Sage Business Cloud Accounting",
  countries: [
    { code: "gb", label: "United Kingdom" },
    { code: "ie", label: "Ireland" },
    { code: "us", label: "United States" },
    { code: "ca", label: "Canada" },
    { code: "de", label: "Germany" },
    { code: "es", label: "Spain" },
    { code: "fr", label: "France" },
  ],
  rateLimit: { limit: 200, periodSeconds: 60 },
  // what v3.1 offers the connector (SAGE-FACTS.md): contacts, products/services, sales invoices and
  // credit notes read, created and updated; allocations created (and read), never updated
  capabilities: {
    contacts: { read: true, create: true, update: true },
    items: { read: true, create: true, update: true },
    invoices: { read: true, create: true, update: true },
    credit_notes: { read: true, create: true, update: true },
    allocations: { read: true, create: true, update: false },
  },
  exchange: "api",
  credentialsKind: "oauth",
  connect: accountingConnection,
  authorizationUrl: buildAuthorizationUrl,
  exchangeCode: exchangeAuthorizationCode,
  refreshTokens: refreshAccessToken,
  async listBusinesses(accessToken: string): Promise<SageBusiness[]> {
    const refs: BusinessRef[] = [];
    // `$next`, when Sage gives one, is Sage's own link and is followed as given.
    let next: string | null = "/businesses";
    while (next) {
      const parsed = businessesAnswer.safeParse(await getUserApi(accessToken, next, "the list of businesses"));
      if (!parsed.success) throw new SageError("retryable", "Sage answered the list of businesses with an unexpected body");
      const page = parsed.data;
      if (Array.isArray(page)) {
        refs.push(...page);
        next = null;
      } else {
        refs.push(...page.$items);
        next = page.$next ? page.$next.replace(/^\/v3\.1/, "") : null;
      }
    }
    // The list names each business (displayed_as); the country (shown when choosing one) is read
    // from `GET /businesses/{id}` unless the list already carried it.
    const out: SageBusiness[] = new Array<SageBusiness>(refs.length);
    const resolve = async (ref: BusinessRef, i: number) => {
      let country = countryOf(ref);
      let name = ref.name ?? ref.displayed_as ?? null;
      if (country === undefined) {
        const detail = businessDetail.safeParse(await getUserApi(accessToken, `/businesses/${encodeURIComponent(ref.id)}`, "a business"));
        if (!detail.success) throw new SageError("retryable", "Sage answered a business with an unexpected body");
        country = countryOf(detail.data);
        name ??= detail.data.name ?? detail.data.displayed_as ?? null;
      }
      out[i] = { id: ref.id, name: name ?? ref.id, country: country ?? null };
    };
    for (let i = 0; i < refs.length; i += DETAIL_CONCURRENCY) {
      await Promise.all(refs.slice(i, i + DETAIL_CONCURRENCY).map((ref, j) => resolve(ref, i + j)));
    }
    return out;
  },
};
