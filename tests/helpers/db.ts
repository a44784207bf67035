import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { openDatabase, type DatabaseHandle } from "@/db/client";

/**
 * A fresh, migrated database for one test file: PGlite by default (in memory, or in a temp dir
 * when `persistent` so a "restart" can reopen it), or a brand-new PostgreSQL database when
 * DATABASE_URL is set (npm test runs the DB integration tests on both).
 */
export type TestDatabase = DatabaseHandle & { reopen: () => Promise<TestDatabase>; drop: () => Promise<void>; label: string; /** how another process opens the same database */ env: { DATABASE_URL?: string; PGLITE_DIR?: string } };

export async function openTestDatabase(opts: { persistent?: boolean } = {}): Promise<TestDatabase> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const { Client } = await import("pg");
    const name = `sc_test_${Date.now()}_${randomBytes(3).toString("hex")}`;
    const admin = new Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const dbUrl = new URL(url);
    dbUrl.pathname = `/${name}`;
    const make = async (): Promise<TestDatabase> => {
      const handle = await openDatabase({ url: dbUrl.toString() });
      return {
        ...handle,
        label: `postgres:${name}`,
        env: { DATABASE_URL: dbUrl.toString() },
        reopen: async () => {
          await handle.close().catch(() => {});
          return make();
        },
        drop: async () => {
          await handle.close().catch(() => {});
          const c = new Client({ connectionString: url });
          await c.connect();
          await c.query(`drop database if exists ${name} with (force)`);
          await c.end();
        },
      };
    };
    return make();
  }
  const dir = opts.persistent ? fs.mkdtempSync(path.join(os.tmpdir(), "sc-pglite-")) : "memory://";
  const make = async (): Promise<TestDatabase> => {
    const handle = await openDatabase({ url: "", pgliteDir: dir });
    return {
      ...handle,
      label: `pglite:${dir}`,
      env: { PGLITE_DIR: dir },
      reopen: async () => {
        await handle.close().catch(() => {});
        return make();
      },
      drop: async () => {
        await handle.close().catch(() => {});
        if (dir !== "memory://") fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  };
  return make();
}
