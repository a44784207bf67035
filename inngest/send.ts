import { inngest, isInlineMode } from "./client";
import { validateAppEvent } from "./events";
import type { InlineEventPayload, InlineRunner, InlineRunnerOptions } from "./inline-runner";

/**
 * The one way the app sends events: to the Inngest server when one is configured, else to the
 * process-wide inline runner (started on first use, or at boot by instrumentation.ts).
 */

export type AppEvent = InlineEventPayload & { data?: Record<string, unknown> };

/** Inngest Cloud's smallest plan refuses events over 256 KiB; ours are ids (a few hundred bytes). */
export const MAX_EVENT_BYTES = 256 * 1024;

/**
 * Every event is checked against its schema (inngest/events.ts) and its size before it leaves:
 * an invalid or oversized event throws here, at the sender, and nothing is sent.
 */
export async function sendEvent(event: AppEvent | AppEvent[]): Promise<{ ids: string[] }> {
  const events = (Array.isArray(event) ? event : [event]).map(({ name, data, id, ts }) => ({ name, data: data ?? {}, ...(id ? { id } : {}), ...(ts ? { ts } : {}) }));
  for (const e of events) {
    validateAppEvent(e);
    const bytes = Buffer.byteLength(JSON.stringify(e));
    if (bytes > MAX_EVENT_BYTES) throw new Error(`Event "${e.name}" is ${bytes} bytes, over the ${MAX_EVENT_BYTES}-byte limit: send row ids, not lists`);
  }
  if (events.length === 0) return { ids: [] };
  if (!isInlineMode()) {
    const result = await inngest.send(events);
    return { ids: [...result.ids] };
  }
  const runner = await getInlineRunner();
  const { ids } = await runner.send(events);
  return { ids };
}

/** Boot hook (instrumentation.ts): start the inline runner when no Inngest server is configured. */
export async function startInlineRunnerIfNeeded(): Promise<InlineRunner | undefined> {
  if (!isInlineMode()) return undefined;
  return getInlineRunner();
}

type InlineRunnerSingleton = { promise?: Promise<InlineRunner> };
const globalForRunner = globalThis as unknown as { __sageConnectorInlineRunner?: InlineRunnerSingleton };

/** The process-wide inline runner on the process-wide database (created and started once). */
export function getInlineRunner(options: Partial<Omit<InlineRunnerOptions, "db" | "functions">> = {}): Promise<InlineRunner> {
  const holder = (globalForRunner.__sageConnectorInlineRunner ??= {});
  holder.promise ??= (async () => {
    const [{ getDb }, { InlineRunner }, { functions }] = await Promise.all([
      import("@/db/client"),
      import("./inline-runner"),
      import("./functions"),
    ]);
    const runner = new InlineRunner({
      db: await getDb(),
      functions,
      pollIntervalMs: envNumber("INNGEST_INLINE_POLL_MS"),
      leaseMs: envNumber("INNGEST_INLINE_LEASE_MS"),
      stepHandoffMs: envNumber("INNGEST_INLINE_STEP_HANDOFF_MS"),
      ...options,
    });
    runner.start();
    return runner;
  })().catch((error: unknown) => {
    holder.promise = undefined;
    throw error;
  });
  return holder.promise;
}

/** Tests: stop and forget the process-wide inline runner. */
export async function resetInlineRunnerForTests(): Promise<void> {
  const holder = globalForRunner.__sageConnectorInlineRunner;
  const promise = holder?.promise;
  if (holder) holder.promise = undefined;
  if (promise) await (await promise).stop();
}

function envNumber(name: string): number | undefined {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}
