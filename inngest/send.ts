import { inngest, isInlineMode } from "./client";
import type { InlineEventPayload, InlineRunner, InlineRunnerOptions } from "./inline-runner";

/**
 * The one way the app sends events: to the Inngest server when one is configured, else to the
 * process-wide inline runner (started on first use, or at boot by instrumentation.ts).
 */

export type AppEvent = InlineEventPayload & { data?: Record<string, unknown> };

export async function sendEvent(event: AppEvent | AppEvent[]): Promise<{ ids: string[] }> {
  if (!isInlineMode()) {
    const result = await inngest.send(event);
    return { ids: [...result.ids] };
  }
  const runner = await getInlineRunner();
  const { ids } = await runner.send(event);
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
