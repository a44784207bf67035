import { getConfig } from "@/lib/config";
import { SageError, type SageErrorDetail } from "../errors";

/** Parse Sage's error body (a JSON array of {$severity,$dataCode,$message,$source}). */
export function parseSageErrorBody(body: unknown): SageErrorDetail[] {
  const items = Array.isArray(body) ? body : body && typeof body === "object" ? [body] : [];
  return items
    .filter((i): i is Record<string, unknown> => !!i && typeof i === "object")
    .map((i) => ({
      severity: typeof i.$severity === "string" ? i.$severity : undefined,
      dataCode: typeof i.$dataCode === "string" ? i.$dataCode : undefined,
      message: typeof i.$message === "string" ? i.$message : typeof i.message === "string" ? i.message : "Unknown error",
      source: typeof i.$source === "string" ? i.$source : undefined,
    }));
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/** Map an HTTP answer from the Sage Accounting API to a SageError (taxonomy in ../errors.ts). */
export async function sageErrorFromResponse(res: Response): Promise<SageError> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  const details = parseSageErrorBody(body);
  const message = details.map((d) => (d.source ? `${d.source}: ${d.message}` : d.message)).join("; ") || `HTTP ${res.status}`;
  const s = res.status;
  if (s === 401 || s === 403) return new SageError("auth", message, { status: s, details });
  if (s === 404) return new SageError("not_found", message, { status: s, details });
  if (s === 422 || s === 400 || s === 409) return new SageError("validation", message, { status: s, details });
  if (s === 429) return new SageError("rate_limit", message, { status: s, details, retryAfterMs: retryAfterMs(res.headers.get("retry-after")) });
  return new SageError("retryable", message, { status: s, details });
}

export function sageApiUrl(path: string): string {
  return `${getConfig().sage.apiUrl}${path.startsWith("/") ? path : `/${path}`}`;
}
