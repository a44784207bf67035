import type { SageSession } from "../target";
import { sageTransport } from "./api";
import { sageApiUrl } from "./http";

/**
 * One authenticated call to the Sage Accounting API for a session, through the same transport as
 * the typed client (token refresh, X-Business, retries, SageError). For paths the typed client does
 * not describe; prefer `createSageAccountingClient`.
 */
export function sageFetch(session: SageSession, path: string, init: RequestInit = {}): Promise<Response> {
  return sageTransport(session)(new Request(sageApiUrl(path), init));
}

export async function sageGetJson<T = unknown>(session: SageSession, path: string): Promise<T> {
  const res = await sageFetch(session, path);
  return (await res.json()) as T;
}
