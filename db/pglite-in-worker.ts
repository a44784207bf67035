import path from "node:path";
import { Worker } from "node:worker_threads";

/**
 * The embedded PGlite database running on a worker thread (db/pglite-worker.mjs), seen from the app
 * as the part of PGlite's client that drizzle's PGlite driver uses: `query`, `exec`, `transaction`,
 * `close`. PGlite runs SQL synchronously in WebAssembly; on its own thread a batch's bookkeeping
 * no longer holds up the event loop (HTTP answers from Sage, page requests) while it runs.
 *
 * Values cross the thread boundary by structured clone. Query options: `rowMode`, and `parsers`
 * only as pass-through (value → value) for the given type ids, which is what drizzle passes.
 */
export const PGLITE_WORKER_FILE = path.join(process.cwd(), "db", "pglite-worker.mjs");

type Results<T = Record<string, unknown>> = { rows: T[]; fields: { name: string; dataTypeID: number }[]; affectedRows?: number };
type QueryOptions = { rowMode?: "array" | "object"; parsers?: Record<number, (value: string, typeId: number) => unknown> };
type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

export type PGliteQueryable = {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>>;
  exec(sql: string): Promise<Results[]>;
};

export type PGliteInWorker = PGliteQueryable & {
  transaction<T>(callback: (tx: PGliteQueryable & { readonly closed: boolean }) => Promise<T>): Promise<T>;
  close(): Promise<void>;
};

/** A database error from the worker, with PGlite's fields (code, detail, constraint, …). */
export class PGliteWorkerError extends Error {
  [field: string]: unknown;
}

function rawTypes(options: QueryOptions | undefined): number[] | undefined {
  if (!options?.parsers) return undefined;
  return Object.entries(options.parsers).map(([oid, parse]) => {
    if (parse("probe", Number(oid)) !== "probe") throw new Error("PGlite in a worker: only pass-through parsers are supported");
    return Number(oid);
  });
}

/** Start the worker on `dataDir` (a directory, or `memory://…`) and wait until PGlite is ready. */
export async function openPGliteInWorker(dataDir: string): Promise<PGliteInWorker> {
  const worker = new Worker(PGLITE_WORKER_FILE, { workerData: { dataDir } });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let nextTx = 1;
  let exited: Error | undefined;

  const ready = new Promise<void>((resolve, reject) => pending.set(0, { resolve: () => resolve(), reject }));
  worker.on("message", (m: { id: number; ok: boolean; value?: unknown; error?: Record<string, unknown> }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else p.reject(Object.assign(new PGliteWorkerError(String(m.error?.message ?? "database error")), m.error));
  });
  const failAll = (error: Error) => {
    exited = error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  worker.on("error", (e) => failAll(e instanceof Error ? e : new Error(String(e))));
  worker.on("exit", (code) => failAll(new Error(`the PGlite worker has stopped (exit code ${code})`)));

  // The worker keeps the process alive only while it has work: an idle database does not stop a
  // script from ending, and a query in flight is never cut short.
  let openTransactions = 0;
  const holdProcess = () => (pending.size > 0 || openTransactions > 0 ? worker.ref() : worker.unref());
  const call = <T>(message: Record<string, unknown>): Promise<T> => {
    if (exited) return Promise.reject(exited);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, {
        resolve: (v) => {
          resolve(v as T);
          holdProcess();
        },
        reject: (e) => {
          reject(e);
          holdProcess();
        },
      });
      worker.postMessage({ ...message, id });
      holdProcess();
    });
  };

  const queryable = (tx?: number): PGliteQueryable => ({
    query: (sql, params, options) => call({ op: "query", sql, params: params ?? [], rowMode: options?.rowMode, rawTypes: rawTypes(options), tx }),
    exec: (sql) => call({ op: "exec", sql, tx }),
  });

  async function runTransaction<T>(tx: number, callback: (tx: PGliteQueryable & { readonly closed: boolean }) => Promise<T>): Promise<T> {
    await call({ op: "begin", tx });
    let closed = false;
    const handle = Object.defineProperty(queryable(tx), "closed", { get: () => closed }) as PGliteQueryable & { readonly closed: boolean };
    let result;
    try {
      result = await callback(handle);
    } catch (e) {
      closed = true;
      await call({ op: "end", tx, commit: false }).catch(() => {});
      throw e;
    }
    closed = true;
    await call({ op: "end", tx, commit: true });
    return result;
  }

  await ready;
  holdProcess();
  return {
    ...queryable(),
    async transaction(callback) {
      const tx = nextTx++;
      openTransactions++;
      try {
        return await runTransaction(tx, callback);
      } finally {
        openTransactions--;
        holdProcess();
      }
    },
    async close() {
      if (exited) return;
      try {
        await call({ op: "close" });
      } finally {
        await worker.terminate();
      }
    },
  };
}
