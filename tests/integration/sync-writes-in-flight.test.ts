import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSyncWorld, type SyncWorld } from "../helpers/sync-world";

/**
 * Sync all keeps SAGE_WRITES_IN_FLIGHT document writes in flight at once, never more, and one
 * customer's documents one after the other, in the order of the orders — read from the sandbox's own
 * request log (arrival time + handling time of every invoice create, each slowed down by 40 ms so the
 * overlaps are plain to see).
 */
const IN_FLIGHT = 3;
const CUSTOMERS = 5;
const ORDERS = 40;

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
    await sw.world.control("faults", { route: "sage.sales_invoices.create", kind: "delay", delayMs: 40 });
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
    expect(creates.every((c) => c.end - c.start >= 40)).toBe(true); // the delay really applied

    // most creates in flight at one moment (an interval is [start, end))
    const events = creates.flatMap((c) => [
      { t: c.start, d: 1 },
      { t: c.end, d: -1 },
    ]);
    events.sort((a, b) => a.t - b.t || a.d - b.d);
    let now = 0;
    let most = 0;
    for (const e of events) most = Math.max(most, (now += e.d));
    expect(most).toBe(IN_FLIGHT);

    // per customer: never two at once, and in the order the orders came
    const byContact = new Map<string, typeof creates>();
    for (const c of creates) byContact.set(c.contact, [...(byContact.get(c.contact) ?? []), c]);
    expect(byContact.size).toBe(CUSTOMERS);
    const positionOf = new Map(orders.map((o, i) => [o.orderId, i]));
    for (const list of byContact.values()) {
      const inTime = [...list].sort((a, b) => a.start - b.start);
      for (let i = 1; i < inTime.length; i++) expect(inTime[i]!.start).toBeGreaterThanOrEqual(inTime[i - 1]!.end);
      const positions = inTime.map((c) => positionOf.get(c.reference)!);
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
      expect(positions).toHaveLength(ORDERS / CUSTOMERS);
    }
  }, 180_000);
});
