/**
 * The inline Inngest runner as a process of its own (no Next.js): `npm run worker`.
 * Development and test mode only — production runs an Inngest server (see inngest/README.md).
 *
 *   --send '<json event>'   send one event first (e.g. {"name":"sync/batch.requested","data":{…},"id":"…"})
 *   --exit-when-idle        exit once no run is queued or running (including runs of a dead worker,
 *                           which are taken over when their lease expires)
 */
import { sendEvent, getInlineRunner } from "./send";

async function main() {
  const args = process.argv.slice(2);
  const runner = await getInlineRunner();
  const sendIndex = args.indexOf("--send");
  if (sendIndex >= 0) await sendEvent(JSON.parse(args[sendIndex + 1] ?? "{}"));
  console.log(`[worker] inline runner started (pid ${process.pid})`);
  const stop = async () => {
    await runner.stop({ timeoutMs: 5_000 });
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  if (args.includes("--exit-when-idle")) {
    await runner.drain({ timeoutMs: 24 * 3600_000, includeScheduled: true });
    const runs = await runner.listRuns();
    if (process.env.WORKER_DEBUG) for (const r of runs) console.log(`[worker] run ${r.functionId} ${r.status} ${JSON.stringify(r.output)?.slice(0, 300)}`);
    const failed = runs.filter((r) => r.status === "failed");
    for (const r of failed) console.error(`[worker] run ${r.id} (${r.functionId}) failed: ${r.lastError ?? "unknown error"}`);
    console.log("[worker] idle, exiting");
    await stop();
  }
}

main().catch((e) => {
  console.error("[worker] failed:", e);
  process.exit(1);
});
