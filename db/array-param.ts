import { sql, type SQL } from "drizzle-orm";

/**
 * A whole JS array as ONE bound parameter, cast to a PostgreSQL array type: `= any(${arrayParam(ids, "uuid")})`,
 * `from unnest(${arrayParam(a, "text")}, …)`. Set-based statements over hundreds of rows then bind a
 * handful of parameters instead of one per value (drizzle would expand an array into `($1, $2, …)`),
 * which is much cheaper to build, send and plan — on PGlite and on PostgreSQL alike.
 */
export function arrayParam(values: readonly unknown[], pgType: "uuid" | "text" | "float8" | "int4" | "timestamptz" | "jsonb"): SQL {
  return sql`${sql.param(values)}::${sql.raw(pgType)}[]`;
}
