/**
 * P4 — the Action Log at scale: `npx tsx bench/action-log-p4.ts`
 *   [--db=postgres,pglite] [--rows=1000000] [--tenants=1000] [--queries=400] [--export-rows=100000]
 *
 * For each database, in a child process of its own (`node --expose-gc`, so RSS figures are that
 * database's alone): a fresh database (PostgreSQL: a new database next to DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres; PGlite: a temp directory, like the app's .data/pglite),
 * migrated as the app migrates it, then seeded in SQL (`insert … select generate_series`) with
 * `rows` Action Log rows across `tenants` tenants: the first tenant holds `export-rows` of them (a
 * big reseller), the others share the rest; 400 days of history, the five levels, seven categories,
 * four actor types, messages like the app's. The indexes are dropped for the load and rebuilt after
 * it with the migration's own definitions, then ANALYZE.
 *
 * Measured, interleaved query by query after a warm-up, through the app's own code path (drizzle):
 *   - filtered page: `queryActionLog` (lib/log/action-log-query.ts) for a random tenant (the big one
 *     one time in ten) with level = error, a random 60-day range and a text (`failed`, `invoice`:
 *     every error row; `PR-1`: some; `PR-4242`: almost none), 50 a page;
 *   - bare: `select … from action_log where tenant_id = $1 order by at desc, id desc limit 50` (same tenants).
 * Targets: filtered p95 ≤ 20 ms on PostgreSQL, and ≤ 3 × the bare query's p95 (both databases).
 * EXPLAIN (ANALYZE) of one filtered page is printed: it must use an index (no Seq Scan on action_log).
 * CSV export: `actionLogCsvStream` of the big tenant (100,000 rows), consumed chunk by chunk; RSS
 * sampled every 20 ms: growth (peak − before, after gc) < 50 MB.
 * A run that measured nothing prints FAIL.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { arg, mb, numArg, percentile, verdict } from "./lib/cli";

type ChildResult = {
  database: string;
  rows: number;
  tenants: number;
  seedSeconds: number;
  indexSeconds: number;
  queries: number;
  filtered: { p50: number; p95: number; avgRows: number; max: number };
  /** the filtered queries on the biggest tenant alone (informational) */
  filteredBig: { n: number; p50: number; p95: number; max: number };
  bare: { p50: number; p95: number };
  explain: string;
  usesIndex: boolean;
  exportRows: number;
  exportBytes: number;
  exportSeconds: number;
  rssBefore: number;
  rssPeak: number;
  /** after the export, gc() twice: what the export kept (should be ~0: the peak was garbage) */
  rssAfterGc: number;
  heapPeakGrowth: number;
};

const TEXTS = ["failed", "invoice", "PR-1", "PR-4242"];
/** share of queries (filtered and bare alike) on the biggest tenant */
const BIG_TENANT_SHARE = 0.1;

// ─── child: one database ─────────────────────────────────────────────────────────────────────────

async function child(database: string, opts: { rows: number; tenants: number; queries: number; exportRows: number }): Promise<ChildResult> {
  let cleanup = async () => {};
  if (database === "postgres") {
    const base = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
    const { Client } = await import("pg");
    const name = `sc_bench_p4_${Date.now()}`;
    const admin = new Client({ connectionString: base });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(base);
    url.pathname = `/${name}`;
    process.env.DATABASE_URL = url.toString();
    cleanup = async () => {
      const c = new Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    };
  } else {
    delete process.env.DATABASE_URL;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sc-bench-p4-"));
    process.env.PGLITE_DIR = dir;
    cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
  }
  const { openDatabase } = await import("@/db/client");
  const { sql } = await import("drizzle-orm");
  const { desc, eq } = await import("drizzle-orm");
  const { actionLog } = await import("@/db/schema");
  const { queryActionLog, actionLogPageStatement } = await import("@/lib/log/action-log-query");
  const { actionLogCsvStream } = await import("@/lib/log/action-log-csv");
  const handle = await openDatabase();
  const db = handle.db;
  const rowsOf = (r: unknown) => ((r as { rows?: Record<string, unknown>[] }).rows ?? (r as Record<string, unknown>[])) as Record<string, unknown>[];
  try {
    // ── seed ──
    const t0 = performance.now();
    await db.execute(sql`insert into tenants (marketplace_account_id, name) select 'P4-' || lpad(g::text, 5, '0'), 'P4 Reseller ' || g from generate_series(1, ${opts.tenants}) g`);
    const indexes = rowsOf(await db.execute(sql`select indexname, indexdef from pg_indexes where tablename = 'action_log' and indexname <> 'action_log_pkey'`)) as { indexname: string; indexdef: string }[];
    for (const ix of indexes) await db.execute(sql.raw(`drop index "${ix.indexname}"`));
    const big = opts.exportRows;
    const others = opts.tenants - 1;
    const CHUNK = 250_000;
    for (let from = 1; from <= opts.rows; from += CHUNK) {
      const to = Math.min(opts.rows, from + CHUNK - 1);
      // at: a permutation of g ((g × 7919) mod rows, 7919 prime) spread over 400 days, so every tenant's
      // rows, the big one's too, cover the whole history; a few microseconds apart within a second
      await db.execute(sql`
        with t as (select array_agg(id order by marketplace_account_id) as ids from tenants where marketplace_account_id like 'P4-%'),
        r as (select g, (array['info','success','info','warning','error','info','success','action_required','info','success'])[1 + (g * 7) % 10] as level from generate_series(${from}::int, ${to}::int) g)
        insert into action_log (tenant_id, at, actor_type, actor_id, actor_label, level, category, message, details)
        select
          t.ids[case when g <= ${big} then 1 else 2 + (g % ${others}) end],
          timestamptz '2026-12-01T00:00:00Z' - make_interval(secs => ((g::bigint * 7919) % ${opts.rows} * 34560000 / ${opts.rows})::double precision + (g % 7) * 0.000001),
          (array['system','system','user','marketplace','support'])[1 + g % 5],
          case when g % 5 in (2, 4) then 'user-' || (g % 97) end,
          (array['Sage Connector','Sage Connector','Alex Morgan <alex@reseller.test>','Demo Marketplace','Sam Support <support@sage-connector.test>'])[1 + g % 5],
          level,
          case level when 'error' then 'sync' when 'success' then 'sync' when 'action_required' then 'mapping' when 'warning' then 'auth'
               else (array['install','settings','mapping','support','system','sync'])[1 + (g * 3) % 6] end,
          case level
            when 'error' then 'Order PR-' || (g % 50000) || ' failed: Sage refused the invoice (currency_id must match the contact''s currency)'
            when 'success' then 'Order PR-' || (g % 50000) || ' synced: invoice SI-' || g
            when 'action_required' then 'Order PR-' || (g % 50000) || ': map product MPN-' || (g % 800) || ' to a Sage item first'
            when 'warning' then 'Token refresh for connection ' || (g % 1000) || ' retried after a timeout'
            else (array['Sage contact created for customer TA-' || (g % 3000),
                        'Check Changes: ' || (g % 9) || ' new tasks, ' || (g % 13) || ' already known.',
                        'Product MPN-' || (g % 800) || ' mapped to Sage item ' || (g % 500)])[1 + (g * 11) % 3] end,
          jsonb_build_object('n', g, 'orderId', 'PR-' || (g % 50000))
        from t, r`);
    }
    const seedSeconds = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    for (const ix of indexes) await db.execute(sql.raw(ix.indexdef));
    await db.execute(sql`analyze action_log`);
    await db.execute(sql`analyze tenants`);
    const indexSeconds = (performance.now() - t1) / 1000;
    const n = Number(rowsOf(await db.execute(sql`select count(*)::int as n from action_log`))[0]?.n ?? 0);
    const tenantIds = (rowsOf(await db.execute(sql`select id from tenants where marketplace_account_id like 'P4-%' order by marketplace_account_id`)) as { id: string }[]).map((r) => r.id);
    console.error(`[${database}] seeded ${n} rows across ${tenantIds.length} tenants in ${seedSeconds.toFixed(1)} s; indexes rebuilt in ${indexSeconds.toFixed(1)} s`);

    // ── queries ──
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
    const someTenant = () => (random() < BIG_TENANT_SHARE ? tenantIds[0]! : pick(tenantIds));
    const filteredArgs = () => {
      const tenantId = someTenant();
      const end = new Date(Date.UTC(2026, 11, 1) - Math.floor(random() * 340) * 86_400_000);
      const start = new Date(end.getTime() - 60 * 86_400_000);
      return { scope: { kind: "tenant" as const, tenantId }, filter: { levels: ["error" as const], from: start, to: end, text: pick(TEXTS) } };
    };
    const filteredOnce = async () => {
      const { scope, filter } = filteredArgs();
      const t = performance.now();
      const page = await queryActionLog(db, scope, filter, { limit: 50 });
      return { ms: performance.now() - t, rows: page.entries.length, big: scope.tenantId === tenantIds[0] };
    };
    const bareOnce = async () => {
      const tenantId = someTenant();
      const t = performance.now();
      await db.select({ id: actionLog.id, at: actionLog.at, level: actionLog.level, category: actionLog.category, message: actionLog.message, actorLabel: actionLog.actorLabel }).from(actionLog).where(eq(actionLog.tenantId, tenantId)).orderBy(desc(actionLog.at), desc(actionLog.id)).limit(50);
      return performance.now() - t;
    };
    for (let i = 0; i < 40; i++) {
      await filteredOnce();
      await bareOnce();
    }
    const filtered: number[] = [];
    const filteredBig: number[] = [];
    const bare: number[] = [];
    let rowsSeen = 0;
    for (let i = 0; i < opts.queries; i++) {
      // alternate which goes first
      if (i % 2 === 0) {
        const f = await filteredOnce();
        filtered.push(f.ms);
        if (f.big) filteredBig.push(f.ms);
        rowsSeen += f.rows;
        bare.push(await bareOnce());
      } else {
        bare.push(await bareOnce());
        const f = await filteredOnce();
        filtered.push(f.ms);
        if (f.big) filteredBig.push(f.ms);
        rowsSeen += f.rows;
      }
    }

    // ── EXPLAIN of one filtered page (the big tenant: the most rows to wade through) ──
    const explainArgs = { scope: { kind: "tenant" as const, tenantId: tenantIds[0]! }, filter: { levels: ["error" as const], from: new Date("2026-06-01T00:00:00Z"), to: new Date("2026-08-01T00:00:00Z"), text: "failed" } };
    const { statement } = actionLogPageStatement(db, explainArgs.scope, explainArgs.filter, { limit: 50 });
    const q = statement.toSQL();
    const literal = (v: unknown) => (v === null ? "null" : typeof v === "number" ? String(v) : `'${String(v instanceof Date ? v.toISOString() : v).replace(/'/g, "''")}'`);
    const text = q.sql.replace(/\$(\d+)/g, (_, i: string) => literal(q.params[Number(i) - 1]));
    const plan = rowsOf(await db.execute(sql.raw(`explain (analyze, buffers) ${text}`)))
      .map((r) => String(r["QUERY PLAN"] ?? Object.values(r)[0]))
      .join("\n");
    const usesIndex = /Index (Only )?Scan|Bitmap Index Scan/.test(plan) && !/Seq Scan on action_log/.test(plan);

    // ── CSV export of the big tenant ──
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    await new Promise((r) => setTimeout(r, 200));
    gc?.();
    const rssBefore = process.memoryUsage().rss;
    const heapBefore = process.memoryUsage().heapUsed;
    let rssPeak = rssBefore;
    let heapPeak = heapBefore;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      rssPeak = Math.max(rssPeak, m.rss);
      heapPeak = Math.max(heapPeak, m.heapUsed);
    }, 20);
    const t2 = performance.now();
    let bytes = 0;
    let lines = 0;
    const exportPage = numArg("export-page", 0);
    const reader = actionLogCsvStream(db, { kind: "tenant", tenantId: tenantIds[0]! }, {}, exportPage > 0 ? { pageSize: exportPage } : {}).getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      bytes += r.value.byteLength;
      for (const b of r.value) if (b === 10) lines++;
    }
    const exportSeconds = (performance.now() - t2) / 1000;
    clearInterval(sampler);
    const m = process.memoryUsage();
    rssPeak = Math.max(rssPeak, m.rss);
    heapPeak = Math.max(heapPeak, m.heapUsed);
    gc?.();
    await new Promise((r) => setTimeout(r, 200));
    gc?.();
    const rssAfterGc = process.memoryUsage().rss;
    return {
      database,
      rows: n,
      tenants: tenantIds.length,
      seedSeconds,
      indexSeconds,
      queries: filtered.length,
      filtered: { p50: percentile(filtered, 50), p95: percentile(filtered, 95), avgRows: rowsSeen / Math.max(1, filtered.length), max: Math.max(...filtered) },
      filteredBig: { n: filteredBig.length, p50: filteredBig.length ? percentile(filteredBig, 50) : 0, p95: filteredBig.length ? percentile(filteredBig, 95) : 0, max: filteredBig.length ? Math.max(...filteredBig) : 0 },
      bare: { p50: percentile(bare, 50), p95: percentile(bare, 95) },
      explain: plan,
      usesIndex,
      // lines: the header and one per row, except that messages here hold no line breaks
      exportRows: lines - 1,
      exportBytes: bytes,
      exportSeconds,
      rssBefore,
      rssPeak,
      rssAfterGc,
      heapPeakGrowth: heapPeak - heapBefore,
    };
  } finally {
    await handle.close().catch(() => {});
    await cleanup();
  }
}

// ─── parent ──────────────────────────────────────────────────────────────────────────────────────

function runChild(database: string, argv: string[]): Promise<ChildResult | null> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["--expose-gc", "--import", "tsx", __filename, "--phase=child", `--db=${database}`, ...argv], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, NODE_OPTIONS: "" } });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("P4-RESULT "));
      if (code !== 0 || !line) {
        console.log(out);
        console.log(`  [${database}] the child process ended with code ${code} and no result`);
        return resolve(null);
      }
      resolve(JSON.parse(line.slice("P4-RESULT ".length)) as ChildResult);
    });
  });
}

function report(r: ChildResult): boolean {
  const pg = r.database === "postgres";
  const ratio = r.filtered.p95 / r.bare.p95;
  const growth = mb(r.rssPeak - r.rssBefore);
  console.log(`\nP4 — ${r.database}: ${r.rows.toLocaleString("en")} Action Log rows, ${r.tenants} tenants (seeded in ${r.seedSeconds.toFixed(1)} s, indexes built in ${r.indexSeconds.toFixed(1)} s)`);
  console.log(`  filtered page (tenant + level + 60-day range + text), ${r.queries} queries: p50 ${r.filtered.p50.toFixed(2)} ms, p95 ${r.filtered.p95.toFixed(2)} ms, max ${r.filtered.max.toFixed(2)} ms (${r.filtered.avgRows.toFixed(1)} rows a page on average)`);
  console.log(`    of which on the biggest tenant (${r.filteredBig.n} queries): p50 ${r.filteredBig.p50.toFixed(2)} ms, p95 ${r.filteredBig.p95.toFixed(2)} ms, max ${r.filteredBig.max.toFixed(2)} ms`);
  console.log(`  bare indexed page (tenant, newest 50), ${r.queries} queries: p50 ${r.bare.p50.toFixed(2)} ms, p95 ${r.bare.p95.toFixed(2)} ms`);
  console.log(`  EXPLAIN (ANALYZE, BUFFERS) of a filtered page of the biggest tenant:\n${r.explain.split("\n").map((l) => `    ${l}`).join("\n")}`);
  const checks: [boolean, string][] = [];
  if (pg) checks.push([r.filtered.p95 <= 20, `filtered p95 ${r.filtered.p95.toFixed(2)} ms (target ≤ 20 ms)`]);
  checks.push([ratio <= 3, `filtered p95 ÷ bare p95 = ${ratio.toFixed(2)} (target ≤ 3)`]);
  checks.push([r.usesIndex, `the filtered page uses an index, no Seq Scan on action_log`]);
  checks.push([r.exportRows > 0 && growth < 50, `CSV export of ${r.exportRows.toLocaleString("en")} rows (${mb(r.exportBytes).toFixed(1)} MB in ${r.exportSeconds.toFixed(1)} s): RSS growth ${growth.toFixed(1)} MB (target < 50 MB; ${mb(r.rssBefore).toFixed(0)} → peak ${mb(r.rssPeak).toFixed(0)} MB, heapUsed peak +${mb(r.heapPeakGrowth).toFixed(1)} MB; after gc ${mb(r.rssAfterGc - r.rssBefore) >= 0 ? "+" : ""}${mb(r.rssAfterGc - r.rssBefore).toFixed(1)} MB)`]);
  for (const [pass, what] of checks) console.log(`  ${verdict(pass)}  ${what}`);
  return checks.every(([p]) => p);
}

async function main() {
  const opts = { rows: numArg("rows", 1_000_000), tenants: numArg("tenants", 1_000), queries: numArg("queries", 400), exportRows: numArg("export-rows", 100_000) };
  if (arg("phase") === "child") {
    const result = await child(arg("db", "postgres"), opts);
    console.log(`P4-RESULT ${JSON.stringify(result)}`);
    return true;
  }
  const dbs = arg("db", "postgres,pglite").split(",").filter(Boolean);
  const nothing: string[] = [];
  if (dbs.length === 0) nothing.push("--db names no database");
  for (const d of dbs) if (d !== "postgres" && d !== "pglite") nothing.push(`unknown database ${d} (postgres | pglite)`);
  if (!(opts.queries >= 200)) nothing.push(`p95 needs --queries ≥ 200 (got ${opts.queries})`);
  if (!(opts.tenants >= 2 && opts.rows > opts.exportRows && opts.exportRows >= 1)) nothing.push(`needs --tenants ≥ 2 and --rows > --export-rows ≥ 1 (got ${opts.tenants}, ${opts.rows}, ${opts.exportRows})`);
  if (nothing.length > 0) {
    console.log(`\nP4 (Action Log at scale): FAIL (nothing measured: ${nothing.join("; ")})`);
    return false;
  }
  const argv = [`--rows=${opts.rows}`, `--tenants=${opts.tenants}`, `--queries=${opts.queries}`, `--export-rows=${opts.exportRows}`];
  const results: boolean[] = [];
  for (const d of dbs) {
    const r = await runChild(d, argv);
    results.push(r ? report(r) : false);
  }
  const pass = results.length > 0 && results.every(Boolean);
  console.log(`\nP4 (Action Log at scale): ${results.length === 0 ? "FAIL (nothing measured)" : pass ? "PASS" : "FAIL"}`);
  return pass;
}

main().then(
  (pass) => process.exit(pass ? 0 : 1),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
