import { getDb } from "@/db/client";
import { authorizeActionLogRead } from "../_shared";
import { actionLogCsvFileName, actionLogCsvStream } from "@/lib/log/action-log-csv";
import { actionLogFilterParams, describeParamError, filterFromParams, searchParamsObject } from "@/lib/log/action-log-params";

/**
 * The reseller's Action Log as CSV, with the list's filters (`?level=…&q=…`, no page): streamed page
 * by page (lib/log/action-log-csv.ts), never built in memory.
 */
export async function GET(request: Request) {
  const parsed = actionLogFilterParams.safeParse(searchParamsObject(new URL(request.url).searchParams));
  if (!parsed.success) return Response.json({ error: describeParamError(parsed.error) }, { status: 400 });
  const { scope, error } = await authorizeActionLogRead(parsed.data.tenant);
  if (error) return error;
  const body = actionLogCsvStream(await getDb(), scope, filterFromParams(parsed.data));
  return new Response(body, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${actionLogCsvFileName()}"`,
      "X-Content-Type-Options": "nosniff",
    },
  });
}
