import type { InngestFunction } from "inngest";
import { InlineRunner, type InlineRunnerOptions } from "@/inngest/inline-runner";
import type { TestDatabase } from "../helpers/db";

/** Collects the runner's log lines (tests assert on them and keep the output quiet). */
export function collectingLogger() {
  const lines: string[] = [];
  return {
    lines,
    logger: {
      info: (m: string) => lines.push(`info ${m}`),
      warn: (m: string) => lines.push(`warn ${m}`),
      error: (m: string) => lines.push(`error ${m}`),
    },
  };
}

/** A fast runner for tests: short poll, short backoff. Stop it in afterEach (see `runners`). */
export function testRunner(
  db: TestDatabase,
  functions: InngestFunction.Any[],
  options: Partial<Omit<InlineRunnerOptions, "db" | "functions">> = {},
) {
  const log = collectingLogger();
  const runner = new InlineRunner({
    db: db.db,
    functions,
    pollIntervalMs: 20,
    leaseMs: 2_000,
    retryBaseDelayMs: 50,
    logger: log.logger,
    ...options,
  });
  return { runner, log };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolve when `predicate` holds (checked every 10 ms), or fail after `timeoutMs`. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
