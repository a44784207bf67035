import { AsyncLocalStorage } from "node:async_hooks";

/**
 * What a Sage call is for, carried through async code (AsyncLocalStorage) from where the sync works
 * on a task down to the target's HTTP attempts: the recorder (./sage-call-recorder.ts) reads it.
 * Nested contexts add to the outer one (a flow's run id and step, then the task inside it).
 */
export type TraceContext = {
  tenantId?: string;
  taskId?: string | null;
  /** a Sync all run, or a Sage 50 upload id: calls made for many tasks at once */
  batchId?: string | null;
  runId?: string | null;
  step?: string | null;
};

const storage = new AsyncLocalStorage<TraceContext>();

export function currentTraceContext(): TraceContext {
  return storage.getStore() ?? {};
}

/** Run `fn` with `context` added to the current one. */
export function withTraceContext<T>(context: TraceContext, fn: () => Promise<T>): Promise<T> {
  return storage.run({ ...currentTraceContext(), ...context }, fn);
}
