/**
 * One concurrency key shared by every function that calls a Sage connection: `scope: "env"` makes
 * the limit span functions (sync-task, sync-batch, the mapping functions, connection test and
 * keep-alive), keyed by the connection id every one of their events carries. Inngest counts it per
 * executing step, so a long Sync all and an "Add to Sage" click interleave step by step instead of
 * writing to Sage side by side. Pacing of the calls themselves is the database rate budget
 * (lib/connections/rate-budget.ts), which holds across processes; this only keeps one writer per connection.
 */
export const SAGE_CONNECTION_CONCURRENCY: [{ limit: number; scope: "env"; key: string }] = [{ limit: 1, scope: "env", key: "event.data.connectionId" }];
