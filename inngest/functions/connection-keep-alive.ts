import { getDb } from "@/db/client";
import { keepConnectionAlive, listConnectionsDueForKeepAlive } from "@/lib/connections/keep-alive";
import { defineFunction } from "../define";
import { connectionKeepAliveRequested } from "../events";
import { SAGE_CONNECTION_CONCURRENCY } from "./sage-concurrency";

/** Refresh tokens older than this many days are refreshed (Sage's die after 31 days unused). */
export const KEEP_ALIVE_MAX_AGE_DAYS = 20;
export const KEEP_ALIVE_CRON = "TZ=UTC 0 3 * * *";
/** Connections listed per step, and events per `step.sendEvent` (bounded steps and payloads). */
export const KEEP_ALIVE_PAGE = 500;

/**
 * Daily keep-alive, fanned out: the tick lists the connections whose refresh token is older than
 * 20 days a page at a time and sends one `sage/connection.keep-alive.requested` event per
 * connection; each is kept alive by its own run (its own retries; a failing connection does not
 * hold up the others). However many connections there are, the tick's run has ~2 steps per 500.
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
    const day = new Date(event.ts ?? Date.now()).toISOString().slice(0, 10);
    let afterId: string | undefined;
    let dispatched = 0;
    for (let page = 0; ; page++) {
      const due = await step.run(`list-connections-due-${page}`, async () => {
        const now = new Date(event.ts ?? Date.now());
        return (await listConnectionsDueForKeepAlive(await getDb(), now, KEEP_ALIVE_MAX_AGE_DAYS, { afterId, limit: KEEP_ALIVE_PAGE })).map((c) => c.id);
      });
      if (due.length === 0) break;
      await step.sendEvent(
        `keep-alive-${page}`,
        due.map((connectionId) => connectionKeepAliveRequested.create({ connectionId }, { id: `keep-alive-${connectionId}-${day}` })),
      );
      dispatched += due.length;
      afterId = due[due.length - 1];
      if (due.length < KEEP_ALIVE_PAGE) break;
    }
    return { dispatched };
  },
);

/** One connection's keep-alive: a forced token refresh; the outcome (also reconnect_required) is recorded by the domain code. */
export const connectionKeepAliveOne = defineFunction(
  {
    id: "connection-keep-alive-connection",
    name: "Keep one idle Sage connection alive",
    triggers: [connectionKeepAliveRequested],
    concurrency: SAGE_CONNECTION_CONCURRENCY,
    retries: 3,
  },
  async ({ step, event }) => step.run("keep-alive", async () => keepConnectionAlive(await getDb(), event.data.connectionId)),
);
