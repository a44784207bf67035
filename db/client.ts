import path from "node:path";
import fs from "node:fs";
import * as schema from "./schema";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";

/**
 * One schema, one migrations folder, two drivers:
 * - `DATABASE_URL=postgres://…` → node-postgres (`pg`)
 * - unset → embedded PGlite under `PGLITE_DIR` (default `.data/pglite`; `memory://` for tests), on a
 *   worker thread (db/pglite-in-worker.ts) so its synchronous SQL does not block the event loop;
 *   `PGLITE_WORKER=0` keeps it on the main thread
 */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** Anything that can run queries: the database or an open transaction. */
export type Queryable = Database | Transaction;

export const MIGRATIONS_FOLDER = path.join(process.cwd(), "db", "migrations");

export type DatabaseHandle = { db: Database; driver: "pg" | "pglite"; close: () => Promise<void> };

export async function openDatabase(options: { url?: string; pgliteDir?: string } = {}): Promise<DatabaseHandle> {
  const url = options.url ?? process.env.DATABASE_URL;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const { Pool } = await import("pg");
    const { drizzle } = await import("drizzle-orm/node-postgres");
    const { migrate } = await import("drizzle-orm/node-postgres/migrator");
    const pool = new Pool({ connectionString: url, max: Number(process.env.DATABASE_POOL_SIZE ?? 10) });
    // An idle client whose server connection ends (restart, failover, admin command) emits `error` on
    // the pool; unhandled it would crash the process. The pool drops that client and opens a new one.
    pool.on("error", (error) => console.error(`[db] idle PostgreSQL connection lost: ${error.message}`));
    const db = drizzle(pool, { schema }) as unknown as Database;
    await migrate(db as never, { migrationsFolder: MIGRATIONS_FOLDER });
    return { db, driver: "pg", close: () => pool.end() };
  }
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  const dir = options.pgliteDir ?? process.env.PGLITE_DIR ?? path.join(process.cwd(), ".data", "pglite");
  if (!dir.startsWith("memory://")) fs.mkdirSync(dir, { recursive: true });
  // on its own thread unless PGLITE_WORKER=0; pg_trgm (the Action Log's text filter, migration 0007) loaded in both
  const client =
    process.env.PGLITE_WORKER === "0"
      ? new (await import("@electric-sql/pglite")).PGlite(dir, { extensions: { pg_trgm: (await import("@electric-sql/pglite/contrib/pg_trgm")).pg_trgm } })
      : await (await import("./pglite-in-worker")).openPGliteInWorker(dir);
  const db = drizzle(client as never, { schema }) as unknown as Database;
  await migrate(db as never, { migrationsFolder: MIGRATIONS_FOLDER });
  return { db, driver: "pglite", close: () => client.close() };
}

const globalForDb = globalThis as unknown as { __sageConnectorDb?: Promise<DatabaseHandle> };

/** The process-wide database (opened and migrated once). */
export function getDatabaseHandle(): Promise<DatabaseHandle> {
  globalForDb.__sageConnectorDb ??= openDatabase();
  return globalForDb.__sageConnectorDb;
}

export async function getDb(): Promise<Database> {
  return (await getDatabaseHandle()).db;
}

/** Tests: replace the process-wide database. */
export function setDatabaseHandleForTests(handle: DatabaseHandle | undefined) {
  globalForDb.__sageConnectorDb = handle ? Promise.resolve(handle) : undefined;
}
