import { getDb } from "@/db/client";
import { keepConnectionAlive, listConnectionsDueForKeepAlive } from "@/lib/connections/keep-alive";
import { defineFunction } from "../define";

/** Refresh tokens older than this many days are refreshed (Sage's die after 31 days unused). */
export const KEEP_ALIVE_MAX_AGE_DAYS = 20;
export const KEEP_ALIVE_CRON = "TZ=UTC 0 3 * * *";

/**
 * Daily keep-alive: refresh every connected Sage connection whose refresh token is older than
 * 20 days, so idle connections never expire. One step per connection: a failing connection is
 * retried on its own and does not stop the others; the domain function records the outcome
 * (including `reconnect_required` with its Action Log entry).
 */
export const connectionKeepAlive = defineFunction(
  {
    id: "connection-keep-alive",
    name: "Keep idle Sage connections alive",
    triggers: [{ cron: KEEP_ALIVE_CRON }],
    concurrency: { limit: 1 },
    retries: 3,
  },
  async ({ step, event }) => {
    const due = await step.run("list-connections-due", async () => {
      const now = new Date(event.ts ?? Date.now());
      return listConnectionsDueForKeepAlive(await getDb(), now, KEEP_ALIVE_MAX_AGE_DAYS);
    });

    const summary = { checked: due.length, refreshed: 0, reconnectRequired: 0, failed: [] as string[] };
    for (const connection of due) {
      try {
        const result = await step.run(`keep-alive-${connection.id}`, async () => keepConnectionAlive(await getDb(), connection.id));
        if (result.refreshed) summary.refreshed += 1;
        if (result.status === "reconnect_required") summary.reconnectRequired += 1;
      } catch {
        // the step ran out of retries (StepError): report it, go on with the next connection
        summary.failed.push(connection.id);
      }
    }
    return summary;
  },
);
