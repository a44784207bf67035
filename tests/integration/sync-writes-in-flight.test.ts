import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSyncWorld, type SyncWorld } from "../helpers/sync-world";

/**
 * Sync all keeps SAGE_WRITES_IN_FLIGHT document writes in flight at once, never more, and one
 * customer's documents one after the other, in the order of the orders — read from the sandbox's own
 * request log (the arrival time of every invoice create, each held 40 ms by the sandbox so the overlaps
 * are plain to see).
 */
const IN_FLIGHT = 3;
const CUSTOMERS = 5;
const ORDERS = 40;
/** each invoice create is held this long by the sandbox */
const HOLD_MS = 40;

describe("Sync all writes several documents at once, each customer's in order", () => {
  let sw: SyncWorld;
  beforeAll(async () => {
    process.env.SAGE_WRITES_IN_FLIGHT = String(IN_FLIGHT);
    process.env.SAGE_RATE_LIMIT = "100000/60";
    sw = await startSyncWorld();
    await sw.settings({});
    await sw.world.control("config", { rateLimit: { limit: 100000, windowSeconds: 60, retryAfter: true } });
  }, 120_000);
  afterAll(async () => {
    delete process.env.SAGE_WRITES_IN_FLIGHT;
    await sw?.close();
  });

  it(`${ORDERS} orders of ${CUSTOMERS} customers: at most ${IN_FLIGHT} invoice creates at once (and that many reached), none of one customer overlapping, each customer's in order`, async () => {
    const orders: { orderId: string; taskId: string; customer: string }[] = [];
    for (let i = 0; i < ORDERS; i++) {
      const c = i % CUSTOMERS;
      const customer = { id: `TF-${c}`, name: `In Flight ${c}`, email: `if${c}@in-flight.example` };
      orders.push({ ...(await sw.order("purchase", [{ mpn: "M365-STD", quantity: String(1 + (i % 3)) }], { customer })), customer: customer.id });
    }
    // every invoice create held 40 ms by the sandbox, so writes in flight overlap visibly
    await sw.world.control("faults", { route: "sage.sales_invoices.create", kind: "delay", delayMs: HOLD_MS });
    await sw.world.clearRequestLog();
    await sw.syncAll(orders.map((o) => o.taskId));
    await fetch(`${sw.world.sandbox.url}/__sandbox/faults`, { method: "DELETE" });

    const creates = (await sw.world.requestLog())
      .filter((l) => l.route === "sage.sales_invoices.create" && l.status === 201)
      .map((l) => {
        const body = l.body as { sales_invoice?: { reference?: string; contact_id?: string } };
        const start = Date.parse(String(l.at));
        return { reference: body.sales_invoice!.reference!, contact: body.sales_invoice!.contact_id!, start, end: start + Number(l.duration_ms ?? 0) };
      });
    // exactly one invoice per order
    expect(creates.map((c) => c.reference).sort()).toEqual(orders.map((o) => o.orderId).sort());
    expect(creates.every((c) => c.end - c.start >= HOLD_MS)).toBe(true); // the hold really applied

    // in flight at once, from the sandbox's own arrival times: each create is held ≥ 40 ms, so while N are
    // in flight the next can only arrive ≥ 40 ms after one of them did — no window shorter than the hold
    // sees more than N arrivals. (Arrival + handling time would over-count: our client goes on as soon as
    // the answer's head arrives, while the sandbox may still be finishing that request.)
    const starts = creates.map((c) => c.start).sort((a, b) => a - b);
    let most = 0;
    for (let i = 0, j = 0; i < starts.length; i++) {
      while (starts[i]! - starts[j]! >= HOLD_MS - 5) j++; // 35 ms: under the hold, with the log's whole-ms times
      most = Math.max(most, i - j + 1);
    }
    expect(most).toBe(IN_FLIGHT);

    // per customer: never two at once, and in the order the orders came
    const byContact = new Map<string, typeof creates>();
    for (const c of creates) byContact.set(c.contact, [...(byContact.get(c.contact) ?? []), c]);
    expect(byContact.size).toBe(CUSTOMERS);
    const positionOf = new Map(orders.map((o, i) => [o.orderId, i]));
    for (const list of byContact.values()) {
      const inTime = [...list].sort((a, b) => a.start - b.start);
      // the next one of a customer arrives only after the one before was answered (held ≥ 40 ms)
      for (let i = 1; i < inTime.length; i++) expect(inTime[i]!.start - inTime[i - 1]!.start).toBeGreaterThanOrEqual(HOLD_MS - 2);
      const positions = inTime.map((c) => positionOf.get(c.reference)!);
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
      expect(positions).toHaveLength(ORDERS / CUSTOMERS);
    }
  }, 180_000);
});
