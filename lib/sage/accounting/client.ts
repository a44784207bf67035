import type { Database } from "@/db/client";
import { getAccessToken } from "@/lib/connections/tokens";
import { SageError } from "../errors";
import { sageApiUrl, sageErrorFromResponse } from "./http";

/**
 * One authenticated call to the Sage Accounting API for a connection: bearer token (refreshed
 * before expiry and once on 401) and `X-Business` on every call.
 */
export async function sageFetch(db: Database, connectionId: string, path: string, init: RequestInit = {}): Promise<Response> {
  let token = await getAccessToken(db, connectionId);
  for (let attempt = 0; attempt < 2; attempt++) {
    const headers = new Headers(init.headers);
    headers.set("Authorization", `Bearer ${token.accessToken}`);
    headers.set("Accept", "application/json");
    if (token.businessId) headers.set("X-Business", token.businessId);
    let res: Response;
    try {
      res = await fetch(sageApiUrl(path), { ...init, headers, signal: init.signal ?? AbortSignal.timeout(30_000) });
    } catch (cause) {
      const method = (init.method ?? "GET").toUpperCase();
      throw new SageError(method === "GET" ? "retryable" : "unknown_outcome", `No answer from Sage for ${method} ${path}`, { cause });
    }
    if (res.status === 401 && attempt === 0) {
      token = await getAccessToken(db, connectionId, { rejectedToken: token.accessToken });
      continue;
    }
    if (!res.ok) throw await sageErrorFromResponse(res);
    return res;
  }
  throw new SageError("auth", "Sage rejected a freshly refreshed access token");
}

export async function sageGetJson<T = unknown>(db: Database, connectionId: string, path: string): Promise<T> {
  const res = await sageFetch(db, connectionId, path);
  return (await res.json()) as T;
}
