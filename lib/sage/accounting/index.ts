import { z } from "zod";
import { SageError } from "../errors";
import type { SageBusiness, SageTarget } from "../target";
import { buildAuthorizationUrl, exchangeAuthorizationCode, refreshAccessToken } from "./oauth";
import { sageApiUrl, sageErrorFromResponse } from "./http";

const businessesEnvelope = z.object({
  $items: z.array(
    z.object({ id: z.string(), displayed_as: z.string().optional(), name: z.string().optional(), country: z.any().optional() }),
  ),
  $next: z.string().nullable().optional(),
});

/** Sage Business Cloud Accounting v3.1 (OAuth 2.0, REST). */
export const sageAccounting: SageTarget = {
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
  authorizationUrl: buildAuthorizationUrl,
  exchangeCode: exchangeAuthorizationCode,
  refreshTokens: refreshAccessToken,
  async listBusinesses(accessToken: string): Promise<SageBusiness[]> {
    const out: SageBusiness[] = [];
    let next: string | null = "/businesses?items_per_page=200&attributes=name,country";
    while (next) {
      const res: Response = await fetch(sageApiUrl(next), {
        headers: { Authorization: `Bearer ${accessToken}`, Accept: "application/json" },
        signal: AbortSignal.timeout(15_000),
      }).catch((cause) => {
        throw new SageError("retryable", "Could not reach Sage to list businesses", { cause });
      });
      if (!res.ok) throw await sageErrorFromResponse(res);
      const parsed = businessesEnvelope.safeParse(
        await res.json().catch((cause: unknown) => {
          throw new SageError("retryable", "Sage's list of businesses was cut off or unreadable", { status: res.status, cause });
        }),
      );
      if (!parsed.success) throw new SageError("retryable", "Sage answered the list of businesses with an unexpected body", { status: res.status });
      const page = parsed.data;
      for (const b of page.$items) {
        const country = typeof b.country === "string" ? b.country : (b.country?.id ?? b.country?.displayed_as ?? null);
        out.push({ id: b.id, name: b.name ?? b.displayed_as ?? b.id, country });
      }
      next = page.$next ? page.$next.replace(/^\/v3\.1/, "") : null;
    }
    return out;
  },
};
