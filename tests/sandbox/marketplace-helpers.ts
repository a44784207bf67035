// Helpers for the marketplace sandbox tests: API calls with the ApiKey, control calls, and a tiny
// local HTTP receiver standing in for the plugin's webhook endpoint.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { MARKETPLACE_SECRET } from "./helpers";

export const API = "/marketplace/public/v1";

export type Json = Record<string, any>;

export function mp(base: string, path: string, init: { method?: string; body?: unknown; key?: string | null } = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (init.key !== null) headers.authorization = `ApiKey ${init.key ?? MARKETPLACE_SECRET}`;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  return fetch(`${base}${API}${path}`, {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

export async function mpJson<T = Json>(base: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await mp(base, path, init);
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path} → ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export async function ctl<T = Json>(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}/__sandbox${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const txt = await res.text();
  let parsed: unknown = txt;
  try {
    parsed = JSON.parse(txt);
  } catch {
    /* JSON lines or text */
  }
  return { status: res.status, body: parsed as T };
}

export async function deliveries(base: string, query = ""): Promise<Json[]> {
  const res = await fetch(`${base}/__sandbox/marketplace/deliveries${query ? `?${query}` : ""}`);
  return (await res.text())
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Json);
}

/** Every item of a paged list (limit/offset, Content-Range). */
export async function listAll(base: string, path: string, limit = 1000): Promise<Json[]> {
  const out: Json[] = [];
  for (let offset = 0; ; offset += limit) {
    const sep = path.includes("?") ? "&" : "?";
    const res = await mp(base, `${path}${sep}limit=${limit}&offset=${offset}`);
    if (res.status !== 200) throw new Error(`${path} → ${res.status} ${await res.text()}`);
    const items = (await res.json()) as Json[];
    out.push(...items);
    const total = Number(/\/(\d+)$/.exec(res.headers.get("content-range") ?? "")?.[1]);
    if (items.length === 0 || out.length >= total) return out;
  }
}

export interface Received {
  n: number;
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Behaviour = number | { status: number; headers?: Record<string, string> } | "hang";

/** A local webhook receiver. `behave(n)` decides the answer to the n-th request (1-based). */
export class Receiver {
  readonly received: Received[] = [];
  behave: (n: number, r: Received) => Behaviour = () => 200;
  private server: Server | null = null;
  private hanging: Array<() => void> = [];
  url = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const r: Received = { n: this.received.length + 1, at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
        this.received.push(r);
        const b = this.behave(r.n, r);
        if (b === "hang") {
          this.hanging.push(() => res.destroy());
          return;
        }
        const { status, headers } = typeof b === "number" ? { status: b, headers: {} } : b;
        res.writeHead(status, { "content-type": "text/plain", ...(headers ?? {}) });
        res.end("ok");
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/marketplace`;
    return this;
  }

  reset(): void {
    this.received.length = 0;
    this.behave = () => 200;
  }

  async close(): Promise<void> {
    for (const h of this.hanging) h();
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
