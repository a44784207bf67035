import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { actionLog, tenants } from "@/db/schema";
import { setDatabaseHandleForTests } from "@/db/client";
import { ACTION_LOG_CSV_COLUMNS, actionLogCsvFileName, actionLogCsvStream, csvField, csvLine } from "@/lib/log/action-log-csv";
import { actionLogFilterParams, actionLogListParams, describeParamError, filterFromParams, searchParamsObject } from "@/lib/log/action-log-params";
import { actionLogEntry, queryActionLog } from "@/lib/log/action-log-query";
import { openTestDatabase, type TestDatabase } from "../helpers/db";

/**
 * What the Action Log route handlers do, through the lib functions they call: parse the query
 * (lib/log/action-log-params.ts — a refusal is the handler's 400 with this message), then read in the
 * session tenant's scope. Who may call the handlers (anonymous 401, support 403, another tenant 404 or
 * only its own rows) is proven against the running app in e2e/security-authorization.spec.ts.
 */

/** RFC 4180 records of a CSV text (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") record.push(field), (field = "");
    else if (ch === "\r" && text[i + 1] === "\n") {
      record.push(field), records.push(record), (record = []), (field = ""), i++;
    } else field += ch;
  }
  if (field || record.length) throw new Error("CSV does not end with CRLF");
  return records;
}

describe("Action Log routes and CSV export", () => {
  let t: TestDatabase;
  let a: string;
  let b: string;
  /** the handler's 400 message for a query string, or null when it parses */
  const refusal = (schema: typeof actionLogListParams | typeof actionLogFilterParams, query: string) => {
    const parsed = schema.safeParse(searchParamsObject(new URLSearchParams(query)));
    return parsed.success ? null : describeParamError(parsed.error);
  };
  /** what GET /api/action-log answers a reseller of `tenantId` for `query` */
  const listAs = async (tenantId: string, query: string) => {
    const parsed = actionLogListParams.parse(searchParamsObject(new URLSearchParams(query)));
    return queryActionLog(t.db, { kind: "tenant", tenantId }, filterFromParams(parsed), { limit: parsed.limit, cursor: parsed.cursor });
  };
  /** what GET /api/action-log/export streams a reseller of `tenantId` for `query` */
  const exportAs = (tenantId: string, query = "") => new Response(actionLogCsvStream(t.db, { kind: "tenant", tenantId }, filterFromParams(actionLogListParams.parse(searchParamsObject(new URLSearchParams(query)))))).text();

  /** n rows for a tenant, one a second back from 2026-11-20, messages "<prefix> <i>" */
  const seed = (tenantId: string, n: number, prefix: string) =>
    t.db.execute(sql`
      insert into action_log (tenant_id, at, actor_type, actor_label, level, category, message, details)
      select ${tenantId}::uuid, timestamptz '2026-11-20T00:00:00Z' - make_interval(secs => g), 'system', 'Sage Connector',
             (array['info','success','warning','error','action_required'])[1 + g % 5], 'sync', ${prefix} || ' ' || g, jsonb_build_object('n', g)
      from generate_series(1, ${n}) g`);

  beforeAll(async () => {
    t = await openTestDatabase();
    setDatabaseHandleForTests(t);
    const [ta, tb] = await t.db.insert(tenants).values([{ marketplaceAccountId: "RES-LOGR-A", name: "Route A Ltd" }, { marketplaceAccountId: "RES-LOGR-B", name: "Route B Ltd" }]).returning();
    a = ta!.id;
    b = tb!.id;
    await seed(a, 30, "A row");
    await seed(b, 12, "B row");
  });
  afterAll(async () => {
    setDatabaseHandleForTests(undefined);
    await t?.drop();
  });
  it("bad query parameters → 400 naming the problem", async () => {
    const cases: [string, RegExp][] = [
      ["?level=bogus", /level must be one of info, success, warning, error, action_required \(got "bogus"\)/],
      ["?category=sync,nope", /category must be one of .* \(got "nope"\)/],
      ["?actorType=robot", /actorType must be one of user, support, system, marketplace/],
      ["?from=yesterday", /from must be an ISO 8601 date-time/],
      ["?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", /from must be before to/],
      ["?limit=201", /limit must be a whole number 1–200/],
      ["?limit=ten", /limit must be a whole number 1–200/],
      ["?cursor=forged", /cursor is not one this Action Log gave out/],
      ["?q=%00", /q must not contain U\+0000/],
      ["?levle=error", /unknown parameter levle/],
    ];
    for (const [query, message] of cases) expect(refusal(actionLogListParams, query.slice(1)), query).toMatch(message);
    expect(refusal(actionLogListParams, "level=error&limit=50")).toBeNull();
    expect(refusal(actionLogFilterParams, "level=bogus")).toMatch(/level must be one of/);
    // the export takes no page
    expect(refusal(actionLogFilterParams, "cursor=x")).toBe("unknown parameter cursor (known: tenant, level, category, actorType, actor, from, to, q)");
  });

  it("a reseller reads only its own tenant's rows: pages by cursor, filters, and the drill-down (another tenant's id → 404)", async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const body = await listAs(a, `limit=7${cursor ? `&cursor=${cursor}` : ""}`);
      expect(body.entries.every((e) => e.tenantId === a)).toBe(true);
      seen.push(...body.entries.map((e) => e.id));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(30);
    expect(new Set(seen).size).toBe(30);

    const bIds = (await t.db.select({ id: actionLog.id }).from(actionLog).where(sql`${actionLog.tenantId} = ${b}`)).map((r) => r.id);
    expect(seen.some((id) => bIds.includes(id))).toBe(false);
    // B's rows by text: nothing for A
    expect((await listAs(a, "q=B%20row")).entries).toEqual([]);
    // level + text + date range
    const filtered = (await listAs(a, "level=error&q=A%20row%202&from=2026-11-19T23:59:30Z&to=2026-11-20T00:00:00Z")).entries;
    // A rows 1–30 s before midnight; error = g % 5 == 3 → 23, 28 among "A row 2…" within the last 30 s
    expect(filtered.map((e) => e.message)).toEqual(["A row 23", "A row 28"]);

    expect(await actionLogEntry(t.db, { kind: "tenant", tenantId: a }, seen[0]!)).toMatchObject({ id: seen[0], tenantId: a, details: { n: 1 } });
    // another tenant's id: nothing (the handler answers 404)
    expect(await actionLogEntry(t.db, { kind: "tenant", tenantId: a }, bIds[0]!)).toBeNull();
  });

  it("the CSV export of N rows has N+1 records, quotes right and guards formulas", async () => {
    const [tc] = await t.db.insert(tenants).values({ marketplaceAccountId: "RES-LOGR-C", name: "Route C Ltd" }).returning();
    const c = tc!.id;
    const N = 2_345; // five pages of 500
    await seed(c, N - 5, "bulk");
    const tricky = [
      'He said "hi", then left',
      "two\nlines, and a comma",
      "=HYPERLINK(\"http://evil.test\",\"click\")",
      "+1 more",
      "@SUM(A1:A2)",
    ];
    for (const [i, message] of tricky.entries()) {
      await t.db.insert(actionLog).values({ tenantId: c, at: new Date(Date.UTC(2026, 10, 21, 0, 0, i)), actorType: "user", actorLabel: i === 3 ? "-Mallory" : "Alex, Morgan", level: "info", category: "mapping", message, details: i === 0 ? { note: 'a "quoted" value' } : {} });
    }
    expect(actionLogCsvFileName()).toMatch(/^action-log-\d{4}-\d{2}-\d{2}\.csv$/);
    const text = await exportAs(c);
    const records = parseCsv(text);
    expect(records).toHaveLength(N + 1);
    expect(records[0]).toEqual(["id", "at", "tenant_id", "level", "category", "actor_type", "actor_label", "message", "task_id", "details"]);
    expect(records.slice(1).every((r) => r.length === 10 && r[2] === c)).toBe(true);
    expect(new Set(records.slice(1).map((r) => r[0])).size).toBe(N);
    // newest first: the five tricky rows (21 Nov), newest first, then the bulk rows
    expect(records.slice(1, 6).map((r) => r[7])).toEqual([
      "'@SUM(A1:A2)",
      "'+1 more",
      "'=HYPERLINK(\"http://evil.test\",\"click\")",
      "two\nlines, and a comma",
      'He said "hi", then left',
    ]);
    expect(records[2]![6]).toBe("'-Mallory");
    expect(records[5]![6]).toBe("Alex, Morgan");
    expect(JSON.parse(records[5]![9]!)).toEqual({ note: 'a "quoted" value' });
    // the raw text: quotes doubled inside quoted fields
    expect(text).toContain(`,"He said ""hi"", then left",`);
    expect(text).toContain(`,"two\nlines, and a comma",`);
    expect(text).toContain(`,"'=HYPERLINK(""http://evil.test"",""click"")",`);
    // the filters apply to the export
    const errorsOnly = parseCsv(await exportAs(c, "level=error&q=bulk%201"));
    expect(errorsOnly.slice(1).every((r) => r[3] === "error" && r[7]!.startsWith("bulk 1"))).toBe(true);
    expect(errorsOnly.length - 1).toBe([...Array(N - 5).keys()].map((i) => i + 1).filter((g) => g % 5 === 3 && String(g).startsWith("1")).length);
  });

  it("the CSV record the database writes is byte for byte csvLine of the row", async () => {
    const [td] = await t.db.insert(tenants).values({ marketplaceAccountId: "RES-LOGR-D", name: "Route D Ltd" }).returning();
    const d = td!.id;
    const texts = ["plain", "", "a,b", 'say "x"', "line\r\nbreak", "lf\nonly", "cr\ronly", "=1+1", "+1", "-1", "@x", "\tx", "\rx", "=a,b", "a=b", " =lead space", "'quoted already", "é ünïcödé ✓ 😀", '"', ",", "x\u2028y"];
    const detailsList: Record<string, unknown>[] = [{}, { note: 'a "quoted" value' }, { a: "x,\r\ny", n: 1.5, list: [1, "=2"] }, { "=k": "-v" }];
    const taskId = "4b0e2c59-1f7d-4a7e-9d51-2b0c8a9e6f10";
    const values = texts.map((text, i) => ({
      tenantId: d,
      at: new Date(Date.UTC(2026, 10, 22, 0, 0, i, 123)),
      actorType: "user" as const,
      actorLabel: texts[(i * 7) % texts.length]!,
      level: "info" as const,
      category: "mapping" as const,
      message: text,
      details: detailsList[i % detailsList.length]!,
      taskId: i % 3 === 0 ? taskId : null,
    }));
    await t.db.insert(actionLog).values(values);
    // the same rows as JavaScript values, formatted by csvLine
    const rows = (await t.db
      .select({
        id: actionLog.id,
        at: sql<string>`to_char(${actionLog.at} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
        tenantId: actionLog.tenantId,
        level: actionLog.level,
        category: actionLog.category,
        actorType: actionLog.actorType,
        actorLabel: actionLog.actorLabel,
        message: actionLog.message,
        taskId: actionLog.taskId,
        details: sql<string>`${actionLog.details}::text`,
      })
      .from(actionLog)
      .where(sql`${actionLog.tenantId} = ${d}`)
      .orderBy(sql`${actionLog.at} desc, ${actionLog.id} desc`)) as { id: number; at: string; tenantId: string; level: string; category: string; actorType: string; actorLabel: string; message: string; taskId: string | null; details: string }[];
    expect(rows).toHaveLength(texts.length);
    const expected = csvLine([...ACTION_LOG_CSV_COLUMNS]) + rows.map((r) => csvLine([r.id, r.at, r.tenantId, r.level, r.category, r.actorType, r.actorLabel, r.message, r.taskId, r.details === "{}" ? "" : r.details])).join("");
    expect(await exportAs(d)).toBe(expected);
    // and the same across pages of 4
    const reader = actionLogCsvStream(t.db, { kind: "tenant", tenantId: d }, {}, { pageSize: 4 }).getReader();
    let paged = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) paged += new TextDecoder().decode(r.value);
    expect(paged).toBe(expected);
  });

  it("the export stream reads a page only when the consumer asks for more", async () => {
    let selects = 0;
    const counting = new Proxy(t.db, {
      get(target, prop, receiver) {
        if (prop === "select") selects++;
        return Reflect.get(target, prop, receiver);
      },
    });
    const reader = actionLogCsvStream(counting, { kind: "tenant", tenantId: a }, {}, { pageSize: 10 }).getReader();
    const first = await reader.read(); // the header
    expect(new TextDecoder().decode(first.value)).toMatch(/^id,at,/);
    const second = await reader.read(); // page 1
    expect(new TextDecoder().decode(second.value).split("\r\n").filter(Boolean)).toHaveLength(10);
    expect(selects).toBeLessThanOrEqual(2); // page 1, and at most one page read ahead
    let rest = 0;
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value).split("\r\n").filter(Boolean).length;
    expect(rest).toBe(20);
    expect(selects).toBe(3);
  });

  it("csvField: quoting and the formula guard", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField(null)).toBe("");
    expect(csvField(42)).toBe("42");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "x"')).toBe('"say ""x"""');
    expect(csvField("line\r\nbreak")).toBe('"line\r\nbreak"');
    for (const s of ["=1+1", "+1", "-1", "@x", "\tx", "\rx"]) expect(csvField(s).replace(/^"/, "").startsWith("'")).toBe(true);
    expect(csvField("=a,b")).toBe("\"'=a,b\"");
    expect(csvField("a=b")).toBe("a=b");
  });
});
