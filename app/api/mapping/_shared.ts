import type { z } from "zod";
import { authorizeResellerAdmin, authorizeTenantRead } from "@/lib/auth/session";
import { parseJsonBody } from "@/lib/http/json-body";
import { actorFor, type SessionUser } from "@/lib/auth/session-user";
import { MappingError } from "@/lib/mapping/common";

/** Shared by the mapping route handlers: parse (zod) → authorize (reseller admin) → answer errors. */

export type Admin = SessionUser & { tenantId: string };

export function badRequest(error: z.ZodError) {
  return Response.json({ error: error.issues.map((i) => i.message).join("; ") }, { status: 400 });
}

export function parseQuery<T extends z.ZodType>(request: Request, schema: T): z.ZodSafeParseResult<z.infer<T>> {
  return schema.safeParse(Object.fromEntries(new URL(request.url).searchParams)) as z.ZodSafeParseResult<z.infer<T>>;
}

/** The JSON body, storable and checked by the schema (lib/http/json-body.ts). */
export const parseBody = parseJsonBody;

/** The reseller admin, or the 401 (nobody signed in) / 403 (support, other roles) answer. */
export const resellerAdmin = () => authorizeResellerAdmin();

/** Runs the lib call; a MappingError becomes its status with the message (nothing was changed). */
export async function answer(fn: () => Promise<unknown>, status = 200): Promise<Response> {
  try {
    return Response.json(await fn(), { status });
  } catch (e) {
    if (e instanceof MappingError) return Response.json({ error: e.message, reason: e.reason }, { status: e.status });
    throw e;
  }
}

export { actorFor };

/** Reads: the reseller admin, or support viewing the tenant read only (view as). */
export const tenantReader = () => authorizeTenantRead();
