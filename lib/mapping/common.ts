import { and, asc, eq, ne, sql } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "@/db/client";
import { connections } from "@/db/schema";

/** Why a mapping request was refused. Every refusal changes nothing. */
export type MappingErrorReason =
  | "not_found"
  | "no_connection"
  | "sage_item_missing"
  | "sage_contact_missing"
  | "many_to_one"
  | "bad_input"
  | "not_installed";

export class MappingError extends Error {
  constructor(
    readonly reason: MappingErrorReason,
    message: string,
  ) {
    super(message);
    this.name = "MappingError";
  }

  /** The HTTP status a route handler answers with. */
  get status(): number {
    switch (this.reason) {
      case "not_found":
        return 404;
      case "bad_input":
        return 400;
      case "no_connection":
      case "not_installed":
      case "many_to_one":
        return 409;
      case "sage_item_missing":
      case "sage_contact_missing":
        return 422;
    }
  }
}

export const NOTHING_SAVED = "Nothing was saved.";

/** The tenant's current (not disconnected) Sage connection, usable inside a transaction. */
export async function activeConnection(q: Queryable, tenantId: string) {
  const [row] = await q
    .select({ id: connections.id, name: connections.name, status: connections.status, businessName: connections.businessName, businessId: connections.businessId })
    .from(connections)
    .where(and(eq(connections.tenantId, tenantId), ne(connections.status, "disconnected")))
    .orderBy(asc(connections.createdAt))
    .limit(1);
  return row ?? null;
}

export async function requireActiveConnection(q: Queryable, tenantId: string) {
  const connection = await activeConnection(q, tenantId);
  if (!connection) throw new MappingError("no_connection", `No Sage connection: connect Sage from the dashboard first. ${NOTHING_SAVED}`);
  return connection;
}

/**
 * Serializes mapping changes of one tenant for the rest of the transaction, so rules that span
 * rows (many → one) cannot be raced by two concurrent requests.
 */
export async function lockTenantMappings(tx: Queryable, tenantId: string) {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`mapping:${tenantId}`}, 0))`);
}

/** `%`, `_` and `\` match themselves in a LIKE pattern built from user input. */
export function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** "Microsoft 365 Basic", "A, B and 3 more" */
export function listNames(names: string[], max = 3): string {
  if (names.length <= max) return names.join(", ");
  return `${names.slice(0, max).join(", ")} and ${names.length - max} more`;
}

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Lower-cased, trimmed, inner whitespace collapsed: how names and codes are compared. */
export function normalizeKey(value: string | null | undefined): string {
  return (value ?? "").trim().replace(/\s+/g, " ").toLowerCase();
}

/** `?unmapped=` as the mapping lists accept it: 1/0, true/false, on/off (a checkbox), or absent. */
const unmappedFlag = z
  .union([z.boolean(), z.enum(["1", "0", "true", "false", "on", "off", ""])], { message: "unmapped must be 1 or 0" })
  .optional()
  .transform((v) => v === true || v === "1" || v === "true" || v === "on");

/** Query parameters every mapping list takes (server-side filter and paging); lists extend it. */
export const mappingListQueryShape = {
  search: z.string().trim().max(200, "Search for at most 200 characters.").default(""),
  unmapped: unmappedFlag,
  offset: z.coerce.number({ message: "offset must be a number" }).int().min(0, "offset must be 0 or more").default(0),
  limit: z.coerce.number({ message: "limit must be a number" }).int().min(1).max(500, "limit must be 1–500").default(100),
};
