import { sageSession } from "@/lib/connections/sage-session";
import { deriveIdempotencyId } from "@/lib/sync/documents";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { collectSagePages, createSageAccountingClient, iterateSagePages, unwrap, withIdempotencyId, type SageAccountingClient } from "@/lib/sage/accounting/api";
import { SageError } from "@/lib/sage/errors";
import { startWorld, type World } from "../helpers/world";

const idem = () => randomBytes(16).toString("hex");
type Ref = { id: string; displayed_as?: string };
type Invoice = { id: string; reference?: string; status?: { id: string }; total_amount?: string | number; void_reason?: string; updated_at?: string; invoice_lines?: unknown[] };

/**
 * Contract tests: our typed client (generated from Sage's published description) against the
 * sandbox (written from the same description and Sage's guides), over HTTP, for every operation the
 * product uses. Fast retries so fault tests take milliseconds.
 */
describe("Sage Accounting client ↔ sandbox contract", () => {
  let world: World;
  let sage: SageAccountingClient;
  let businessKey: string;
  let contactId: string;

  const state = async () => (await fetch(`${world.sandbox.url}/__sandbox/state?business=${businessKey}`)).json() as Promise<{ sales_invoices: Invoice[]; sales_credit_notes: Invoice[]; contacts: Ref[] }>;
  const fault = (f: Record<string, unknown>) => world.control("faults", f);
  const clearFaults = () => fetch(`${world.sandbox.url}/__sandbox/faults`, { method: "DELETE" });

  beforeAll(async () => {
    world = await startWorld();
    await world.install();
    await world.authorize();
    const conn = (await world.connection())!;
    businessKey = conn.businessId!;
    sage = createSageAccountingClient({ ...sageSession(world.db.db, conn.id, { paced: false }), policy: { baseDelayMs: 5, maxDelayMs: 20, attemptTimeoutMs: 2_000, maxRetryAfterMs: 1_500 } });
  });
  afterAll(async () => world?.close());

  it("user and businesses (paging envelope followed to the end)", async () => {
    const user = unwrap(await sage.GET("/user", {}));
    expect(user.id).toMatch(/^[0-9a-f]{32}$/);
    const businesses = await collectSagePages<Ref>(sage, "/businesses?items_per_page=1");
    expect(businesses.map((b) => b.id)).toContain(businessKey);
  });

  it("reference data: contact types, currencies, sales ledger accounts, sales tax rates, artefact statuses", async () => {
    const types = await collectSagePages<Ref>(sage, "/contact_types");
    expect(types.map((t) => t.id)).toEqual(expect.arrayContaining(["CUSTOMER", "VENDOR"]));
    const currencies = await collectSagePages<Ref>(sage, "/currencies");
    expect(currencies.map((c) => c.id)).toContain("GBP");
    const ledgers = await collectSagePages<{ id: string; nominal_code?: number; visible_in_sales?: boolean }>(sage, "/ledger_accounts?visible_in=sales&attributes=nominal_code,visible_in_sales");
    expect(ledgers.length).toBeGreaterThan(0);
    expect(ledgers.every((l) => l.visible_in_sales !== false)).toBe(true);
    const rates = await collectSagePages<Ref & { percentage?: number }>(sage, "/tax_rates?usage=sales&attributes=percentage");
    expect(rates.map((r) => r.id)).toContain("GB_STANDARD");
    const statuses = await collectSagePages<Ref>(sage, "/artefact_statuses");
    expect(statuses.map((s) => s.id)).toEqual(expect.arrayContaining(["DRAFT", "UNPAID", "VOID"]));
  });

  it("contacts: create with idempotency_id (a repeat creates nothing), get, find by e-mail and by reference", async () => {
    const id = idem();
    const body = {
      contact: {
        name: "Fabrikam Cloud GmbH",
        contact_type_ids: ["CUSTOMER"],
        reference: "MP-CUST-1001",
        main_contact_person: { name: "Fiona Fab", email: "billing@fabrikam.example", is_main_contact: true },
        idempotency_id: id,
      },
    };
    const created = unwrap(await sage.POST("/contacts", { body: body as never }));
    const again = unwrap(await sage.POST("/contacts", { body: body as never }));
    expect(again.id).toBe(created.id);
    contactId = created.id!;
    const fetched = unwrap(await sage.GET("/contacts/{key}", { params: { path: { key: contactId } } }));
    expect(fetched.reference).toBe("MP-CUST-1001");
    const byEmail = await collectSagePages<Ref>(sage, "/contacts?email=billing%40fabrikam.example");
    expect(byEmail.map((c) => c.id)).toEqual([contactId]);
    const byRef = await collectSagePages<Ref>(sage, "/contacts?search=MP-CUST-1001");
    expect(byRef.map((c) => c.id)).toEqual([contactId]);
    expect((await state()).contacts.filter((c) => c.id === contactId)).toHaveLength(1);
  });

  it("services and products: create and find by item code", async () => {
    const ledgers = await collectSagePages<{ id: string; nominal_code?: number }>(sage, "/ledger_accounts?visible_in=sales&attributes=nominal_code");
    const sales = ledgers.find((l) => l.nominal_code === 4000)!;
    const service = unwrap(
      await sage.POST("/services", { body: { service: { description: "Cloud Backup 100 GB", item_code: "BACKUP-100GB", sales_ledger_account_id: sales.id, idempotency_id: idem() } } as never }),
    );
    expect(service.id).toBeTruthy();
    const found = await collectSagePages<Ref>(sage, "/services?search=BACKUP-100GB");
    expect(found.map((s) => s.id)).toContain(service.id);
    const expenses = await collectSagePages<{ id: string }>(sage, "/ledger_accounts?visible_in=expenses");
    const product = unwrap(
      await sage.POST("/products", { body: { product: { description: "YubiKey 5C", item_code: "YUBI-5C", sales_ledger_account_id: sales.id, purchase_ledger_account_id: expenses[0]!.id, idempotency_id: idem() } } as never }),
    );
    expect((await collectSagePages<Ref>(sage, "/products?search=YUBI-5C")).map((p) => p.id)).toContain(product.id);
  });

  async function invoiceBody(reference: string, extra: Record<string, unknown> = {}) {
    const ledgers = await collectSagePages<{ id: string; nominal_code?: number }>(sage, "/ledger_accounts?visible_in=sales&attributes=nominal_code");
    return {
      sales_invoice: {
        contact_id: contactId,
        date: "2026-11-01",
        reference,
        invoice_lines: [
          { description: "Microsoft 365 Business Standard × 10", ledger_account_id: ledgers.find((l) => l.nominal_code === 4000)!.id, quantity: 10, unit_price: 12.5, tax_rate_id: "GB_STANDARD", tax_amount: 25 },
        ],
        ...extra,
      },
    };
  }

  it("sales invoices: create, get, list by contact, update, void with a reason (stays listable)", async () => {
    const created = unwrap(await sage.POST("/sales_invoices", { body: (await invoiceBody("ORD-1")) as never })) as Invoice;
    expect(Number(created.total_amount)).toBeCloseTo(150);
    const got = unwrap(await sage.GET("/sales_invoices/{key}", { params: { path: { key: created.id } } })) as Invoice;
    expect(got.reference).toBe("ORD-1");
    const listed = await collectSagePages<Ref>(sage, `/sales_invoices?contact_id=${contactId}`);
    expect(listed.map((i) => i.id)).toContain(created.id);
    const updated = unwrap(await sage.PUT("/sales_invoices/{key}", { params: { path: { key: created.id } }, body: { sales_invoice: { notes: "Synced by Sage Connector" } } as never })) as Invoice & { notes?: string };
    expect(updated.notes).toBe("Synced by Sage Connector");
    const voided = unwrap(await sage.DELETE("/sales_invoices/{key}", { params: { path: { key: created.id }, query: { void_reason: "Order cancelled in the marketplace" } } })) as Invoice;
    expect(voided.status?.id).toBe("VOID");
    expect(voided.void_reason).toBe("Order cancelled in the marketplace");
    const voidedList = await collectSagePages<Ref>(sage, "/sales_invoices?status_id=VOID");
    expect(voidedList.map((i) => i.id)).toContain(created.id);
  });

  it("draft invoice released; credit note created and voided", async () => {
    const draft = unwrap(await sage.POST("/sales_invoices", { body: (await invoiceBody("ORD-2", { status_id: "DRAFT" })) as never })) as Invoice;
    expect(draft.status?.id).toBe("DRAFT");
    const released = unwrap(await sage.POST("/sales_invoices/{key}/release", { params: { path: { key: draft.id } } })) as Invoice;
    expect(released.status?.id).toBe("UNPAID");

    const inv = await invoiceBody("ORD-2-CN");
    const line = inv.sales_invoice.invoice_lines[0]!;
    const credit = unwrap(
      await sage.POST("/sales_credit_notes", {
        body: { sales_credit_note: { contact_id: contactId, date: "2026-11-02", reference: "ORD-2-CN", credit_note_lines: [{ ...line, quantity: 2, tax_amount: 5 }], idempotency_id: idem() } } as never,
      }),
    ) as Invoice;
    expect(Number(credit.total_amount)).toBeCloseTo(30);
    const got = unwrap(await sage.GET("/sales_credit_notes/{key}", { params: { path: { key: credit.id } } })) as Invoice;
    expect(got.reference).toBe("ORD-2-CN");
    const voided = unwrap(await sage.DELETE("/sales_credit_notes/{key}", { params: { path: { key: credit.id }, query: { void_reason: "Downgrade reverted" } } })) as Invoice;
    expect(voided.status?.id).toBe("VOID");
  });

  it("a 422 becomes a validation SageError keeping Sage's field ($source) and message", async () => {
    const body = await invoiceBody("ORD-BAD");
    delete (body.sales_invoice.invoice_lines[0] as Record<string, unknown>).tax_amount;
    const error = await sage.POST("/sales_invoices", { body: body as never }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SageError);
    expect((error as SageError).kind).toBe("validation");
    expect((error as SageError).details[0]!.source).toMatch(/tax_amount/);
    expect((error as SageError).details[0]!.message.length).toBeGreaterThan(3);
  });

  it("paging: the iterator follows $next across pages and sees every record once", async () => {
    for (let i = 0; i < 25; i++) {
      await sage.POST("/contacts", { body: { contact: { name: `Paging Customer ${i}`, contact_type_ids: ["CUSTOMER"], reference: `PAGE-${i}`, idempotency_id: idem() } } as never });
    }
    const seen: string[] = [];
    for await (const c of iterateSagePages<Ref>(sage, "/contacts?search=Paging%20Customer&items_per_page=10")) seen.push(c.id);
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
  });

  it("the sandbox flags a request that breaks the published description (so the zero-violation check can fail)", async () => {
    await world.clearRequestLog();
    const error = await collectSagePages(sage, "/contacts?items_per_page=500").catch((e: unknown) => e);
    expect((error as SageError).kind).toBe("validation");
    const flagged = (await world.requestLog()).filter((l) => l.spec_violation === true);
    expect(flagged).toHaveLength(1);
    // deliberate: forget it so close() does not fail this file
    await fetch(`${world.sandbox.url}/__sandbox/requests`, { method: "DELETE" });
  });

  describe("retries by error kind", () => {
    it("429 honours Retry-After, then succeeds", async () => {
      await clearFaults();
      await fault({ route: "sage.contact_types.list", kind: "status", status: 429, count: 1, retryAfterSeconds: 1 });
      const started = Date.now();
      const types = await collectSagePages<Ref>(sage, "/contact_types");
      expect(types.length).toBeGreaterThan(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    });

    it("503 twice → retried with backoff, succeeds on the third attempt", async () => {
      await clearFaults();
      await fault({ route: "sage.currencies.list", kind: "status", status: 503, count: 2 });
      await world.clearRequestLog();
      await collectSagePages<Ref>(sage, "/currencies");
      const calls = (await world.requestLog()).filter((l) => l.route === "sage.currencies.list").map((l) => l.status);
      expect(calls).toEqual([503, 503, 200]);
    });

    it("a list answer cut off mid-body → a retryable SageError inside the transport, retried in place, succeeds", async () => {
      await clearFaults();
      await fault({ route: "sage.currencies.list", kind: "commit-then-truncate", count: 2 });
      await world.clearRequestLog();
      const currencies = await collectSagePages<Ref>(sage, "/currencies");
      expect(currencies.length).toBeGreaterThan(0);
      const faults = (await (await fetch(`${world.sandbox.url}/__sandbox/faults`)).json()) as Array<{ route: string; kind: string; fired: number }> | { faults: Array<{ route: string; kind: string; fired: number }> };
      const list = Array.isArray(faults) ? faults : faults.faults;
      expect(list.find((f) => f.route === "sage.currencies.list" && f.kind === "commit-then-truncate")?.fired).toBe(2);
      const calls = (await world.requestLog()).filter((l) => l.route === "sage.currencies.list").map((l) => l.status);
      expect(calls).toEqual([200, 200, 200]);
    });

    it("a create WITHOUT idempotency_id cut off mid-body → unknown_outcome (not TypeError), not repeated", async () => {
      await clearFaults();
      await fault({ route: "sage.sales_invoices.create", kind: "commit-then-truncate", count: 1 });
      await world.clearRequestLog();
      const error = await sage.POST("/sales_invoices", { body: (await invoiceBody("ORD-TRUNC-2")) as never }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SageError);
      expect((error as SageError).kind).toBe("unknown_outcome");
      expect((await world.requestLog()).filter((l) => l.route === "sage.sales_invoices.create")).toHaveLength(1);
      expect((await state()).sales_invoices.filter((i) => i.reference === "ORD-TRUNC-2")).toHaveLength(1);
    });

    it("commit-then-drop on a create WITH idempotency_id → retried, exactly one invoice in Sage", async () => {
      await clearFaults();
      await fault({ route: "sage.sales_invoices.create", kind: "commit-then-drop", count: 1 });
      const before = (await state()).sales_invoices.length;
      const draft = await invoiceBody("ORD-DROP-1");
      const body = withIdempotencyId("sales_invoice", draft.sales_invoice, await deriveIdempotencyId("tenant", "task-ORD-DROP-1", "sales_invoice"));
      const created = unwrap(await sage.POST("/sales_invoices", { body: body as never })) as Invoice;
      const after = (await state()).sales_invoices;
      expect(after.length).toBe(before + 1);
      expect(after.filter((i) => i.reference === "ORD-DROP-1").map((i) => i.id)).toEqual([created.id]);
    });

    it("commit-then-drop on a create WITHOUT idempotency_id → unknown_outcome, not retried blindly", async () => {
      await clearFaults();
      await fault({ route: "sage.sales_invoices.create", kind: "commit-then-drop", count: 1 });
      await world.clearRequestLog();
      const error = await sage.POST("/sales_invoices", { body: (await invoiceBody("ORD-DROP-2")) as never }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SageError);
      expect((error as SageError).kind).toBe("unknown_outcome");
      expect((await world.requestLog()).filter((l) => l.route === "sage.sales_invoices.create")).toHaveLength(1);
      // the write did happen: callers must look it up by reference before trying again
      expect((await state()).sales_invoices.filter((i) => i.reference === "ORD-DROP-2")).toHaveLength(1);
    });

    it("a lapsed subscription is an auth error that does not disconnect the connection", async () => {
      await clearFaults();
      await world.control("sage/subscription", { business: businessKey, active: false });
      const error = await sage.GET("/user", {}).then(() => null, (e: unknown) => e);
      // /user is user-level; a business call is refused
      const businessError = await collectSagePages(sage, "/contacts").catch((e: unknown) => e);
      expect(businessError).toBeInstanceOf(SageError);
      expect((businessError as SageError).kind).toBe("auth");
      expect((businessError as SageError).message).toContain("No active subscription");
      expect(error === null || error instanceof SageError).toBe(true);
      await world.control("sage/subscription", { business: businessKey, active: true });
      expect((await world.connection())!.status).toBe("connected");
    });
  });
});

describe("idempotency ids", () => {
  it("are 32 hex characters, stable for the same parts, different for different parts; bad ids are refused", async () => {
    const a = await deriveIdempotencyId("t1", "task-1", "sales_invoice");
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(await deriveIdempotencyId("t1", "task-1", "sales_invoice")).toBe(a);
    expect(await deriveIdempotencyId("t1", "task-1", "sales_credit_note")).not.toBe(a);
    expect(() => withIdempotencyId("contact", { name: "x" }, "not-hex")).toThrow(/32 hex/);
    expect(withIdempotencyId("contact", { name: "x" }, a)).toEqual({ contact: { name: "x", idempotency_id: a } });
  });
});
