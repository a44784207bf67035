// Small HTTP toolkit for the sandbox: replies as values (so the dispatcher can
// delay, drop or "commit then drop" them), body parsing, HTML escaping.
import type { IncomingMessage } from "node:http";

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Extra fields merged into the request-log entry (e.g. error code, spec_violation). */
  log?: Record<string, unknown>;
  /** The work is done (and stored) but the connection is destroyed unanswered (a handler's own fault). */
  dropConnection?: boolean;
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(value),
  };
}

export function html(status: number, markup: string, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...headers },
    body: markup,
  };
}

export function text(status: number, value: string, contentType = "text/plain; charset=utf-8"): Reply {
  return { status, headers: { "content-type": contentType }, body: value };
}

export function redirect(location: string, status = 302): Reply {
  return { status, headers: { location, "cache-control": "no-store" }, body: "" };
}

export function noContent(): Reply {
  return { status: 204, body: "" };
}

/** Sage's error body: a JSON array of {$severity,$dataCode,$message,$source}. */
export interface SageError {
  $severity: "error" | "warning" | "info";
  $dataCode: string;
  $message: string;
  $source: string;
}

export function sageError(
  status: number,
  dataCode: string,
  message: string,
  source = "",
  headers: Record<string, string> = {},
): Reply {
  const body: SageError[] = [{ $severity: "error", $dataCode: dataCode, $message: message, $source: source }];
  const r = json(status, body, headers);
  r.log = { error: dataCode };
  return r;
}

export function sageErrors(status: number, errors: SageError[], headers: Record<string, string> = {}): Reply {
  const r = json(status, errors, headers);
  r.log = { error: errors.map((e) => e.$dataCode).join(",") };
  return r;
}

export function escapeHtml(value: unknown): string {
  return String(value ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

export const MAX_BODY_BYTES = 5 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > MAX_BODY_BYTES) throw new Error("request body too large");
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

export function mediaType(req: IncomingMessage): string {
  const ct = req.headers["content-type"] ?? "";
  return (ct.split(";")[0] ?? "").trim().toLowerCase();
}

export function parseForm(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    if (!(k in out)) out[k] = v;
  }
  return out;
}

export function queryObject(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) {
    if (!(k in out)) out[k] = v;
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
