"use client";

/** Small fetch helpers for the mapping API: JSON in, JSON out, the server's message on failure. */

export class ApiError extends Error {
  constructor(message: string, readonly status: number, readonly reason?: string) {
    super(message);
  }
}

async function read<T>(res: Response): Promise<T> {
  const body = (await res.json().catch(() => ({}))) as { error?: string; reason?: string };
  if (!res.ok) throw new ApiError(body.error ?? `HTTP ${res.status}`, res.status, body.reason);
  return body as T;
}

export async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  return read<T>(await fetch(url, { signal, headers: { Accept: "application/json" } }));
}

export async function postJson<T>(url: string, body: unknown): Promise<T> {
  return read<T>(await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body) }));
}

export type QueuedRequest = { requestId: string };
export type RequestOutcome = { requestId: string; state: "pending" } | { requestId: string; state: "done"; ok: boolean; level: string; message: string; at: string };

