import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { actionLog, tenants, type ActorType, type LogCategory, type LogLevel } from "@/db/schema";
import {
  actionLogEntry,
  actionLogScopeFor,
  decodeActionLogCursor,
  encodeActionLogCursor,
  InvalidActionLogCursorError,
  queryActionLog,
  type ActionLogFilter,
  type ActionLogScope,
} from "@/lib/log/action-log-query";
import { openTestDatabase, type TestDatabase } from "../helpers/db";

/**
 * Action Log queries: keyset pagination (newest first, stable while rows are added), each filter,
 * and tenant scoping. Rows are inserted with exact `at` values (to the microsecond) so every
 * expectation is a list of ids.
 */
describe("queryActionLog", () => {
  let t: TestDatabase;
  let a: string;
  let b: string;
  const ids: Record<string, number> = {};

  type Row = { key: string; tenant: "a" | "b" | null; at: string; level?: LogLevel; category?: LogCategory; actorType?: ActorType; actorLabel?: string; message?: string; details?: Record<string, unknown> };
  async function insert(row: Row) {
    const [r] = await t.db
      .insert(actionLog)
      .values({
        tenantId: row.tenant === "a" ? a : row.tenant === "b" ? b : null,
        at: sql`${row.at}::timestamptz` as unknown as Date,
        actorType: row.actorType ?? "system",
        actorLabel: row.actorLabel ?? "Sage Connector",
        level: row.level ?? "info",
        category: row.category ?? "sync",
        message: row.message ?? row.key,
        details: row.details ?? {},
      })
      .returning({ id: actionLog.id });
    ids[row.key] = r!.id;
    return r!.id;
  }
  const A: ActionLogScope = { kind: "tenant", tenantId: "" };
  const scopeA = (): ActionLogScope => ({ ...A, tenantId: a });
  const keysOf = (entries: { id: number }[]) => entries.map((e) => Object.entries(ids).find(([, id]) => id === e.id)?.[0] ?? `#${e.id}`);

  beforeAll(async () => {
    t = await openTestDatabase();
    const [ta, tb] = await t.db.insert(tenants).values([{ marketplaceAccountId: "RES-LOGQ-A", name: "Log A Ltd" }, { marketplaceAccountId: "RES-LOGQ-B", name: "Log B Ltd" }]).returning();
    a = ta!.id;
    b = tb!.id;
    // the filter fixture: tenant A on 2026-11-01 … 2026-11-05, tenant B and no tenant alongside
    const rows: Row[] = [
      { key: "a1", tenant: "a", at: "2026-11-01T09:00:00.000000Z", level: "info", category: "install", actorType: "user", actorLabel: "Alex Morgan <alex@northwind.test>", message: "Plugin installed" },
      { key: "a2", tenant: "a", at: "2026-11-02T09:00:00.000000Z", level: "error", category: "sync", actorType: "system", message: "Order PR-1001 failed: Sage refused the invoice" },
      { key: "a3", tenant: "a", at: "2026-11-03T09:00:00.000000Z", level: "warning", category: "auth", actorType: "system", message: "Token refresh retried" },
      { key: "a4", tenant: "a", at: "2026-11-04T09:00:00.000000Z", level: "action_required", category: "mapping", actorType: "marketplace", actorLabel: "Demo Marketplace", message: "Map product 100% Cloud_Backup first" },
      { key: "a5", tenant: "a", at: "2026-11-05T09:00:00.000000Z", level: "success", category: "sync", actorType: "support", actorLabel: "Sam Support <support@sage-connector.test>", message: "order pr-1001 synced: invoice SI-7" },
      { key: "b1", tenant: "b", at: "2026-11-02T10:00:00.000000Z", level: "error", category: "sync", message: "Order PR-1001 failed at tenant B" },
      { key: "s1", tenant: null, at: "2026-11-03T10:00:00.000000Z", level: "error", category: "system", message: "System-wide PR-1001 note" },
    ];
    for (const r of rows) await insert(r);
  });
  afterAll(async () => t?.drop());

  const query = (filter: ActionLogFilter, scope: ActionLogScope = scopeA()) => queryActionLog(t.db, scope, filter, { limit: 200 }).then((p) => keysOf(p.entries));

  it("each filter returns exactly the expected rows, newest first", async () => {
    expect(await query({})).toEqual(["a5", "a4", "a3", "a2", "a1"]);
    expect(await query({ levels: ["error"] })).toEqual(["a2"]);
    expect(await query({ levels: ["error", "warning"] })).toEqual(["a3", "a2"]);
    expect(await query({ categories: ["sync"] })).toEqual(["a5", "a2"]);
    expect(await query({ categories: ["auth", "install"] })).toEqual(["a3", "a1"]);
    expect(await query({ actorType: "user" })).toEqual(["a1"]);
    expect(await query({ actorType: "support" })).toEqual(["a5"]);
    expect(await query({ actorType: "marketplace" })).toEqual(["a4"]);
    expect(await query({ actor: "ALEX" })).toEqual(["a1"]);
    expect(await query({ actor: "support", actorType: "support" })).toEqual(["a5"]);
    expect(await query({ actor: "support", actorType: "user" })).toEqual([]);
    // from inclusive, to exclusive
    expect(await query({ from: new Date("2026-11-02T09:00:00Z"), to: new Date("2026-11-04T09:00:00Z") })).toEqual(["a3", "a2"]);
    expect(await query({ from: new Date("2026-11-04T09:00:00Z") })).toEqual(["a5", "a4"]);
    expect(await query({ to: new Date("2026-11-02T09:00:00.001Z") })).toEqual(["a2", "a1"]);
    // free text: part of the message, case-insensitive; % and _ match only themselves
    expect(await query({ text: "pr-1001" })).toEqual(["a5", "a2"]);
    expect(await query({ text: "100%" })).toEqual(["a4"]);
    expect(await query({ text: "Cloud_Backup" })).toEqual(["a4"]);
    expect(await query({ text: "Cloud%Backup" })).toEqual([]);
    expect(await query({ text: "h_r" })).toEqual([]); // unescaped, _ would match "refresh retried"
    // combined: tenant + level + date range + text
    expect(await query({ levels: ["error", "success"], from: new Date("2026-11-01T00:00:00Z"), to: new Date("2026-11-06T00:00:00Z"), text: "PR-1001" })).toEqual(["a5", "a2"]);
    expect(await query({ levels: ["error"], categories: ["sync"], actorType: "system", text: "refused" })).toEqual(["a2"]);
  });

  it("a reseller's scope is its own tenant only; support reads one tenant or all", async () => {
    expect(await query({ text: "PR-1001" }, { kind: "tenant", tenantId: b })).toEqual(["b1"]);
    expect(await query({ text: "PR-1001" }, { kind: "support", tenantId: a })).toEqual(["a5", "a2"]);
    expect(await query({ text: "PR-1001" }, { kind: "support" })).toEqual(["a5", "s1", "b1", "a2"]);
    expect(await query({ levels: ["error"] }, { kind: "support" })).toEqual(["s1", "b1", "a2"]);

    // the drill-down: details of one's own row; another tenant's id is not found
    const [detailed] = await t.db
      .insert(actionLog)
      .values({ tenantId: a, actorType: "system", actorLabel: "Sage Connector", level: "info", category: "sync", message: "with details", details: { orderId: "PR-9", lines: [1, 2] }, at: new Date("2026-10-01T00:00:00Z") })
      .returning({ id: actionLog.id });
    expect(await actionLogEntry(t.db, scopeA(), detailed!.id)).toMatchObject({ id: detailed!.id, tenantId: a, message: "with details", details: { orderId: "PR-9", lines: [1, 2] } });
    expect(await actionLogEntry(t.db, scopeA(), ids.b1!)).toBeNull();
    expect(await actionLogEntry(t.db, { kind: "tenant", tenantId: b }, detailed!.id)).toBeNull();
    expect(await actionLogEntry(t.db, scopeA(), ids.s1!)).toBeNull();
    expect(await actionLogEntry(t.db, { kind: "support" }, ids.b1!)).toMatchObject({ id: ids.b1, tenantId: b });
    expect(await actionLogEntry(t.db, scopeA(), 0)).toBeNull();
    await t.db.delete(actionLog).where(sql`${actionLog.id} = ${detailed!.id}`);

    expect(actionLogScopeFor({ role: "reseller_admin", tenantId: a }, { tenantId: b })).toEqual({ kind: "tenant", tenantId: a });
    expect(actionLogScopeFor({ role: "support", tenantId: null }, { tenantId: b })).toEqual({ kind: "support", tenantId: b });
    expect(actionLogScopeFor({ role: "reseller_admin", tenantId: null })).toBeNull();
  });

  it("keyset pagination returns every row exactly once across pages, in order, while rows are added between pages", async () => {
    const [tc] = await t.db.insert(tenants).values({ marketplaceAccountId: "RES-LOGQ-C", name: "Log C Ltd" }).returning();
    const c: ActionLogScope = { kind: "tenant", tenantId: tc!.id };
    const put = (at: string, message: string) =>
      t.db
        .insert(actionLog)
        .values({ tenantId: tc!.id, at: sql`${at}::timestamptz` as unknown as Date, actorType: "system", actorLabel: "Sage Connector", level: "info", category: "sync", message })
        .returning({ id: actionLog.id })
        .then((r) => r[0]!.id);
    // 30 rows: runs of identical instants (ties broken by id) and instants a microsecond apart
    // inside one millisecond (a cursor of milliseconds would skip or repeat these)
    const expected: { id: number; at: string }[] = [];
    for (let i = 0; i < 30; i++) {
      const at = i < 10 ? "2026-11-10T12:00:00.000000Z" : i < 20 ? `2026-11-10T12:00:00.001${String(i).padStart(3, "0")}Z` : `2026-11-10T12:00:0${Math.floor((i - 20) / 3) + 1}.500000Z`;
      expected.push({ id: await put(at, `row ${i}`), at });
    }
    const order = [...expected].sort((x, y) => (x.at === y.at ? y.id - x.id : x.at < y.at ? 1 : -1)).map((r) => r.id);

    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await queryActionLog(t.db, c, {}, { limit: 4, cursor });
      seen.push(...page.entries.map((e) => e.id));
      cursor = page.nextCursor;
      pages++;
      // rows written while somebody pages: newer than everything seen, and one at an instant already passed
      if (pages === 2) await put("2026-11-10T13:00:00.000000Z", "written meanwhile");
      if (pages === 3) await put("2026-11-10T12:00:09.000000Z", "written meanwhile too (newer than the first page)");
    } while (cursor && pages < 50);
    expect(pages).toBe(8); // 30 rows, 4 a page: the last page holds 2 and says there is no more
    expect(seen).toEqual(order);
    expect(new Set(seen).size).toBe(30);

    // the filter applies across pages too
    const filtered: number[] = [];
    cursor = null;
    do {
      const page = await queryActionLog(t.db, c, { text: "row 1" }, { limit: 3, cursor });
      filtered.push(...page.entries.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    const rowOne = expected.filter((_, i) => i === 1 || (i >= 10 && i <= 19)).map((r) => r.id);
    expect(filtered).toEqual(order.filter((id) => rowOne.includes(id)));

    // an exact page boundary: no empty page after the last row
    const all = await queryActionLog(t.db, c, {}, { limit: 32 });
    expect(all.entries).toHaveLength(32);
    expect(all.nextCursor).toBeNull();
  });

  it("refuses a forged cursor and a page size outside 1–200", async () => {
    await expect(queryActionLog(t.db, scopeA(), {}, { cursor: "not-a-cursor" })).rejects.toBeInstanceOf(InvalidActionLogCursorError);
    await expect(queryActionLog(t.db, scopeA(), {}, { cursor: Buffer.from("2026-11-01T00:00:00Z|1").toString("base64url") })).rejects.toBeInstanceOf(InvalidActionLogCursorError);
    await expect(queryActionLog(t.db, scopeA(), {}, { limit: 201 })).rejects.toThrow(RangeError);
    await expect(queryActionLog(t.db, scopeA(), {}, { limit: 0 })).rejects.toThrow(RangeError);
    const cursor = encodeActionLogCursor({ at: "2026-11-03T09:00:00.000000Z", id: ids.a3! });
    expect(decodeActionLogCursor(cursor)).toEqual({ at: "2026-11-03T09:00:00.000000Z", id: ids.a3 });
    expect(keysOf((await queryActionLog(t.db, scopeA(), {}, { cursor })).entries)).toEqual(["a2", "a1"]);
  });
});
