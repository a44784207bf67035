import { z } from "zod";
import { getDb } from "@/db/client";
import { authorizeActionLogRead } from "../_shared";
import { actionLogEntry } from "@/lib/log/action-log-query";

const params = z.object({ id: z.coerce.number({ error: "the id must be a positive whole number" }).int("the id must be a positive whole number").positive("the id must be a positive whole number").max(Number.MAX_SAFE_INTEGER) });

/** One Action Log row of the reseller's tenant with its details (the drill-down); another tenant's id → 404. */
export async function GET(_request: Request, context: { params: Promise<{ id: string }> }) {
  const parsed = params.safeParse(await context.params);
  if (!parsed.success) return Response.json({ error: parsed.error.issues[0]?.message ?? "bad id" }, { status: 400 });
  const { scope, error } = await authorizeActionLogRead(undefined);
  if (error) return error;
  const entry = await actionLogEntry(await getDb(), scope, parsed.data.id);
  if (!entry) return Response.json({ error: "No such Action Log entry." }, { status: 404 });
  return Response.json({ entry: { ...entry, at: entry.at.toISOString() } });
}
