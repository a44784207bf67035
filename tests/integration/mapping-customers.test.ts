import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { customerMappings, sageContacts } from "@/db/schema";
import { SAGE_CONTACT_CREATE_REQUESTED } from "@/inngest/functions/sage-contact-create";
import { MappingError } from "@/lib/mapping/common";
import { autoMatchCustomers, customerListQuerySchema, listCustomers, mapCustomers, setCustomerAutoSync, unmapCustomers } from "@/lib/mapping/customers";
import { searchSageContacts } from "@/lib/mapping/sage-cache";
import { getRequestOutcomes } from "@/lib/mapping/status";
import { createSageContactForCustomer } from "@/lib/sage-catalog/create-contact";
import { idempotencyIds } from "@/lib/sync/documents";
import { refreshSageCatalog } from "@/lib/sage-catalog/refresh";
import { unwrap } from "@/lib/sage/accounting/api";
import { FAST, startMappingWorld, type MappingWorld } from "./mapping-helpers";

const q = (input: Record<string, unknown> = {}) => customerListQuerySchema.parse(input);

describe("Mapping: customers", () => {
  let w: MappingWorld;
  const ids: Record<string, string> = {};
  const mappingOf = async (customerId: string) => (await w.db.db.select().from(customerMappings).where(eq(customerMappings.customerId, customerId)))[0];
  const contact = async (reference: string) => (await w.db.db.select().from(sageContacts).where(and(eq(sageContacts.connectionId, w.connectionId), eq(sageContacts.reference, reference))))[0]!;

  beforeAll(async () => {
    w = await startMappingWorld();
    // Sage already has Contoso (CONTOSO, accounts@contoso.example) and Fabrikam Trading Ltd (FABRIKAM, finance@fabrikam.example);
    // and a contact someone made earlier with our reference convention
    unwrap(await w.sage.POST("/contacts", { body: { contact: { name: "Woodgrove (old name)", contact_type_ids: ["CUSTOMER"], reference: "TA-0004" } } as never }));
    ids.contoso = await w.customer({ id: "TA-0001", name: "Contoso Limited", email: "ACCOUNTS@contoso.example" });
    ids.fabrikam = await w.customer({ id: "TA-0002", name: "fabrikam trading ltd", email: "it@fabrikam.example" });
    ids.newco = await w.customer({ id: "TA-0003", name: "Northwind Newco", email: "billing@newco.example", contactInfo: { phone: "+44 161 496 0123", tax_id: "GB 123 4567 89", address: { line1: "44 Deansgate", city: "Manchester", postal_code: "M3 2BW", country: "GB" } } });
    ids.woodgrove = await w.customer({ id: "TA-0004", name: "Woodgrove Bank", email: null });
    ids.fabCloud = await w.customer({ id: "TA-0005", name: "Fabrikam Cloud", email: "finance@fabrikam.example" });
    ids.lonely = await w.customer({ id: "TA-0006", name: "Tailspin Toys", email: "ap@tailspin.example" });
    expect(await refreshSageCatalog(w.db.db, { tenantId: w.tenantId, actor: w.actor })).toMatchObject({ ok: true, contacts: 3 });
  });
  afterAll(async () => w?.close());

  it("the cache holds customer contacts only (vendors are not offered), searchable", async () => {
    const all = await searchSageContacts(w.db.db, w.tenantId);
    expect(all.map((c) => c.reference).sort()).toEqual(["CONTOSO", "FABRIKAM", "TA-0004"]);
    expect((await searchSageContacts(w.db.db, w.tenantId, { search: "contoso.example" })).map((c) => c.name)).toEqual(["Contoso Ltd"]);
  });

  it("auto-match: e-mail, then reference, then name (case-insensitive), with a summary", async () => {
    const before = await w.lastLogId();
    const summary = await autoMatchCustomers(w.db.db, { tenantId: w.tenantId, actor: w.actor, customerIds: [ids.contoso!, ids.fabrikam!, ids.newco!, ids.woodgrove!] });
    expect(summary).toMatchObject({ considered: 4, matched: 3, byEmail: 1, byReference: 1, byName: 1, noMatch: 1, byStoredId: 0 });
    expect((await mappingOf(ids.contoso!))?.sageContactName).toBe("Contoso Ltd");
    expect((await mappingOf(ids.fabrikam!))?.sageContactName).toBe("Fabrikam Trading Ltd");
    expect((await mappingOf(ids.woodgrove!))?.sageContactName).toBe("Woodgrove (old name)");
    expect(await mappingOf(ids.newco!)).toBeUndefined();
    expect(summary.message).toBe("Auto-match: 3 of 4 unmapped customers mapped (1 by e-mail, 1 by reference, 1 by name); 1 without a match.");
    expect((await w.mappingLog(before)).map((l) => l.message)).toEqual([summary.message]);
    // run again: the stored ids still exist, so they are kept and nothing is written
    const again = await autoMatchCustomers(w.db.db, { tenantId: w.tenantId, actor: w.actor, customerIds: [ids.contoso!, ids.fabrikam!, ids.woodgrove!] });
    expect(again).toMatchObject({ matched: 0, byStoredId: 3 });
    expect(await w.mappingLog(before)).toHaveLength(1);
  });

  it("show only unmapped and search, on the server", async () => {
    const unmapped = await listCustomers(w.db.db, w.tenantId, q({ unmapped: "1" }));
    expect(unmapped.rows.map((r) => r.marketplaceCustomerId)).toEqual(["TA-0005", "TA-0003", "TA-0006"]);
    const found = await listCustomers(w.db.db, w.tenantId, q({ search: "fabrikam" }));
    expect(found.rows.map((r) => [r.marketplaceCustomerId, r.mapping?.sageContactName ?? null])).toEqual([
      ["TA-0005", null],
      ["TA-0002", "Fabrikam Trading Ltd"],
    ]);
    expect((await listCustomers(w.db.db, w.tenantId, q({ search: "TA-0006" }))).rows.map((r) => r.name)).toEqual(["Tailspin Toys"]);
  });

  it("Create contact in Sage matches an existing Sage contact by e-mail instead of creating a second one", async () => {
    const before = (await w.state()).contacts.length;
    await w.clearRequestLog();
    const requestId = w.requestId();
    const { runIds } = await w.runner.send({ name: SAGE_CONTACT_CREATE_REQUESTED, data: { tenantId: w.tenantId, connectionId: w.connectionId, customerId: ids.fabCloud, requestId, actor: w.actor } });
    expect((await w.runner.waitForRun(runIds[0]!)).status).toBe("completed");
    expect((await w.state()).contacts.length).toBe(before);
    expect((await w.requestLog()).filter((l) => l.route === "sage.contacts.create")).toHaveLength(0);
    expect((await mappingOf(ids.fabCloud!))?.sageContactName).toBe("Fabrikam Trading Ltd");
    const [outcome] = await getRequestOutcomes(w.db.db, w.tenantId, [requestId]);
    expect(outcome).toMatchObject({
      state: "done",
      ok: true,
      message: "Found in Sage by e-mail and mapped: Fabrikam Cloud (TA-0005) → Sage contact “Fabrikam Trading Ltd” (FABRIKAM) (no new contact created)",
    });
  });

  it("Create contact in Sage creates one contact (reference = marketplace customer id, idempotency_id) even when the create is dropped and retried", async () => {
    await w.clearFaults();
    await w.fault({ route: "sage.contacts.create", kind: "commit-then-drop", count: 1 });
    await w.clearRequestLog();
    const requestId = w.requestId();
    const { runIds } = await w.runner.send({ name: SAGE_CONTACT_CREATE_REQUESTED, data: { tenantId: w.tenantId, connectionId: w.connectionId, customerId: ids.newco, requestId, actor: w.actor } });
    expect((await w.runner.waitForRun(runIds[0]!, { timeoutMs: 30_000 })).status).toBe("completed");
    const made = (await w.state()).contacts.filter((c) => c.reference === "TA-0003");
    expect(made).toHaveLength(1);
    expect(made[0]!.name).toBe("Northwind Newco");
    // with the marketplace's billing address, contact person, phone and VAT number
    expect(made[0]).toMatchObject({
      tax_number: "GB123456789",
      main_address: { address_line_1: "44 Deansgate", city: "Manchester", postal_code: "M3 2BW", country: { id: "GB" } },
      main_contact_person: { name: "Northwind Newco billing", email: "billing@newco.example", telephone: "+44 161 496 0123" },
    });
    const creates = (await w.requestLog()).filter((l) => l.route === "sage.contacts.create");
    expect(creates.length).toBe(2);
    const expectedId = idempotencyIds.contact(w.tenantId, "TA-0003");
    expect(creates.every((c) => c.idempotency_id === expectedId)).toBe(true);
    expect((await mappingOf(ids.newco!))?.sageContactId).toBe(made[0]!.id);
    expect((await contact("TA-0003")).email).toBe("billing@newco.example");

    // asked again (a second click, or a retried function): matched by the stored id, nothing created
    await w.clearFaults();
    const again = await createSageContactForCustomer(w.db.db, { tenantId: w.tenantId, customerId: ids.newco!, actor: w.actor, requestId: w.requestId(), policy: FAST });
    expect(again).toMatchObject({ ok: true, outcome: "matched", matchedBy: "stored_id" });
    expect((await w.state()).contacts.filter((c) => c.reference === "TA-0003")).toHaveLength(1);
  });

  it("a create whose answer was lost is found by e-mail on the retry, never created twice", async () => {
    await w.clearFaults();
    await w.fault({ route: "sage.contacts.create", kind: "commit-then-drop", count: 1 });
    const requestId = w.requestId();
    const first = await createSageContactForCustomer(w.db.db, { tenantId: w.tenantId, customerId: ids.lonely!, actor: w.actor, requestId, policy: { ...FAST, maxAttempts: 1 } }).catch((e: unknown) => e);
    expect((first as { kind?: string }).kind).toBe("unknown_outcome");
    expect(await mappingOf(ids.lonely!)).toBeUndefined();
    const second = await createSageContactForCustomer(w.db.db, { tenantId: w.tenantId, customerId: ids.lonely!, actor: w.actor, requestId, policy: FAST });
    expect(second).toMatchObject({ ok: true, outcome: "matched", matchedBy: "email" });
    expect((await w.state()).contacts.filter((c) => c.reference === "TA-0006")).toHaveLength(1);
  });

  it("Create contact in Sage finds a contact by reference (= marketplace customer id) when there is no e-mail", async () => {
    const made = unwrap(await w.sage.POST("/contacts", { body: { contact: { name: "Litware (entered by hand)", contact_type_ids: ["CUSTOMER"], reference: "ta-0007" } } as never }));
    const litware = await w.customer({ id: "TA-0007", name: "Litware SAS", email: null });
    const before = (await w.state()).contacts.length;
    const result = await createSageContactForCustomer(w.db.db, { tenantId: w.tenantId, customerId: litware, actor: w.actor, requestId: w.requestId(), policy: FAST });
    expect(result).toMatchObject({ ok: true, outcome: "matched", matchedBy: "reference", sageContactId: made.id });
    expect((await w.state()).contacts.length).toBe(before);
    expect((await mappingOf(litware))?.sageContactName).toBe("Litware (entered by hand)");
  });

  it("each customer has its own auto-sync toggle; unmapping keeps it", async () => {
    const before = await w.lastLogId();
    await setCustomerAutoSync(w.db.db, { tenantId: w.tenantId, customerIds: [ids.contoso!], autoSync: true, actor: w.actor });
    expect((await mappingOf(ids.contoso!))?.autoSync).toBe(true);
    expect((await mappingOf(ids.fabrikam!))?.autoSync).toBe(false);
    // an unmapped customer can have the flag too (it applies once mapped)
    const woodgroveBefore = await mappingOf(ids.woodgrove!);
    expect(woodgroveBefore?.autoSync).toBe(false);
    const page = await listCustomers(w.db.db, w.tenantId, q({ search: "contoso" }));
    expect(page.rows[0]).toMatchObject({ autoSync: true, mapping: { sageContactName: "Contoso Ltd", contactExists: true } });
    await unmapCustomers(w.db.db, { tenantId: w.tenantId, customerIds: [ids.contoso!], actor: w.actor });
    expect(await mappingOf(ids.contoso!)).toMatchObject({ sageContactId: null, autoSync: true });
    // same value again: nothing changes, nothing logged
    expect(await setCustomerAutoSync(w.db.db, { tenantId: w.tenantId, customerIds: [ids.contoso!], autoSync: true, actor: w.actor })).toEqual({ changed: 0 });
    await setCustomerAutoSync(w.db.db, { tenantId: w.tenantId, customerIds: [ids.contoso!], autoSync: false, actor: w.actor });
    expect((await mappingOf(ids.contoso!))?.autoSync).toBe(false);
    expect((await w.mappingLog(before)).map((l) => l.message)).toEqual([
      "Auto-sync turned on for customer Contoso Limited (TA-0001)",
      "Customer unmapped: Contoso Limited (TA-0001) (was “Contoso Ltd”)",
      "Auto-sync turned off for customer Contoso Limited (TA-0001)",
    ]);
  });

  it("bulk map to a cached contact; a contact Sage no longer has is refused and nothing is saved", async () => {
    const contoso = await contact("CONTOSO");
    const before = await w.lastLogId();
    const result = await mapCustomers(w.db.db, { tenantId: w.tenantId, customerIds: [ids.contoso!, ids.woodgrove!], sageContactId: contoso.sageId, actor: w.actor });
    expect(result.mapped).toBe(2);
    expect((await w.mappingLog(before)).map((l) => l.message)).toEqual(["2 customers mapped to Sage contact “Contoso Ltd” (CONTOSO): Contoso Limited (TA-0001), Woodgrove Bank (TA-0004)"]);
    // the old Woodgrove contact is deleted in Sage and the cache refreshed
    const old = await contact("TA-0004");
    await w.sage.DELETE("/contacts/{key}", { params: { path: { key: old.sageId } } });
    expect(await refreshSageCatalog(w.db.db, { tenantId: w.tenantId, actor: w.actor })).toMatchObject({ ok: true, removedContacts: 1 });
    const mid = await w.lastLogId();
    const error = await mapCustomers(w.db.db, { tenantId: w.tenantId, customerIds: [ids.woodgrove!], sageContactId: old.sageId, actor: w.actor }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MappingError);
    expect((error as MappingError).reason).toBe("sage_contact_missing");
    expect((await mappingOf(ids.woodgrove!))?.sageContactId).toBe(contoso.sageId);
    expect(await w.mappingLog(mid)).toHaveLength(0);
  });
});
