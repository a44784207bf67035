// Sandbox HTTP server: simulated Sage Business Cloud Accounting, Sage 50 Cloud (Connected Cloud) + reseller marketplace.
// Run: `tsx sandbox/server.ts` (PORT, default 4010; SANDBOX_DATA_DIR keeps the state on disk).
// Library: `startSandbox({ port: 0, dataDir? })`.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { resolveOptions, Sandbox, type SandboxOptions } from "./context";
import { controlNotFound, controlRoutes } from "./control";
import type { Fault } from "./faults";
import { escapeHtml, html, json, mediaType, parseForm, queryObject, readBody, sageError, sleep, text, type Reply } from "./http";
import { maskForm, maskHeaders, maskJson, type LogEntry } from "./log";
import { API_BASE, apiError, marketplaceApiRoute } from "./marketplace/api";
import { marketplaceControlRoutes } from "./marketplace/control";
import { ordersPage, submitOrder } from "./marketplace/orders-page";
import { portalPage } from "./marketplace/portal";
import { storePage, uninstallFromStore } from "./marketplace/store";
import { route, type RequestContext, type Route, type RouteMatch } from "./router";
import { sageApiRoute, warmSpec } from "./sage/api";
import { inspectPage } from "./sage/inspect";
import { StatePersister } from "./persist";
import { oauthRoutes } from "./sage/oauth";
import { sage50ControlRoutes, sage50Routes } from "./sage50";

export type { SandboxOptions } from "./context";

export interface RunningSandbox {
  url: string;
  port: number;
  /** The live sandbox state (for in-process tests). */
  sandbox: Sandbox;
  /** The state file when started with `dataDir`, else null (in memory). */
  stateFile: string | null;
  close(): Promise<void>;
}

function indexPage(ctx: RequestContext): Reply {
  const links: Array<[string, string]> = [
    ["Marketplace store", "/marketplace/store"],
    ["Reseller portal (embeds the app)", "/marketplace/portal"],
    ["Marketplace orders (place orders by hand)", "/marketplace/orders"],
    ["Marketplace state", "/__sandbox/marketplace/state?account=RES-1001"],
    ["Webhook deliveries (JSON lines)", "/__sandbox/marketplace/deliveries"],
    ["Sage consent page (example)", `/sage/oauth2/auth/central?filter=apiv3.1&client_id=${encodeURIComponent(ctx.sb.opts.sageClientId)}&response_type=code&redirect_uri=${encodeURIComponent(ctx.sb.config.redirectUris[0] ?? "")}&scope=full_access&state=demo`],
    ["What is in Sage (invoices, credit notes)", "/sage/inspect"],
    ["Request log (JSON lines)", "/__sandbox/requests"],
    ["Sage users and businesses", "/__sandbox/sage"],
    ["Config", "/__sandbox/config"],
    ["Sage 50 desktop (enter a passcode)", "/sage50/desktop"],
    ["Sage 50 Cloud state", "/control/sage50/state"],
  ];
  return html(
    200,
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sage Connector sandbox</title></head>
<body style="font-family:system-ui,sans-serif;max-width:760px;margin:40px auto">
<h1>Sage Connector sandbox</h1>
<p>Simulated Sage Business Cloud Accounting v3.1, Sage 50 Cloud (Connected Cloud file exchange) and a CloudBlue-style reseller marketplace. App URL: <code>${escapeHtml(ctx.sb.opts.appUrl)}</code></p>
<ul>${links.map(([l, h]) => `<li><a href="${escapeHtml(h)}">${escapeHtml(l)}</a></li>`).join("")}</ul>
</body></html>`,
  );
}

const pageRoutes: Route[] = [
  route("GET", "/", "sandbox.index", indexPage),
  route("GET", "/marketplace/store", "marketplace.store", storePage),
  route("POST", "/marketplace/store/uninstall", "marketplace.store.uninstall", uninstallFromStore),
  route("GET", "/marketplace/portal", "marketplace.portal", portalPage),
  route("GET", "/marketplace/orders", "marketplace.orders", ordersPage),
  route("POST", "/marketplace/orders", "marketplace.orders.submit", submitOrder),
  route("GET", "/sage/inspect", "sandbox.inspect", inspectPage),
];

const ROUTES: Route[] = [
  ...controlRoutes,
  ...marketplaceControlRoutes,
  ...sage50ControlRoutes,
  ...oauthRoutes,
  ...pageRoutes,
  ...sage50Routes,
  marketplaceApiRoute,
  sageApiRoute,
];

function findRoute(method: string, path: string): RouteMatch {
  for (const r of ROUTES) {
    const m = r.match(method, path);
    if (m) return m;
  }
  if (path.startsWith("/__sandbox/") || path.startsWith("/control/")) {
    return { name: "control.not_found", params: {}, control: true, handler: controlNotFound };
  }
  return {
    name: "not_found",
    params: {},
    control: false,
    handler: () => text(404, `No sandbox route for ${method} ${path}\n`),
  };
}

function faultReply(sb: Sandbox, routeName: string, fault: Fault): Reply {
  const status = fault.status ?? 500;
  const headers: Record<string, string> = {};
  if (status === 429) {
    if (fault.retryAfterSeconds !== undefined) headers["retry-after"] = String(fault.retryAfterSeconds);
    else if (sb.config.rateLimit.retryAfter) headers["retry-after"] = "1";
  }
  let reply: Reply;
  if (routeName.startsWith("sage.token") || routeName.startsWith("sage.authorize")) {
    const error = status === 429 || status === 503 ? "temporarily_unavailable" : "server_error";
    reply = json(status, { error }, headers);
  } else if (routeName.startsWith("marketplace.api.")) {
    const [code, message] =
      status === 429
        ? ["rate_limited", "Too many requests; retry after the Retry-After delay."]
        : status === 503
          ? ["unavailable", "The marketplace API is temporarily unavailable."]
          : status >= 500
            ? ["internal_error", "The marketplace API failed."]
            : ["error", `Injected error ${status}.`];
    if (status === 429 && !headers["retry-after"]) headers["retry-after"] = "1";
    reply = apiError(status, code, message, headers);
  } else if (routeName.startsWith("sage50.") && !routeName.startsWith("sage50.desktop") && !routeName.startsWith("sage50.register")) {
    const error = status === 429 ? "rate_limited" : status === 503 ? "unavailable" : status >= 500 ? "internal_error" : "error";
    if (status === 429 && !headers["retry-after"]) headers["retry-after"] = "1";
    reply = json(status, { error }, headers);
  } else if (routeName.startsWith("sage.")) {
    const [code, message] =
      status === 429
        ? ["TooManyRequests", "Too many requests. Please retry later."]
        : status === 503
          ? ["ServiceUnavailable", "The service is temporarily unavailable. Please retry later."]
          : status >= 500
            ? ["InternalServerError", "Sorry about this - it looks like we're experiencing a technical problem."]
            : ["Error", `Injected error ${status}.`];
    reply = sageError(status, code, message, "", headers);
  } else {
    reply = text(status, `Injected fault ${status}\n`);
    reply.headers = { ...reply.headers, ...headers };
  }
  return reply;
}

function writeReply(res: ServerResponse, reply: Reply): void {
  const body = reply.body ?? "";
  const headers: Record<string, string> = { ...(reply.headers ?? {}) };
  if (!res.headersSent) {
    headers["content-length"] = String(Buffer.byteLength(body));
    res.writeHead(reply.status, headers);
  }
  res.end(body);
}

function originOf(req: IncomingMessage): string {
  return `http://${req.headers.host ?? "localhost"}`;
}

async function handle(sb: Sandbox, req: IncomingMessage, res: ServerResponse, pending: Set<Socket>): Promise<void> {
  const started = Date.now();
  const method = (req.method ?? "GET").toUpperCase();
  const url = new URL(req.url ?? "/", "http://sandbox.invalid");
  const path = url.pathname;
  const match = findRoute(method, path);
  let rawBody: Buffer;
  try {
    rawBody = await readBody(req);
  } catch {
    writeReply(res, text(413, "Request body too large\n"));
    return;
  }
  const query = queryObject(url);
  const entry: LogEntry = {
    seq: 0,
    at: new Date(sb.now()).toISOString(),
    method,
    path,
    query: maskForm(query),
    headers: maskHeaders(req.headers),
    status: null,
    route: match.name,
    outcome: "ok",
  };
  const mt = mediaType(req);
  if (rawBody.length > 0) {
    if (mt === "application/x-www-form-urlencoded") {
      const form = parseForm(rawBody.toString("utf8"));
      entry.form = maskForm(form);
      if (form.grant_type !== undefined) entry.grant_type = form.grant_type;
    } else {
      const raw = rawBody.toString("utf8");
      try {
        entry.body = maskJson(JSON.parse(raw));
      } catch {
        entry.body = raw.length > 2000 ? `${raw.slice(0, 2000)}…` : raw;
      }
    }
  }
  const ctx: RequestContext = {
    sb,
    req,
    method,
    url,
    path,
    params: match.params,
    query,
    rawBody,
    entry,
    origin: originOf(req),
  };

  if (match.control) {
    let reply: Reply;
    try {
      reply = await match.handler(ctx);
    } catch (e) {
      reply = json(500, { error: "internal", message: e instanceof Error ? e.message : String(e) });
    }
    writeReply(res, reply);
    return;
  }

  entry.seq = sb.log.nextSeq();
  const finish = (status: number | null, outcome: string, extra?: Record<string, unknown>): void => {
    entry.status = status;
    entry.outcome = outcome;
    if (extra) Object.assign(entry, extra);
    entry.duration_ms = Date.now() - started;
    sb.log.push(entry);
  };

  const fault = sb.faults.take(match.name);
  if (fault) entry.fault = fault.kind === "status" ? `status:${fault.status ?? 500}` : fault.kind;
  if (fault?.kind === "drop") {
    finish(null, "dropped");
    req.socket.destroy();
    return;
  }
  if (fault?.kind === "timeout") {
    // Never answer; the client times out. Cleaned up when the client goes away or on close().
    const socket = req.socket;
    pending.add(socket);
    socket.once("close", () => {
      pending.delete(socket);
      finish(null, "timeout");
    });
    return;
  }
  if (fault?.kind === "status") {
    const reply = faultReply(sb, match.name, fault);
    finish(reply.status, "ok", reply.log);
    writeReply(res, reply);
    return;
  }
  if (fault?.kind === "delay") await sleep(fault.delayMs ?? 1000);

  let reply: Reply;
  try {
    reply = await match.handler(ctx);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    reply = match.name.startsWith("sage.")
      ? sageError(500, "InternalServerError", `Sandbox error: ${message}`)
      : path.startsWith(API_BASE)
        ? apiError(500, "internal_error", `Sandbox error: ${message}`)
        : path.startsWith("/sage50/api/")
          ? json(500, { error: "internal_error", message: `Sandbox error: ${message}` })
          : text(500, `Sandbox error: ${message}\n`);
  }
  if (reply.dropConnection) {
    // The handler stored the work and asks for the connection to be destroyed unanswered.
    finish(reply.status, "commit-then-drop", { ...reply.log, sage50_fault: "drop_after_store" });
    req.socket.destroy();
    return;
  }
  if (fault?.kind === "commit-then-drop") {
    // The work is done (and stored); the client never hears about it.
    finish(reply.status, "commit-then-drop", reply.log);
    req.socket.destroy();
    return;
  }
  if (fault?.kind === "commit-then-truncate") {
    // The work is done and the status line and headers go out; the connection breaks mid-body.
    finish(reply.status, "commit-then-truncate", reply.log);
    const body = Buffer.from(reply.body ?? "");
    res.writeHead(reply.status, { ...(reply.headers ?? {}), "content-length": String(body.length) });
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => req.socket.destroy());
    return;
  }
  finish(reply.status, "ok", reply.log);
  writeReply(res, reply);
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<RunningSandbox> {
  const { resolved, redirectUris } = resolveOptions(opts);
  const sb = new Sandbox(resolved, redirectUris);
  const persister = opts.dataDir ? new StatePersister(sb, opts.dataDir) : null;
  if (persister) {
    persister.load();
    sb.onChange = () => persister.schedule();
  }
  const pending = new Set<Socket>();
  const server = createServer((req, res) => {
    // Any request may change state (the request log at least), except reads of the control API.
    if (persister && !((req.method === "GET" || req.method === "HEAD") && (req.url ?? "").startsWith("/__sandbox/"))) {
      res.once("close", () => persister.schedule());
    }
    handle(sb, req, res, pending).catch((e: unknown) => {
      if (!res.headersSent) writeReply(res, text(500, `Sandbox error: ${String(e)}\n`));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  const port = opts.port ?? 4010;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    if (opts.host) server.listen(port, opts.host, () => resolve());
    else server.listen(port, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = opts.host && opts.host !== "0.0.0.0" && opts.host !== "::" ? opts.host : "127.0.0.1";
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    sandbox: sb,
    stateFile: persister?.file ?? null,
    close: () =>
      new Promise<void>((resolve) => {
        sb.dispose();
        persister?.close();
        for (const s of pending) s.destroy();
        pending.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return fileURLToPath(import.meta.url) === entry || entry.endsWith("sandbox/server.ts");
  } catch {
    return false;
  }
}

if (isMain()) {
  const port = Number(process.env.PORT ?? 4010);
  startSandbox({ port, host: process.env.SANDBOX_HOST, dataDir: process.env.SANDBOX_DATA_DIR || undefined })
    .then((running) => {
      const local = `http://localhost:${running.port}`;
      const loop = `http://127.0.0.1:${running.port}`;
      const cfg = running.sandbox.config;
      console.log(`Sage Connector sandbox listening on ${local} and ${loop}`);
      console.log(`  app URL            ${running.sandbox.opts.appUrl}`);
      console.log(`  marketplace store  ${loop}/marketplace/store`);
      console.log(`  reseller portal    ${loop}/marketplace/portal   (open at 127.0.0.1: a different site from the app)`);
      console.log(`  marketplace orders ${loop}/marketplace/orders   (place orders; webhooks go to the installation)`);
      console.log(`  marketplace API    ${local}${API_BASE}   (Authorization: ApiKey <MARKETPLACE_SECRET>)`);
      console.log(`  Sage authorize     ${local}/sage/oauth2/auth/central?filter=apiv3.1`);
      console.log(`  Sage token         ${local}/sage/oauth/token`);
      console.log(`  Sage API base      ${local}/sage/v3.1`);
      console.log(`  Sage client_id     ${running.sandbox.opts.sageClientId}`);
      console.log(`  redirect URIs      ${cfg.redirectUris.join(", ")}`);
      console.log(`  Sage 50 Cloud API  ${local}/sage50/api   (X-Api-Key: <apikey>; register with POST /sage50/api/developers)`);
      console.log(`  Sage 50 desktop    ${loop}/sage50/desktop   (enter a passcode, grant access)`);
      console.log(`  control API        ${local}/__sandbox/requests · /__sandbox/config · /__sandbox/faults · /__sandbox/reset · /control/sage50/state`);
      console.log(`  inspect Sage data  ${local}/sage/inspect`);
      console.log(`  state              ${running.stateFile ?? "in memory (set SANDBOX_DATA_DIR to keep it across restarts)"}`);
      // Convert the published spec now, in the background, so the first API call is not slow.
      setTimeout(() => {
        warmSpec().catch((e: unknown) => console.error("spec conversion failed:", e));
      }, 50);
      const stop = (): void => {
        running.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    })
    .catch((e: unknown) => {
      console.error("sandbox failed to start:", e);
      process.exit(1);
    });
}
