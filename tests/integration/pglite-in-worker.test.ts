import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPGliteInWorker, type PGliteInWorker } from "@/db/pglite-in-worker";

/** The embedded database on its worker thread behaves like PGlite itself: results, errors, transactions. */
describe("PGlite on a worker thread", () => {
  let pg: PGliteInWorker;

  beforeAll(async () => {
    pg = await openPGliteInWorker("memory://");
    await pg.exec("create table notes (id int primary key, body text not null, at timestamptz not null default now())");
  }, 60_000);
  afterAll(async () => pg?.close());

  it("answers queries with parameters, rows as objects or arrays, timestamps passed through when asked", async () => {
    await pg.query("insert into notes (id, body) values ($1, $2), ($3, $4)", [1, "one", 2, "two"]);
    const objects = await pg.query<{ id: number; body: string }>("select id, body from notes order by id");
    expect(objects.rows).toEqual([
      { id: 1, body: "one" },
      { id: 2, body: "two" },
    ]);
    const arrays = await pg.query<unknown[]>("select id, at from notes where id = any($1::int[])", [[2]], { rowMode: "array", parsers: { 1184: (v: string) => v } });
    expect(arrays.rows).toHaveLength(1);
    expect(typeof arrays.rows[0]![1]).toBe("string"); // raw text, as drizzle asks for
  });

  it("a failing statement rejects with PostgreSQL's code and constraint, and changes nothing", async () => {
    const error = await pg.query("insert into notes (id, body) values (1, 'again')").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "23505", constraint: "notes_pkey" });
    expect((await pg.query("select count(*)::int as n from notes")).rows).toEqual([{ n: 2 }]);
  });

  it("a transaction commits as a whole, or rolls back as a whole when its callback throws", async () => {
    await pg.transaction(async (tx) => {
      await tx.query("insert into notes (id, body) values (3, 'three')");
      await tx.query("update notes set body = 'ONE' where id = 1");
    });
    await expect(
      pg.transaction(async (tx) => {
        await tx.query("insert into notes (id, body) values (4, 'four')");
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    const rows = (await pg.query<{ id: number; body: string }>("select id, body from notes order by id")).rows;
    expect(rows.map((r) => `${r.id}:${r.body}`)).toEqual(["1:ONE", "2:two", "3:three"]);
  });

  it("a query from outside waits for an open transaction instead of seeing or joining it", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const tx = pg.transaction(async (t) => {
      await t.query("insert into notes (id, body) values (5, 'five')");
      await held;
    });
    await new Promise((r) => setTimeout(r, 20));
    const outside = pg.query<{ n: number }>("select count(*)::int as n from notes where id = 5");
    const early = await Promise.race([outside.then(() => "answered"), new Promise((r) => setTimeout(() => r("waiting"), 100))]);
    expect(early).toBe("waiting");
    release();
    await tx;
    expect((await outside).rows).toEqual([{ n: 1 }]);
  });
});
