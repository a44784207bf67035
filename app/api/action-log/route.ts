import { getDb } from "@/db/client";
import { authorizeActionLogRead } from "./_shared";
import { actionLogListParams, describeParamError, filterFromParams, searchParamsObject } from "@/lib/log/action-log-params";
import { queryActionLog } from "@/lib/log/action-log-query";

/**
 * The reseller's Action Log, newest first, one page: `?level=…&category=…&actorType=…&actor=…&from=…&to=…&q=…&limit=…&cursor=…`
 * (lib/log/action-log-params.ts) → `{ entries, nextCursor }`. Details: `GET /api/action-log/{id}`.
 */
export async function GET(request: Request) {
  const parsed = actionLogListParams.safeParse(searchParamsObject(new URL(request.url).searchParams));
  if (!parsed.success) return Response.json({ error: describeParamError(parsed.error) }, { status: 400 });
  const { scope, error } = await authorizeActionLogRead(parsed.data.tenant);
  if (error) return error;
  const page = await queryActionLog(await getDb(), scope, filterFromParams(parsed.data), { limit: parsed.data.limit, cursor: parsed.data.cursor });
  return Response.json({ entries: page.entries.map((e) => ({ ...e, at: e.at.toISOString() })), nextCursor: page.nextCursor });
}
