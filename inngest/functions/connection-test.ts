import { getDb } from "@/db/client";
import { testSageConnection } from "@/lib/connections/test-connection";
import { defineFunction } from "../define";
import { connectionTestRequested } from "../events";
import { SAGE_CONNECTION_CONCURRENCY } from "./sage-concurrency";

/** @deprecated name kept for callers; use `connectionTestRequested` from inngest/events.ts */
export const CONNECTION_TEST_REQUESTED = connectionTestRequested.name;

/** "Test connection" on the dashboard: one call to Sage, outcome in the Action Log. */
export const connectionTest = defineFunction(
  {
    id: "connection-test",
    name: "Test a Sage connection",
    triggers: [connectionTestRequested],
    concurrency: SAGE_CONNECTION_CONCURRENCY,
    retries: 0,
  },
  async ({ event, step }) => {
    return step.run("test-connection", async () => testSageConnection(await getDb(), event.data));
  },
);
