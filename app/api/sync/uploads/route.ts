import { authorizeTenantRead } from "@/lib/auth/session";
import { z } from "zod";
import { getDb } from "@/db/client";
import { fileUploadsOverview } from "@/lib/tasks/file-uploads";
import { issues, syncAdmin } from "../_shared";

const query = z.object({ limit: z.coerce.number({ message: "limit is a number" }).int("limit is a whole number").min(1, "limit is at least 1").max(20, "limit is at most 20").default(5) });

/** The latest order files of a file-exchange connection (Sage 50 Cloud) with status and progress; the Tasks page polls it. A read. */
export async function GET(request: Request) {
  const parsed = query.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!parsed.success) return issues(parsed.error);
  const auth = await authorizeTenantRead();
  if (auth.error) return auth.error;
  return Response.json({ overview: await fileUploadsOverview(await getDb(), auth.access.tenantId, parsed.data.limit) });
}
