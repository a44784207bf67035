// Route table: each route names itself (the name is used by the request log and by faults).
import type { IncomingMessage } from "node:http";
import type { Sandbox } from "./context";
import type { LogEntry } from "./log";
import { isRecord, mediaType, parseForm, type Reply } from "./http";

export interface RequestContext {
  sb: Sandbox;
  req: IncomingMessage;
  method: string;
  url: URL;
  path: string;
  params: Record<string, string>;
  query: Record<string, string>;
  rawBody: Buffer;
  entry: LogEntry;
  /** Base URL of this sandbox as seen by the client (from the Host header). */
  origin: string;
}

export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;

export interface RouteMatch {
  name: string;
  params: Record<string, string>;
  handler: Handler;
  /** Control-API routes are neither logged nor subject to faults. */
  control: boolean;
}

export interface Route {
  match(method: string, path: string): RouteMatch | null;
}

/** Template routes: "/sage/v3.1/businesses/:key". */
export function route(
  method: string | string[],
  template: string,
  name: string,
  handler: Handler,
  opts: { control?: boolean } = {},
): Route {
  const keys: string[] = [];
  const pattern = new RegExp(
    "^" +
      template
        .split("/")
        .map((seg) => {
          if (seg.startsWith(":")) {
            keys.push(seg.slice(1));
            return "([^/]+)";
          }
          return seg.replace(/[.+?^${}()|[\]\\*]/g, "\\$&");
        })
        .join("/") +
      "/?$",
  );
  const methods = (Array.isArray(method) ? method : [method]).map((m) => m.toUpperCase());
  return {
    match(m, path) {
      if (!methods.includes(m)) return null;
      const found = pattern.exec(path);
      if (!found) return null;
      const params: Record<string, string> = {};
      keys.forEach((k, i) => {
        params[k] = decodeURIComponent(found[i + 1] ?? "");
      });
      return { name, params, handler, control: opts.control ?? false };
    },
  };
}

export function formOf(ctx: RequestContext): Record<string, string> {
  return parseForm(ctx.rawBody.toString("utf8"));
}

export type JsonResult = { ok: true; value: unknown } | { ok: false; error: string };

export function jsonOf(ctx: RequestContext): JsonResult {
  const raw = ctx.rawBody.toString("utf8");
  if (raw.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/** JSON object body for control endpoints ({} when empty). */
export function controlBody(ctx: RequestContext): Record<string, unknown> {
  const r = jsonOf(ctx);
  if (r.ok && isRecord(r.value)) return r.value;
  if (mediaType(ctx.req) === "application/x-www-form-urlencoded") return formOf(ctx);
  return {};
}
