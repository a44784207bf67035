// Control API of the Sage 50 simulator (not logged, never faulted): the mailbox, faults, config,
// state, stuck uploads and file changes. Served under /control/sage50 (the contract's paths) and,
// like every other control route, under /__sandbox/sage50 too.
import { z } from "zod";
import { json, type Reply } from "../http";
import { maskValue } from "../log";
import { controlBody, route, type RequestContext, type Route } from "../router";
import { fileControlRoutes } from "./files";
import { fail } from "./replies";
import { FILE_SCOPES, iso } from "./state";
import { settleUploads, uploadStatus } from "./uploads";

const count = z.number().int().min(0);
const faultSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("expire_key_after"), calls: count }).strict(),
  z.object({ kind: z.literal("tracking_stuck"), uploads: count.min(1) }).strict(),
  z.object({ kind: z.literal("partial_failure"), recordIds: z.array(z.string().min(1)).min(1), message: z.string().min(1) }).strict(),
  z.object({ kind: z.literal("bad_request"), uploads: count.min(1) }).strict(),
  z.object({ kind: z.literal("drop_after_store"), uploads: count.min(1) }).strict(),
]);

const configSchema = z
  .object({
    passcodeTtlS: z.number().int().min(1),
    apiKeyTtlS: z.number().int().min(1),
    trackingStepMs: z.number().int().min(0).max(3_600_000),
    signCalls: z.boolean(),
  })
  .partial()
  .strict();

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
}

function mailbox(ctx: RequestContext): Reply {
  const email = (ctx.query.email ?? "").toLowerCase();
  return json(200, ctx.sb.sage50.mailbox.filter((m) => !email || m.email.toLowerCase() === email).map(({ email: _e, ...m }) => m));
}

function addFault(ctx: RequestContext): Reply {
  const parsed = faultSchema.safeParse(controlBody(ctx));
  if (!parsed.success) return fail(400, "bad_request", issues(parsed.error));
  return json(201, ctx.sb.sage50.addFault(parsed.data));
}

function releaseStuck(ctx: RequestContext): Reply {
  const w = ctx.sb.sage50;
  let released = 0;
  for (const c of w.companies.values()) {
    for (const u of c.uploads) {
      if (u.stuck && u.releasedMs === null && !u.outcome) {
        u.releasedMs = w.now();
        released += 1;
      }
    }
  }
  return json(200, { released });
}

function setConfig(ctx: RequestContext): Reply {
  const parsed = configSchema.safeParse(controlBody(ctx));
  if (!parsed.success) return fail(400, "bad_request", issues(parsed.error));
  const w = ctx.sb.sage50;
  w.config = { ...w.config, ...parsed.data };
  return json(200, w.config);
}

function state(ctx: RequestContext): Reply {
  const w = ctx.sb.sage50;
  const now = w.now();
  return json(200, {
    developers: [...w.developers.values()].map((d) => ({ developerId: d.id, name: d.name, email: d.email, createdAt: iso(d.createdMs) })),
    applications: [...w.applications.values()].map((a) => ({ applicationId: a.id, developerId: a.developerId, name: a.name, approvalUrl: a.approvalUrl, notificationUrl: a.notificationUrl })),
    companies: [...w.companies.values()].map((c) => {
      settleUploads(w, c);
      return {
        companyId: c.id,
        name: c.name,
        country: c.country,
        currency: c.currency,
        keys: [...w.apiKeys.values()]
          .filter((k) => k.companyId === c.id)
          .map((k) => ({ applicationId: k.applicationId, apikey: maskValue(k.key), expires: iso(k.expiresMs), expired: k.expiresMs <= now })),
        rotations: c.rotations,
        files: FILE_SCOPES.map((s) => ({ scope: s, fileId: c.files[s].fileId, records: c.files[s].records.length })),
        uploads: c.uploads.map((u) => ({ uploadId: u.uploadId, status: uploadStatus(w, u).status, records: u.records.length, createdAt: iso(u.createdMs) })),
        documents: c.documents.map((d) => ({ orderId: d.orderId, type: d.type, documentNumber: d.documentNumber, uploadId: d.uploadId })),
      };
    }),
    faults: w.faults,
    calls: w.calls,
  });
}

function routesUnder(prefix: string): Route[] {
  const c = { control: true };
  return [
    route("GET", `${prefix}/mailbox`, "control.sage50.mailbox", mailbox, c),
    route("GET", `${prefix}/faults`, "control.sage50.faults", (ctx) => json(200, ctx.sb.sage50.faults), c),
    route("POST", `${prefix}/faults`, "control.sage50.faults.add", addFault, c),
    route("DELETE", `${prefix}/faults`, "control.sage50.faults.clear", (ctx) => {
      ctx.sb.sage50.faults = [];
      return json(200, { cleared: true });
    }, c),
    route("POST", `${prefix}/release-stuck`, "control.sage50.release_stuck", releaseStuck, c),
    route("GET", `${prefix}/state`, "control.sage50.state", state, c),
    route("GET", `${prefix}/config`, "control.sage50.config", (ctx) => json(200, ctx.sb.sage50.config), c),
    route("POST", `${prefix}/config`, "control.sage50.config.set", setConfig, c),
    ...fileControlRoutes(prefix),
  ];
}

export const sage50ControlRoutes: Route[] = [...routesUnder("/control/sage50"), ...routesUnder("/__sandbox/sage50")];
