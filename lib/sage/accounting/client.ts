import type { Database } from "@/db/client";
import { sageTransport } from "./api";
import { sageApiUrl } from "./http";

/**
 * One authenticated call to the Sage Accounting API for a connection, through the same transport
 * as the typed client (token refresh, X-Business, retries, SageError). For paths the typed client
 * does not describe; prefer `createSageAccountingClient`.
 */
export function sageFetch(db: Database, connectionId: string, path: string, init: RequestInit = {}): Promise<Response> {
  return sageTransport({ db, connectionId })(new Request(sageApiUrl(path), init));
}

export async function sageGetJson<T = unknown>(db: Database, connectionId: string, path: string): Promise<T> {
  const res = await sageFetch(db, connectionId, path);
  return (await res.json()) as T;
}
