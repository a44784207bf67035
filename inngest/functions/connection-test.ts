import { getDb } from "@/db/client";
import { testSageConnection } from "@/lib/connections/test-connection";
import { defineFunction } from "../define";

export const CONNECTION_TEST_REQUESTED = "sage/connection.test.requested";

/** "Test connection" on the dashboard: one call to Sage, outcome in the Action Log. */
export const connectionTest = defineFunction(
  {
    id: "connection-test",
    name: "Test a Sage connection",
    triggers: [{ event: CONNECTION_TEST_REQUESTED }],
    concurrency: { limit: 1, key: "event.data.connectionId" },
    retries: 0,
  },
  async ({ event, step }) => {
    const data = event.data as { tenantId: string; connectionId: string; actor: { type: "user"; id: string; label: string } };
    return step.run("test-connection", async () => testSageConnection(await getDb(), data));
  },
);
