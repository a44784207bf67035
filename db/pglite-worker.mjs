// The embedded database (PGlite) on its own thread. PGlite executes SQL synchronously in WebAssembly,
// so on the main thread every statement blocks the event loop — HTTP answers from Sage wait while a
// batch records its results. Here it runs beside the app; db/pglite-in-worker.ts is the other end.
// Plain JavaScript on purpose: loaded by path (never bundled), by Next.js, tsx and vitest alike.
//
// Messages in:  { id, op: "query" | "exec" | "begin" | "end" | "close", sql?, params?, rowMode?, rawTypes?, tx?, commit? }
// Messages out: { id, ok: true, value } | { id, ok: false, error: { name, message, ...fields } }
import { parentPort, workerData } from "node:worker_threads";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";

// pg_trgm: the Action Log's free-text filter (trigram index, migration 0007); db/client.ts loads it too
const pg = new PGlite(workerData.dataDir, { extensions: { pg_trgm } });
/** open transactions: id → { tx, finish(commit) } */
const transactions = new Map();
/** how each open transaction ends: settles after its COMMIT or ROLLBACK */
const endings = new Map();
/** a thrown value that only means "roll this transaction back" */
const ROLLBACK = Symbol("rollback");

const passThrough = (value) => value;

function queryOptions(message) {
  const options = {};
  if (message.rowMode) options.rowMode = message.rowMode;
  if (message.rawTypes?.length) options.parsers = Object.fromEntries(message.rawTypes.map((oid) => [oid, passThrough]));
  return options;
}

function target(message) {
  if (message.tx === undefined) return pg;
  const open = transactions.get(message.tx);
  if (!open) throw new Error(`PGlite worker: transaction ${message.tx} is not open`);
  return open.tx;
}

function errorFields(e) {
  const fields = { name: e?.name ?? "Error", message: e?.message ?? String(e) };
  if (e && typeof e === "object") {
    for (const [key, value] of Object.entries(e)) {
      if (value === null || ["string", "number", "boolean"].includes(typeof value)) fields[key] = value;
    }
  }
  return fields;
}

async function handle(message) {
  switch (message.op) {
    case "query": {
      const result = await target(message).query(message.sql, message.params ?? [], queryOptions(message));
      return { rows: result.rows, fields: result.fields, affectedRows: result.affectedRows };
    }
    case "exec": {
      const results = await target(message).exec(message.sql);
      return results.map((r) => ({ rows: r.rows, fields: r.fields, affectedRows: r.affectedRows }));
    }
    case "begin": {
      // PGlite's transaction() holds its lock until the callback settles: the callback waits for "end"
      let began;
      const started = new Promise((resolve) => (began = resolve));
      const ended = pg
        .transaction(
          (tx) =>
            new Promise((commit, rollback) => {
              transactions.set(message.tx, { tx, finish: (ok) => (ok ? commit() : rollback(ROLLBACK)) });
              began();
            }),
        )
        .then(
          () => ({ ok: true }),
          (error) => (error === ROLLBACK ? { ok: true } : { ok: false, error }),
        )
        .finally(() => transactions.delete(message.tx));
      endings.set(message.tx, ended);
      // either the transaction has begun, or it ended first (BEGIN failed)
      const first = await Promise.race([started.then(() => null), ended]);
      if (first && !first.ok) {
        endings.delete(message.tx);
        throw first.error;
      }
      return null;
    }
    case "end": {
      const open = transactions.get(message.tx);
      const done = endings.get(message.tx);
      endings.delete(message.tx);
      if (!open || !done) throw new Error(`PGlite worker: transaction ${message.tx} is not open`);
      open.finish(!!message.commit);
      const outcome = await done;
      if (!outcome.ok) throw outcome.error;
      return null;
    }
    case "close": {
      await pg.close();
      return null;
    }
    default:
      throw new Error(`PGlite worker: unknown operation ${message.op}`);
  }
}


pg.waitReady.then(
  () => parentPort.postMessage({ id: 0, ok: true, value: "ready" }),
  (e) => parentPort.postMessage({ id: 0, ok: false, error: errorFields(e) }),
);

parentPort.on("message", (message) => {
  handle(message).then(
    (value) => parentPort.postMessage({ id: message.id, ok: true, value }),
    (e) => parentPort.postMessage({ id: message.id, ok: false, error: errorFields(e) }),
  );
});
