// Sage 50 Cloud (Connected Cloud file exchange) simulator, to docs/sage50-sandbox-contract.md:
// registration, passcodes, the desktop grant and the signed approval call, API keys and rotation,
// downloads with notifications, uploads with tracking and results, faults, persistence.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { startSandbox, type RunningSandbox } from "../../sandbox/server";
import { requestLog } from "./helpers";
import {
  ES,
  GB,
  advanceClock,
  appPath,
  call,
  connect,
  connectedApp,
  newPasscode,
  postForm,
  registerDeveloper,
  startReceiver,
  type Json,
  type Receiver,
  type ReceivedCall,
} from "./sage50-helpers";

/** Tracking stage length in these tests; the clock is advanced by whole steps. */
const STEP_S = 10;
const running: RunningSandbox[] = [];
const receivers: Receiver[] = [];

async function sandbox(dataDir?: string): Promise<string> {
  const sb = await startSandbox({ port: 0, dataDir, sage50: { trackingStepMs: STEP_S * 1000 } });
  running.push(sb);
  return sb.url;
}

async function app(base: string): Promise<{ dev: Awaited<ReturnType<typeof registerDeveloper>>; app: Receiver; key: string }> {
  const c = await connectedApp(base);
  receivers.push(c.app);
  return c;
}

afterEach(async () => {
  for (const sb of running.splice(0)) await sb.close();
  for (const r of receivers.splice(0)) await r.close();
});

function signingKey(secret: string): string {
  return `whsec_${Buffer.from(secret, "utf8").toString("base64")}`;
}

/** Verifies a call's Standard Webhooks signature with the application secret and returns its JSON. */
function verified(c: ReceivedCall, secret: string): Json {
  return new Webhook(signingKey(secret)).verify(c.body, {
    "webhook-id": String(c.headers["webhook-id"]),
    "webhook-timestamp": String(c.headers["webhook-timestamp"]),
    "webhook-signature": String(c.headers["webhook-signature"]),
  }) as Json;
}

function order(id: string, extra: Json = {}): Json {
  return {
    id,
    type: "invoice",
    orderDate: "2026-11-20",
    customer: { id: "CONTO001" },
    currency: "GBP",
    currencyRate: 1,
    discount: 0,
    paymentMethod: "card",
    totalShipping: 0,
    lines: [{ productId: "101", reference: "M365-BASIC-M", description: "Microsoft 365 Business Basic", quantity: 3, netPrice: 5.1, tax: 20 }],
    ...extra,
  };
}

async function upload(base: string, key: string, uploadId: string, records: unknown[], scope = "Orders") {
  return call(base, "POST", "/sage50/api/uploads", { key, body: { uploadId, scope, records } });
}

async function track(base: string, key: string, uploadId: string): Promise<Json> {
  const r = await call(base, "GET", `/sage50/api/uploads/${uploadId}`, { key });
  expect(r.status).toBe(200);
  return r.body;
}

async function companyState(base: string, companyId = GB): Promise<Json> {
  const s = await call(base, "GET", "/control/sage50/state");
  return (s.body.companies as Json[]).find((c) => c.companyId === companyId) as Json;
}

describe("developer registration", () => {
  it("needs the captcha; without it nothing is created; with it the page and the mailbox carry the ids", async () => {
    const base = await sandbox();
    const reg = await call(base, "POST", "/sage50/api/developers", { body: { name: "Acme Connector", email: "dev@acme.example" } });
    expect(reg.status).toBe(201);
    expect(Object.keys(reg.body)).toEqual(["registrationUrl"]);
    expect(reg.body.registrationUrl).toMatch(new RegExp(`^${base}/sage50/register/[A-Za-z0-9_-]+$`));
    const regPath = new URL(reg.body.registrationUrl as string).pathname;

    const form = await fetch(`${base}${regPath}`);
    const formHtml = await form.text();
    expect(form.status).toBe(200);
    expect(formHtml).toContain('<input type="checkbox" id="captcha" name="captcha" value="solved"><label class="inline" for="captcha">I am not a robot</label>');
    expect(formHtml).toContain('<button type="submit">Complete registration</button>');

    const refused = await postForm(base, regPath, {});
    expect(refused.status).toBe(400);
    expect(refused.html).toContain("Please confirm that you are not a robot.");
    const empty = await call(base, "GET", "/control/sage50/state");
    expect(empty.body.developers).toEqual([]);
    expect(empty.body.applications).toEqual([]);
    expect((await call(base, "GET", "/control/sage50/mailbox?email=dev@acme.example")).body).toEqual([]);

    const done = await postForm(base, regPath, { captcha: "solved" });
    expect(done.status).toBe(200);
    expect(done.html).toContain("<h1>Registration complete</h1>");
    const mail = (await call(base, "GET", "/control/sage50/mailbox?email=dev@acme.example")).body as Json[];
    expect(mail).toHaveLength(1);
    expect(Object.keys(mail[0] as Json).sort()).toEqual(["applicationId", "developerId", "secret", "sentAt"]);
    const { developerId, applicationId, secret } = mail[0] as Json;
    expect(done.html).toContain(`<dt>Developer id</dt><dd><code>${developerId}</code></dd>`);
    expect(done.html).toContain(`<dt>Application id</dt><dd><code>${applicationId}</code></dd>`);
    expect(done.html).toContain(`<dt>Application secret</dt><dd><code>${secret}</code></dd>`);

    const state = (await call(base, "GET", "/control/sage50/state")).body;
    expect(state.developers).toEqual([{ developerId, name: "Acme Connector", email: "dev@acme.example", createdAt: expect.any(String) }]);
    expect(state.applications).toEqual([{ applicationId, developerId, name: "Acme Connector", approvalUrl: null, notificationUrl: null }]);
    expect(JSON.stringify(state)).not.toContain(secret as string);
    expect((await postForm(base, regPath, { captcha: "solved" })).status).toBe(400);

    // more applications, and their settings (secret checked)
    const more = await call(base, "POST", `/sage50/api/developers/${developerId}/applications`, { body: { name: "Second app" } });
    expect(more.status).toBe(201);
    expect(Object.keys(more.body).sort()).toEqual(["applicationId", "secret"]);
    const patchPath = `/sage50/api/developers/${developerId}/applications/${more.body.applicationId}`;
    expect((await call(base, "PATCH", patchPath, { body: { secret: "wrong", name: "X" } })).status).toBe(401);
    const patched = await call(base, "PATCH", patchPath, { body: { secret: more.body.secret, name: "Renamed", approvalUrl: "http://127.0.0.1:9/approve" } });
    expect(patched).toEqual({ status: 200, body: { applicationId: more.body.applicationId, name: "Renamed", approvalUrl: "http://127.0.0.1:9/approve", notificationUrl: null } });
  });
});

describe("passcodes and the desktop", () => {
  it("a passcode needs the application secret; unknown ids are 404", async () => {
    const base = await sandbox();
    const dev = await registerDeveloper(base);
    const wrong = await call(base, "POST", `${appPath(dev)}/passcodes`, { body: { secret: "not-the-secret" } });
    expect(wrong).toEqual({ status: 401, body: { error: "invalid_secret" } });
    const unknown = await call(base, "POST", `/sage50/api/developers/${dev.developerId}/applications/nope/passcodes`, { body: { secret: dev.secret } });
    expect(unknown.status).toBe(404);
    const before = Date.now();
    const ok = await call(base, "POST", `${appPath(dev)}/passcodes`, { body: { secret: dev.secret } });
    expect(ok.status).toBe(201);
    expect(ok.body.passcode).toMatch(/^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/);
    const expires = Date.parse(ok.body.expires as string);
    expect(ok.body.expires).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(expires - before).toBeGreaterThanOrEqual(600_000 - 50);
    expect(expires - Date.now()).toBeLessThanOrEqual(600_000);
  });

  it("grant: the desktop pages, then a signed approval call carrying the apikey", async () => {
    const base = await sandbox();
    const receiver = await startReceiver();
    receivers.push(receiver);
    const dev = await registerDeveloper(base);
    await call(base, "PATCH", appPath(dev), { body: { secret: dev.secret, approvalUrl: `${receiver.url}/approval` } });

    const desktop = await (await fetch(`${base}/sage50/desktop`)).text();
    expect(desktop).toContain("Sage 50 desktop (sandbox)");
    expect(desktop).toContain('<label for="company">Company</label>\n<select id="company" name="company">\n<option value="SAGE50-GB-001">Sage 50 Demo Company Ltd</option>\n<option value="SAGE50-ES-001">Iberia Distribución SL</option>\n</select>');
    expect(desktop).toContain('<label for="passcode">Passcode</label>\n<input type="text" id="passcode" name="passcode"');
    expect(desktop).toContain('<button type="submit">Continue</button>');

    const passcode = await newPasscode(base, dev);
    const confirm = await postForm(base, "/sage50/desktop", { company: GB, passcode });
    expect(confirm.status).toBe(200);
    expect(confirm.html).toContain("The application <strong>Acme Connector</strong> asks for access to the <strong>e-Commerce</strong> domain of <strong>Sage 50 Demo Company Ltd</strong>.");
    expect(confirm.html).toContain('<button type="submit" name="decision" value="grant">Grant access</button>');
    expect(confirm.html).toContain('<button type="submit" name="decision" value="deny" class="secondary">Deny</button>');

    const granted = await postForm(base, "/sage50/desktop/decision", { company: GB, passcode, decision: "grant" });
    expect(granted.status).toBe(200);
    expect(granted.html).toContain("<h1>Access granted</h1>");
    expect(granted.html).toContain("its approval URL answered HTTP 200.");
    expect(receiver.calls).toHaveLength(1);
    const approval = receiver.calls[0] as ReceivedCall;
    expect(approval.path).toBe("/approval");
    expect(approval.headers["content-type"]).toBe("application/json");
    const payload = verified(approval, dev.secret);
    expect(Object.keys(payload).sort()).toEqual(["apikey", "companyId", "companyName", "domain", "expires", "passcode"]);
    expect(payload).toMatchObject({ passcode, companyId: GB, companyName: "Sage 50 Demo Company Ltd", domain: "ecommerce" });
    expect(typeof payload.apikey).toBe("string");
    expect(Date.parse(payload.expires as string) - Date.now()).toBeGreaterThan(86_400_000 - 5000);
    expect(() => verified(approval, "another-secret")).toThrow();
    const files = await call(base, "GET", "/sage50/api/files", { key: payload.apikey as string });
    expect(files.status).toBe(200);

    // the passcode is used up
    const again = await postForm(base, "/sage50/desktop", { company: GB, passcode });
    expect(again.status).toBe(400);
    expect(again.html).toContain("This passcode has expired");
    // a new grant replaces the key
    const second = await connect(base, dev, receiver);
    expect(second).not.toBe(payload.apikey);
    expect((await call(base, "GET", "/sage50/api/files", { key: payload.apikey as string })).body).toEqual({ error: "invalid_api_key" });
    expect((await call(base, "GET", "/sage50/api/files", { key: second })).status).toBe(200);
  });

  it("deny sends denied:true and makes no key; a failing approval URL is shown on the page", async () => {
    const base = await sandbox();
    const receiver = await startReceiver();
    receivers.push(receiver);
    const dev = await registerDeveloper(base);
    await call(base, "PATCH", appPath(dev), { body: { secret: dev.secret, approvalUrl: `${receiver.url}/approval` } });
    const passcode = await newPasscode(base, dev);
    const denied = await postForm(base, "/sage50/desktop/decision", { company: ES, passcode, decision: "deny" });
    expect(denied.status).toBe(200);
    expect(denied.html).toContain("<h1>Access denied</h1>");
    expect(verified(receiver.calls[0] as ReceivedCall, dev.secret)).toEqual({ passcode, denied: true, companyId: ES, companyName: "Iberia Distribución SL", domain: "ecommerce" });
    expect((await companyState(base, ES)).keys).toEqual([]);

    receiver.status = 500;
    const failing = await postForm(base, "/sage50/desktop/decision", { company: GB, passcode: await newPasscode(base, dev), decision: "grant" });
    expect(failing.status).toBe(200);
    expect(failing.html).toContain("The application could not be told: its approval URL answered HTTP 500.");
  });

  it("refuses an expired or unknown passcode", async () => {
    const base = await sandbox();
    const dev = await registerDeveloper(base);
    const passcode = await newPasscode(base, dev);
    await advanceClock(base, 601);
    const expired = await postForm(base, "/sage50/desktop", { company: GB, passcode });
    expect(expired.status).toBe(400);
    expect(expired.html).toContain("This passcode has expired");
    const decision = await postForm(base, "/sage50/desktop/decision", { company: GB, passcode, decision: "grant" });
    expect(decision.status).toBe(400);
    expect((await companyState(base)).keys).toEqual([]);
    const unknown = await postForm(base, "/sage50/desktop", { company: GB, passcode: "ZZZZ-9999" });
    expect(unknown.status).toBe(400);
    expect(unknown.html).toContain("Unknown passcode");
  });
});

describe("API keys", () => {
  it("an expired key gets 401 api_key_expired on files and uploads; rotation works and retires it", async () => {
    const base = await sandbox();
    const { dev, key } = await app(base);
    await advanceClock(base, 86_401);
    expect(await call(base, "GET", "/sage50/api/files", { key })).toEqual({ status: 401, body: { error: "api_key_expired" } });
    expect(await call(base, "GET", "/sage50/api/files/Products", { key })).toEqual({ status: 401, body: { error: "api_key_expired" } });
    expect(await upload(base, key, "u-1", [order("ORD-1")])).toEqual({ status: 401, body: { error: "api_key_expired" } });
    expect(await call(base, "GET", "/sage50/api/files", { key: "s50k_unknown" })).toEqual({ status: 401, body: { error: "invalid_api_key" } });
    expect(await call(base, "GET", "/sage50/api/files")).toEqual({ status: 401, body: { error: "invalid_api_key" } });

    expect(await call(base, "PATCH", "/sage50/api/apikeys", { body: { initialApikey: key, secret: "wrong" } })).toEqual({ status: 401, body: { error: "invalid_secret" } });
    expect(await call(base, "PATCH", "/sage50/api/apikeys", { body: { initialApikey: "s50k_unknown", secret: dev.secret } })).toEqual({ status: 404, body: { error: "unknown_api_key" } });
    const rotated = await call(base, "PATCH", "/sage50/api/apikeys", { body: { initialApikey: key, secret: dev.secret } });
    expect(rotated.status).toBe(200);
    expect(Object.keys(rotated.body).sort()).toEqual(["apikey", "expires"]);
    expect(rotated.body.apikey).not.toBe(key);
    const clock = (await (await fetch(`${base}/__sandbox/clock`)).json()) as { now: string };
    expect(Date.parse(rotated.body.expires as string) - Date.parse(clock.now)).toBeGreaterThan(86_400_000 - 5000);
    expect((await call(base, "GET", "/sage50/api/files", { key: rotated.body.apikey as string })).status).toBe(200);
    expect(await call(base, "GET", "/sage50/api/files", { key })).toEqual({ status: 401, body: { error: "invalid_api_key" } });
    const state = await companyState(base);
    expect(state.rotations).toBe(1);
    expect(state.keys).toEqual([{ applicationId: dev.applicationId, apikey: `***${(rotated.body.apikey as string).slice(-4)}`, expires: rotated.body.expires, expired: false }]);

    // the request log has the data API calls, with the key and the secrets masked
    const log = await requestLog(base);
    const files = log.filter((e) => e.route === "sage50.files.list");
    expect(files.map((e) => e.status)).toEqual([401, 401, 401, 200, 401]);
    expect(files[0]?.headers["x-api-key"]).toBe(`***${key.slice(-4)}`);
    const rotations = log.filter((e) => e.route === "sage50.apikeys.rotate");
    expect(rotations.map((e) => e.status)).toEqual([401, 404, 200]);
    expect(JSON.stringify(log)).not.toContain(key);
    expect(JSON.stringify(log)).not.toContain(dev.secret);
  });

  it("20 concurrent rotations of the same key: exactly one wins, the others get 404", async () => {
    const base = await sandbox();
    const { dev, key } = await app(base);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => call(base, "PATCH", "/sage50/api/apikeys", { body: { initialApikey: key, secret: dev.secret } })),
    );
    const winners = results.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.status === 404 && r.body.error === "unknown_api_key")).toHaveLength(19);
    expect((await call(base, "GET", "/sage50/api/files", { key: winners[0]?.body.apikey as string })).status).toBe(200);
    expect((await companyState(base)).rotations).toBe(1);
  });

  it("expire_key_after lets n calls through, then the key is expired (rotation still works)", async () => {
    const base = await sandbox();
    const { dev, key } = await app(base);
    expect((await call(base, "POST", "/control/sage50/faults", { body: { kind: "expire_key_after", calls: 2 } })).status).toBe(201);
    expect((await call(base, "GET", "/sage50/api/files", { key })).status).toBe(200);
    expect((await call(base, "GET", "/sage50/api/files/Customers", { key })).status).toBe(200);
    expect(await call(base, "GET", "/sage50/api/files", { key })).toEqual({ status: 401, body: { error: "api_key_expired" } });
    const rotated = await call(base, "PATCH", "/sage50/api/apikeys", { body: { initialApikey: key, secret: dev.secret } });
    expect(rotated.status).toBe(200);
    expect((await call(base, "GET", "/sage50/api/files", { key: rotated.body.apikey as string })).status).toBe(200);
  });
});

describe("downloads", () => {
  it("lists the latest file per scope and serves the full data", async () => {
    const base = await sandbox();
    const { dev, app: receiver, key } = await app(base);
    const list = await call(base, "GET", "/sage50/api/files", { key });
    expect(list.body).toEqual({
      files: [
        { scope: "Products", fileId: "SAGE50-GB-001-Products-1", updatedAt: "2026-01-05T09:00:00.000Z", downloadUrl: `${base}/sage50/api/files/Products` },
        { scope: "Customers", fileId: "SAGE50-GB-001-Customers-1", updatedAt: "2026-01-05T09:00:00.000Z", downloadUrl: `${base}/sage50/api/files/Customers` },
      ],
    });
    const products = (await call(base, "GET", "/sage50/api/files/Products", { key })).body;
    expect(products.scope).toBe("Products");
    expect(products.fileId).toBe("SAGE50-GB-001-Products-1");
    expect(products.generatedAt).toBe("2026-01-05T09:00:00.000Z");
    expect((products.records as Json[]).map((p) => p.reference)).toEqual(["M365-BASIC-M", "M365-STD-M", "AZURE-PLAN", "TEAMS-ESS", "DEFENDER-EP", "CANCEL-FEE"]);
    expect(products.records[0]).toEqual({ id: "101", reference: "M365-BASIC-M", name: "Microsoft 365 Business Basic (monthly)", shortDescription: "Web and mobile Office apps, Exchange mailbox", netPrice: 5.1, tax: 20, discount: 0, discountByUnit: false });
    const customers = (await call(base, "GET", "/sage50/api/files/Customers", { key })).body;
    expect((customers.records as Json[]).map((c) => [c.id, c.companyName, c.email])).toEqual([
      ["CONTO001", "Contoso Ltd", "billing@contoso.example"],
      ["FABRI001", "Fabrikam Ireland Ltd", "accounts@fabrikam.example"],
      ["NORTH001", "Northwind Traders Ltd", "finance@northwind-traders.example"],
      ["TAILS001", "Tailspin Toys Ltd", "ap@tailspintoys.example"],
    ]);
    expect(customers.records[1]).toEqual({
      id: "FABRI001",
      idNumber: "IE9876543WH",
      firstName: "Fiona",
      lastName: "Byrne",
      companyName: "Fabrikam Ireland Ltd",
      email: "accounts@fabrikam.example",
      currency: "EUR",
      tax: 20,
      surcharge: false,
      type: "company",
      timestamp: "2026-01-05T09:00:00Z",
      addresses: [{ id: "FABRI001-1", address1: "12 Grand Canal Quay", city: "Dublin", country: "IE", postCode: "D02 X576", telephone1: "+353 1 555 0100", timestamp: "2026-01-05T09:00:00Z" }],
    });
    expect(await call(base, "GET", "/sage50/api/files/Invoices", { key })).toMatchObject({ status: 404, body: { error: "unknown_scope" } });

    // the Spanish company: EUR prices, IVA 21
    const esKey = await connect(base, dev, receiver, ES);
    const es = (await call(base, "GET", "/sage50/api/files/Products", { key: esKey })).body;
    expect(es.fileId).toBe("SAGE50-ES-001-Products-1");
    expect((es.records as Json[]).map((p) => [p.reference, p.netPrice, p.tax])).toEqual([
      ["M365-BASIC-M", 5.9, 21],
      ["M365-STD-M", 11.7, 21],
      ["AZURE-PLAN", 1, 21],
      ["TEAMS-ESS", 3.7, 21],
      ["DEFENDER-EP", 3, 21],
      ["CANCEL-FEE", 29, 21],
    ]);
  });

  it("a control change makes a new file version and sends a signed notification", async () => {
    const base = await sandbox();
    const { dev, app: receiver, key } = await app(base);
    const changed = await call(base, "POST", `/control/sage50/companies/${GB}/files/Customers`, { body: { remove: ["NORTH001"] } });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ scope: "Customers", fileId: "SAGE50-GB-001-Customers-2", records: 3 });
    const file = (await call(base, "GET", "/sage50/api/files/Customers", { key })).body;
    expect(file.fileId).toBe("SAGE50-GB-001-Customers-2");
    expect((file.records as Json[]).map((c) => c.id)).toEqual(["CONTO001", "FABRI001", "TAILS001"]);
    const list = (await call(base, "GET", "/sage50/api/files", { key })).body;
    expect((list.files as Json[]).map((f) => f.fileId)).toEqual(["SAGE50-GB-001-Products-1", "SAGE50-GB-001-Customers-2"]);

    const note = await receiver.nth(2); // 1 = the approval call
    expect(note.path).toBe("/notify");
    expect(verified(note, dev.secret)).toEqual({ type: "file.updated", scope: "Customers", fileId: "SAGE50-GB-001-Customers-2", updatedAt: changed.body.updatedAt, companyId: GB });

    // replace-all, then an app that is down: the change still works and the sandbox keeps answering
    receiver.status = 503;
    const replaced = await call(base, "POST", `/control/sage50/companies/${GB}/files/Products`, { body: { records: [{ id: "900", reference: "NEW-1", name: "New", netPrice: 1, tax: 20, discountByUnit: false }] } });
    expect(replaced.body).toMatchObject({ fileId: "SAGE50-GB-001-Products-2", records: 1 });
    await receiver.nth(4, 5000); // the first attempt and one retry
    expect((await call(base, "GET", "/sage50/api/files/Products", { key })).body.records).toHaveLength(1);
  });
});

describe("uploads", () => {
  it("202, then received → validating → processing → accepted, and a result numbering the documents", async () => {
    const base = await sandbox();
    const { key } = await app(base);
    const created = await upload(base, key, "batch-001", [order("ORD-1"), order("ORD-2", { customer: { id: "TAILS001" } }), order("RF-1", { type: "creditNote" })]);
    expect(created).toEqual({ status: 202, body: { uploadId: "batch-001", trackingUrl: `${base}/sage50/api/uploads/batch-001` } });
    expect(await track(base, key, "batch-001")).toEqual({ uploadId: "batch-001", status: "received", progress: 0, statusMessage: "File received" });
    await advanceClock(base, STEP_S);
    expect(await track(base, key, "batch-001")).toEqual({ uploadId: "batch-001", status: "validating", progress: 33, statusMessage: "Validating the file" });
    await advanceClock(base, STEP_S);
    expect(await track(base, key, "batch-001")).toEqual({ uploadId: "batch-001", status: "processing", progress: 67, statusMessage: "Processing 3 records" });
    expect((await call(base, "GET", "/sage50/api/uploads/batch-001/result", { key })).status).toBe(404);
    await advanceClock(base, STEP_S);
    const done = await track(base, key, "batch-001");
    expect(done).toEqual({ uploadId: "batch-001", status: "accepted", progress: 100, statusMessage: "3 of 3 records accepted", downloadResultUrl: `${base}/sage50/api/uploads/batch-001/result` });
    const result = await call(base, "GET", new URL(done.downloadResultUrl as string).pathname, { key });
    expect(result).toEqual({
      status: 200,
      body: {
        uploadId: "batch-001",
        records: [
          { id: "ORD-1", status: "accepted", documentType: "invoice", documentNumber: "SI-1001" },
          { id: "ORD-2", status: "accepted", documentType: "invoice", documentNumber: "SI-1002" },
          { id: "RF-1", status: "accepted", documentType: "creditNote", documentNumber: "SCN-1001" },
        ],
      },
    });
    // unknown customer or product → that record fails; an order accepted before → "already exists"
    await upload(base, key, "batch-002", [order("ORD-3"), order("ORD-4", { customer: { id: "NOBODY" } }), order("ORD-5", { lines: [{ productId: "999", description: "x", quantity: 1, netPrice: 1, tax: 20 }] }), order("ORD-1")]);
    await advanceClock(base, 3 * STEP_S);
    expect(await track(base, key, "batch-002")).toMatchObject({ status: "failed", progress: 100, statusMessage: "3 of 4 records failed" });
    expect((await call(base, "GET", "/sage50/api/uploads/batch-002/result", { key })).body.records).toEqual([
      { id: "ORD-3", status: "accepted", documentType: "invoice", documentNumber: "SI-1003" },
      { id: "ORD-4", status: "failed", documentType: "invoice", message: "Unknown customer NOBODY" },
      { id: "ORD-5", status: "failed", documentType: "invoice", message: "Unknown product 999 on line 1" },
      { id: "ORD-1", status: "failed", documentType: "invoice", message: "Order ORD-1 already exists" },
    ]);
    expect(await call(base, "GET", "/sage50/api/uploads/nope", { key })).toEqual({ status: 404, body: { error: "unknown_upload" } });
    const state = await companyState(base);
    expect(state.documents).toEqual([
      { orderId: "ORD-1", type: "invoice", documentNumber: "SI-1001", uploadId: "batch-001" },
      { orderId: "ORD-2", type: "invoice", documentNumber: "SI-1002", uploadId: "batch-001" },
      { orderId: "RF-1", type: "creditNote", documentNumber: "SCN-1001", uploadId: "batch-001" },
      { orderId: "ORD-3", type: "invoice", documentNumber: "SI-1003", uploadId: "batch-002" },
    ]);
    expect(state.uploads.map((u: Json) => [u.uploadId, u.status, u.records])).toEqual([["batch-001", "accepted", 3], ["batch-002", "failed", 4]]);
    expect((await requestLog(base)).filter((e) => e.route === "sage50.uploads.create").map((e) => e.status)).toEqual([202, 202]);
  });

  it("the same uploadId again → 409 with the trackingUrl, and still one document", async () => {
    const base = await sandbox();
    const { key } = await app(base);
    expect((await upload(base, key, "dup-1", [order("ORD-7")])).status).toBe(202);
    const again = await upload(base, key, "dup-1", [order("ORD-7")]);
    expect(again).toEqual({ status: 409, body: { error: "duplicate_upload", trackingUrl: `${base}/sage50/api/uploads/dup-1` } });
    await advanceClock(base, 3 * STEP_S);
    expect((await track(base, key, "dup-1")).status).toBe("accepted");
    expect(await upload(base, key, "dup-1", [order("ORD-7")])).toMatchObject({ status: 409 });
    const state = await companyState(base);
    expect(state.documents).toEqual([{ orderId: "ORD-7", type: "invoice", documentNumber: "SI-1001", uploadId: "dup-1" }]);
    expect(state.uploads).toHaveLength(1);
    expect(await upload(base, key, "bad id!", [order("ORD-8")])).toMatchObject({ status: 400, body: { error: "invalid_upload_id" } });
  });

  it("partial_failure fails exactly those records with the message", async () => {
    const base = await sandbox();
    const { key } = await app(base);
    await call(base, "POST", "/control/sage50/faults", { body: { kind: "partial_failure", recordIds: ["ORD-2"], message: "Stock level too low" } });
    await upload(base, key, "pf-1", [order("ORD-1"), order("ORD-2"), order("ORD-3")]);
    await advanceClock(base, 3 * STEP_S);
    expect(await track(base, key, "pf-1")).toEqual({ uploadId: "pf-1", status: "failed", progress: 100, statusMessage: "1 of 3 records failed", downloadResultUrl: `${base}/sage50/api/uploads/pf-1/result` });
    expect((await call(base, "GET", "/sage50/api/uploads/pf-1/result", { key })).body.records).toEqual([
      { id: "ORD-1", status: "accepted", documentType: "invoice", documentNumber: "SI-1001" },
      { id: "ORD-2", status: "failed", documentType: "invoice", message: "Stock level too low" },
      { id: "ORD-3", status: "accepted", documentType: "invoice", documentNumber: "SI-1002" },
    ]);
    expect((await companyState(base)).documents.map((d: Json) => d.orderId)).toEqual(["ORD-1", "ORD-3"]);
    // cleared: the record goes through on the next upload
    await call(base, "DELETE", "/control/sage50/faults");
    await upload(base, key, "pf-2", [order("ORD-2")]);
    await advanceClock(base, 3 * STEP_S);
    expect((await track(base, key, "pf-2")).status).toBe("accepted");
  });

  it("bad_request fault or a malformed file → badRequest, no result, no documents", async () => {
    const base = await sandbox();
    const { key } = await app(base);
    await call(base, "POST", "/control/sage50/faults", { body: { kind: "bad_request", uploads: 1 } });
    await upload(base, key, "br-1", [order("ORD-1")]);
    await upload(base, key, "br-2", [order("ORD-2"), { ...order("ORD-3"), lines: undefined }]);
    await upload(base, key, "br-3", []);
    await upload(base, key, "br-4", [order("ORD-4")], "Invoices");
    await upload(base, key, "br-5", [order("ORD-5", { customer: {} })]);
    await upload(base, key, "br-6", [{ ...order("ORD-6"), id: undefined }]);
    await advanceClock(base, 3 * STEP_S);
    const expected: Array<[string, string]> = [
      ["br-1", "Injected fault: bad_request"],
      ["br-2", "Record ORD-3 has no lines"],
      ["br-3", "The file has no records"],
      ["br-4", 'Unknown scope "Invoices"; expected "Orders"'],
      ["br-5", "Record ORD-5 has no customer.id"],
      ["br-6", "Record 1 has no id"],
    ];
    for (const [id, message] of expected) {
      expect(await track(base, key, id)).toEqual({ uploadId: id, status: "badRequest", progress: 100, statusMessage: message });
      expect(await call(base, "GET", `/sage50/api/uploads/${id}/result`, { key })).toMatchObject({ status: 404, body: { error: "no_result" } });
    }
    expect((await companyState(base)).documents).toEqual([]);
  });

  it("tracking_stuck stays in processing until release-stuck", async () => {
    const base = await sandbox();
    const { key } = await app(base);
    await call(base, "POST", "/control/sage50/faults", { body: { kind: "tracking_stuck", uploads: 1 } });
    await upload(base, key, "stuck-1", [order("ORD-1")]);
    await upload(base, key, "free-1", [order("ORD-2")]);
    await advanceClock(base, 10 * STEP_S);
    expect(await track(base, key, "stuck-1")).toEqual({ uploadId: "stuck-1", status: "processing", progress: 67, statusMessage: "Processing 1 records" });
    expect((await track(base, key, "free-1")).status).toBe("accepted");
    expect(await call(base, "POST", "/control/sage50/release-stuck")).toEqual({ status: 200, body: { released: 1 } });
    expect((await track(base, key, "stuck-1")).status).toBe("processing");
    await advanceClock(base, STEP_S);
    expect(await track(base, key, "stuck-1")).toMatchObject({ status: "accepted", progress: 100 });
    expect((await call(base, "GET", "/sage50/api/uploads/stuck-1/result", { key })).body.records).toEqual([{ id: "ORD-1", status: "accepted", documentType: "invoice", documentNumber: "SI-1002" }]);
  });

  it("drop_after_store: the client sees a dropped connection, the upload is stored", async () => {
    const base = await sandbox();
    const { key } = await app(base);
    await call(base, "POST", "/control/sage50/faults", { body: { kind: "drop_after_store", uploads: 1 } });
    await expect(upload(base, key, "drop-1", [order("ORD-1")])).rejects.toThrow();
    expect(await track(base, key, "drop-1")).toMatchObject({ uploadId: "drop-1", status: "received" });
    expect(await upload(base, key, "drop-1", [order("ORD-1")])).toEqual({ status: 409, body: { error: "duplicate_upload", trackingUrl: `${base}/sage50/api/uploads/drop-1` } });
    const logged = (await requestLog(base)).filter((e) => e.route === "sage50.uploads.create");
    expect(logged.map((e) => [e.status, e.outcome])).toEqual([[202, "commit-then-drop"], [409, "ok"]]);
    expect((await call(base, "GET", "/control/sage50/faults")).body).toEqual([]);
  });
});

describe("config and persistence", () => {
  it("POST /control/sage50/config changes the TTLs and the tracking step; bad values are refused", async () => {
    const base = await sandbox();
    expect((await call(base, "GET", "/control/sage50/config")).body).toEqual({ passcodeTtlS: 600, apiKeyTtlS: 86_400, trackingStepMs: STEP_S * 1000, signCalls: true });
    const set = await call(base, "POST", "/control/sage50/config", { body: { passcodeTtlS: 30, apiKeyTtlS: 60, trackingStepMs: 0, signCalls: false } });
    expect(set).toEqual({ status: 200, body: { passcodeTtlS: 30, apiKeyTtlS: 60, trackingStepMs: 0, signCalls: false } });
    expect((await call(base, "POST", "/control/sage50/config", { body: { passcodeTtlS: 0 } })).status).toBe(400);
    expect((await call(base, "POST", "/control/sage50/config", { body: { other: 1 } })).status).toBe(400);
    const { dev, app: receiver, key } = await app(base);
    expect(receiver.calls[0]?.headers["webhook-signature"]).toBeUndefined();
    const passcode = await call(base, "POST", `${appPath(dev)}/passcodes`, { body: { secret: dev.secret } });
    const clock = (await (await fetch(`${base}/__sandbox/clock`)).json()) as { now: string };
    expect(Math.round((Date.parse(passcode.body.expires as string) - Date.parse(clock.now)) / 1000)).toBe(30);
    await upload(base, key, "now-1", [order("ORD-1")]);
    expect((await track(base, key, "now-1")).status).toBe("accepted");
    await advanceClock(base, 61);
    expect((await call(base, "GET", "/sage50/api/files", { key })).body).toEqual({ error: "api_key_expired" });
  });

  it("the state survives a restart on the same data dir, and tracking continues", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sage50-state-"));
    try {
      const first = await sandbox(dir);
      const { dev, key } = await app(first);
      await call(first, "POST", `/control/sage50/companies/${GB}/files/Customers`, { body: { remove: ["TAILS001"] } });
      await upload(first, key, "keep-1", [order("ORD-1")]);
      await advanceClock(first, STEP_S);
      expect((await track(first, key, "keep-1")).status).toBe("validating");
      await (running.pop() as RunningSandbox).close();

      const second = await sandbox(dir);
      expect((await track(second, key, "keep-1")).status).toBe("validating");
      await advanceClock(second, 2 * STEP_S);
      expect(await track(second, key, "keep-1")).toMatchObject({ status: "accepted", progress: 100 });
      expect((await call(second, "GET", "/sage50/api/files/Customers", { key })).body.fileId).toBe("SAGE50-GB-001-Customers-2");
      const mail = (await call(second, "GET", "/control/sage50/mailbox?email=dev@acme.example")).body as Json[];
      expect(mail.map((m) => m.developerId)).toEqual([dev.developerId]);
      const rotated = await call(second, "PATCH", "/sage50/api/apikeys", { body: { initialApikey: key, secret: dev.secret } });
      expect(rotated.status).toBe(200);
      await (running.pop() as RunningSandbox).close();

      const third = await sandbox(dir);
      const state = await companyState(third);
      expect(state.rotations).toBe(1);
      expect(state.documents).toEqual([{ orderId: "ORD-1", type: "invoice", documentNumber: "SI-1001", uploadId: "keep-1" }]);
      expect((await call(third, "GET", "/sage50/api/files", { key: rotated.body.apikey as string })).status).toBe(200);
      expect((await call(third, "GET", "/sage50/api/files", { key })).body).toEqual({ error: "invalid_api_key" });
    } finally {
      for (const sb of running.splice(0)) await sb.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
