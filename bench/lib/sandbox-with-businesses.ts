/**
 * The sandbox as its own process, with extra Sage users for the many-tenants bench (P7):
 * `BENCH_SAGE_USERS=N node --import tsx bench/lib/sandbox-with-businesses.ts` adds N users
 * "Bench Owner 01 … NN", each with one GB business of its own ("Bench Business 01 Ltd" …) seeded
 * like the sandbox's own GB businesses (same items, tax rates, ledger accounts), before it listens.
 *
 * The sandbox seeds only three businesses and has no control route to add more; this entry adds
 * them through the sandbox's own world classes instead of changing the sandbox. Everything else is
 * `sandbox/server.ts` unchanged (the rate limit is a sliding window per business, one limit value).
 */
import { startSandbox } from "@/sandbox/server";
import { BusinessData } from "@/sandbox/sage/data";
import { seededId } from "@/sandbox/sage/ids";

export const benchUserLabel = (i: number) => `Bench Owner ${String(i).padStart(2, "0")}`;

async function main() {
  const n = Number(process.env.BENCH_SAGE_USERS ?? 0);
  const running = await startSandbox({ port: Number(process.env.PORT ?? 0), host: process.env.SANDBOX_HOST });
  const sb = running.sandbox;
  const created = "2024-04-01T09:00:00Z";
  for (let i = 1; i <= n; i++) {
    const nn = String(i).padStart(2, "0");
    const id = seededId(`business:bench-${nn}`);
    sb.sage.businesses.set(id, {
      id,
      key: `bench-${nn}`,
      name: `Bench Business ${nn} Ltd`,
      country: "GB",
      currency: "GBP",
      address_line_1: `${i} Bench Street`,
      city: "Leeds",
      postal_code: "LS1 4DY",
      telephone: "0113 496 0000",
      website: `https://bench-${nn}.example`,
      subscriptionActive: true,
      created_at: created,
      updated_at: created,
    });
    sb.sage.data.set(id, new BusinessData(id, "GB", () => sb.now()));
    const uid = seededId(`user:bench-${nn}`);
    sb.sage.users.set(uid, {
      id: uid,
      key: `bench-${nn}`,
      first_name: "Bench",
      last_name: `Owner ${nn}`,
      email: `bench.owner.${nn}@example.test`,
      locale: "en-GB",
      businessIds: [id],
      leadBusinessId: id,
      created_at: created,
      updated_at: created,
    });
  }
  console.log(`[bench sandbox] listening on ${running.url} with ${n} extra Sage users`);
  const stop = () => void running.close().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((e) => {
  console.error("[bench sandbox] failed:", e);
  process.exit(1);
});
