import { getDb } from "@/db/client";
import { authorizeResellerAdmin } from "@/lib/auth/session";
import { actionLogCsvFileName, actionLogCsvStream } from "@/lib/log/action-log-csv";
import { actionLogFilterParams, describeParamError, filterFromParams, searchParamsObject } from "@/lib/log/action-log-params";

/**
 * The reseller's Action Log as CSV, with the list's filters (`?level=…&q=…`, no page): streamed page
 * by page (lib/log/action-log-csv.ts), never built in memory.
 */
export async function GET(request: Request) {
  const parsed = actionLogFilterParams.safeParse(searchParamsObject(new URL(request.url).searchParams));
  if (!parsed.success) return Response.json({ error: describeParamError(parsed.error) }, { status: 400 });
  const { user, error } = await authorizeResellerAdmin();
  if (error) return error;
  const body = actionLogCsvStream(await getDb(), { kind: "tenant", tenantId: user.tenantId }, filterFromParams(parsed.data));
  return new Response(body, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${actionLogCsvFileName()}"`,
      "X-Content-Type-Options": "nosniff",
    },
  });
}
