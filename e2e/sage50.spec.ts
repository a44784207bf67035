import { expect, test, type Page } from "@playwright/test";
import { APP, SANDBOX, launchTopLevel, placeSubscriptionFor, taskRow } from "./helpers";

/**
 * Sage 50 Cloud (file exchange), tried as a new user would in Chromium:
 *   1. the operator (support) registers the deployment once on /support/file-exchange, solving the
 *      platform's registration page and copying its ids and secret;
 *   2. a fresh reseller installs, chooses Sage 50 Cloud (its capability table), gets a passcode whose
 *      expiry counts down, and a different one with "New passcode";
 *   3. the sandbox's Sage 50 desktop page takes the passcode and grants access; the app's passcode
 *      page goes on by itself to Settings, then the dashboard shows the company;
 *   4. Mapping: products and customers from the downloaded Sage 50 files, mapped by clicking;
 *      "Add to Sage" is refused clearly (Sage 50 cannot create items through the connector);
 *   5. orders placed on the marketplace are synced with Sync all as an order file: the upload's
 *      status and progress on the Tasks page, every task Synced with its SI- number;
 *   6–7. the Action Log tells each step, the expired API key rotated included;
 *   and the sandbox's own state agrees.
 */

const ACCOUNT = "RES-5001";
const COMPANY = "Sage 50 Demo Company Ltd";
const COMPANY_ID = "SAGE50-GB-001";
const SUPPORT = { email: "support@sage-connector.test", password: "support-demo" };

test.describe.configure({ mode: "serial" });
test.use({ locale: "en-GB" });

type Sage50State = {
  developers: unknown[];
  applications: { applicationId: string; approvalUrl?: string | null; notificationUrl?: string | null }[];
  companies: {
    companyId: string;
    rotations: number;
    keys: { applicationId: string; expired: boolean }[];
    uploads: { uploadId: string; status: string; records: number }[];
    documents: { orderId: string; type: string; documentNumber: string; uploadId: string }[];
  }[];
};

async function sage50State(): Promise<Sage50State> {
  const res = await fetch(`${SANDBOX}/control/sage50/state`);
  expect(res.status).toBe(200);
  return (await res.json()) as Sage50State;
}
const company = async () => (await sage50State()).companies.find((c) => c.companyId === COMPANY_ID)!;

const productRow = (page: Page, name: string) => page.getByTestId("product-row").filter({ hasText: name });
const customerRow = (page: Page, name: string) => page.getByTestId("customer-row").filter({ hasText: name });

async function pickInDialog(page: Page, search: string, option: RegExp) {
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  await dialog.getByRole("combobox").fill(search);
  await dialog.getByRole("option", { name: option }).click();
}

test("the operator registers the deployment as a Sage 50 Cloud application", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${APP}/login?callbackUrl=/support/file-exchange`);
  await page.getByLabel("E-mail").fill(SUPPORT.email);
  await page.getByLabel("Password").fill(SUPPORT.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Sage 50 Cloud set-up" })).toBeVisible();
  await expect(page.getByTestId("registration-status")).toHaveText("Not registered.");

  await test.step("1. register as a developer: the platform's registration page", async () => {
    await page.getByLabel("Developer name").fill("Sage Connector e2e");
    await page.getByLabel("E-mail for the registration ids").fill("operator@sage-connector.test");
    await page.getByRole("button", { name: "Start registration" }).click();
    await expect(page.getByText("Registration started: open the registration page")).toBeVisible();
    const link = page.getByTestId("registration-link");
    await expect(link).toHaveAttribute("href", new RegExp(`/sage50/register/`));
  });

  let ids = { developerId: "", applicationId: "", secret: "" };
  await test.step("the registration page: captcha, then the ids and the secret", async () => {
    const [registration] = await Promise.all([context.waitForEvent("page"), page.getByTestId("registration-link").click()]);
    await registration.waitForLoadState();
    await registration.getByLabel("I am not a robot").check();
    await registration.getByRole("button", { name: "Complete registration" }).click();
    await expect(registration.getByText("Registration complete")).toBeVisible();
    const text = (await registration.locator("body").innerText()).replace(/\s+/g, " ");
    const grab = (label: string) => text.match(new RegExp(`${label}:?\\s*([A-Za-z0-9_-]{8,})`))?.[1] ?? "";
    ids = { developerId: grab("Developer id"), applicationId: grab("Application id"), secret: grab("Application secret") };
    expect(ids.developerId, text).not.toBe("");
    expect(ids.applicationId, text).not.toBe("");
    expect(ids.secret, text).not.toBe("");
    await registration.close();
  });

  await test.step("2. the ids from the e-mail: saved, the platform knows our URLs", async () => {
    await page.getByLabel("Developer id").fill(ids.developerId);
    await page.getByLabel("Application id").fill(ids.applicationId);
    await page.getByLabel("Application secret").fill(ids.secret);
    await page.getByRole("button", { name: "Save the registration" }).click();
    await expect(page.getByText("Sage 50 Cloud is set up: resellers can now connect with a passcode.")).toBeVisible();
    await expect(page.getByTestId("registration-status")).toContainText(`Registered: application ${ids.applicationId}`);
    const app = (await sage50State()).applications.find((a) => a.applicationId === ids.applicationId)!;
    expect(app.approvalUrl).toBe(`${APP}/api/file-exchange/sage-50-cloud/approval`);
    expect(app.notificationUrl).toBe(`${APP}/api/file-exchange/sage-50-cloud/notifications`);
  });
  await context.close(); // signed out: the session ends with its browser context
});

test("a reseller connects Sage 50 Cloud with a passcode, maps, syncs an order file, and the Action Log tells it", async ({ page, context }) => {
  test.setTimeout(240_000);
  await launchTopLevel(page, ACCOUNT);

  await test.step("install, choose Sage 50 Cloud: its capability table", async () => {
    await expect(page.getByRole("heading", { name: "Install Sage Integration" })).toBeVisible();
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page.getByRole("heading", { name: "Connect your Sage account" })).toBeVisible();
    await page.getByRole("radio", { name: "Sage 50 Cloud" }).check();
    const table = page.getByTestId("capability-table");
    await expect(table).toBeVisible();
    await expect(table).toContainText("Sage 50 Cloud");
    await expect(table).toContainText("by files exchanged with Sage");
    // reads customers and products, creates invoices and credit notes, nothing else
    await expect(table.locator("tr", { hasText: "Customer contacts" })).toHaveText(/Customer contacts✓——/);
    await expect(table.locator("tr", { hasText: "Products and services" })).toHaveText(/Products and services✓——/);
    await expect(table.locator("tr", { hasText: "Sales invoices" })).toHaveText(/Sales invoices—✓—/);
    await page.getByLabel("Country of your Sage business").selectOption({ label: "United Kingdom" });
    await page.getByRole("button", { name: "Get a passcode" }).click();
  });

  let passcode = "";
  await test.step("the passcode, its expiry counting down, and New passcode", async () => {
    await expect(page).toHaveURL(/\/connect\/passcode\?product=sage-50-cloud/);
    const code = page.getByTestId("passcode");
    await expect(code).toHaveText(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    const first = (await code.textContent())!.trim();
    const expiry = page.getByTestId("passcode-expiry");
    await expect(expiry).toHaveText(/^Expires in \d+:\d\d$/);
    const before = (await expiry.textContent())!;
    await expect(expiry).not.toHaveText(before, { timeout: 5_000 });
    await expect(expiry).toHaveText(/^Expires in \d+:\d\d$/);
    await page.getByRole("button", { name: "New passcode" }).click();
    await expect(code).not.toHaveText(first);
    await expect(code).toHaveText(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    passcode = (await code.textContent())!.trim();
  });

  await test.step("Sage 50 desktop: the passcode, e-Commerce, Grant access → Settings by itself", async () => {
    const desktop = await context.newPage();
    await desktop.goto(`${SANDBOX}/sage50/desktop`);
    await desktop.getByLabel(/Company/i).selectOption({ label: COMPANY });
    await desktop.getByLabel("Passcode").fill(passcode);
    await desktop.getByRole("button", { name: "Continue" }).click();
    await expect(desktop.getByText("e-Commerce").first()).toBeVisible();
    await expect(desktop.locator("body")).toContainText("Sage Connector e2e"); // the application, named after its developer
    await desktop.getByRole("button", { name: "Grant access" }).click();
    await expect(desktop.getByText("Access granted")).toBeVisible();
    await desktop.close();
    await expect(page).toHaveURL(/\/settings\?setup=1/, { timeout: 20_000 });
    await expect(page.getByRole("dialog", { name: "Settings" })).toBeVisible();
    await page.getByRole("button", { name: "Save and open dashboard" }).click();
    await expect(page.getByTestId("connection-business")).toContainText(COMPANY);
  });

  await test.step("Mapping: products and customers from the Sage 50 files, mapped by clicking", async () => {
    await page.getByRole("link", { name: "Mapping", exact: true }).click();
    await expect(page).toHaveURL(/\/mapping\/products/);
    await expect(page.getByTestId("sage-refreshed")).toHaveText(/6 items, 4 contacts/, { timeout: 30_000 });
    // Sage 50 Cloud cannot create items: Add to Sage refuses, saying what to do instead
    const standard = productRow(page, "Microsoft 365 Business Standard (monthly)");
    await standard.getByRole("button", { name: "Add to Sage" }).click();
    await expect(page.getByTestId("request-outcomes")).toContainText("Sage 50 Cloud cannot create products or services through the connector: create it in Sage 50 Cloud, wait for its next data file (or click Refresh from Sage), then map it.", { timeout: 30_000 });
    await expect(standard.getByTestId("product-mapping")).toHaveText("Not mapped");
    // map the two products the orders use
    await productRow(page, "Microsoft 365 Business Basic (monthly)").getByRole("button", { name: "Map…" }).click();
    await pickInDialog(page, "M365-BASIC", /M365-BASIC-M/);
    await expect(productRow(page, "Microsoft 365 Business Basic (monthly)").getByTestId("product-mapping")).toContainText("M365-BASIC-M");
    await standard.getByRole("button", { name: "Map…" }).click();
    await pickInDialog(page, "M365-STD", /M365-STD-M/);
    await expect(standard.getByTestId("product-mapping")).toContainText("M365-STD-M");

    await page.goto(`${APP}/mapping/customers`);
    for (const [name, search] of [["Contoso Ltd", "contoso"], ["Northwind Traders Ltd", "northwind"]] as const) {
      await customerRow(page, name).getByRole("button", { name: "Map…" }).click();
      await pickInDialog(page, search, new RegExp(name));
      await expect(customerRow(page, name).getByTestId("customer-mapping")).toHaveText(name);
    }
  });

  await test.step("an item deleted in Sage 50 (missing from its next Products file) is flagged, not offered again", async () => {
    await page.goto(`${APP}/mapping/products`);
    const premium = productRow(page, "Microsoft 365 Business Premium (monthly)");
    await premium.getByRole("button", { name: "Map…" }).click();
    await pickInDialog(page, "DEFENDER", /DEFENDER-EP/);
    await expect(premium.getByTestId("product-mapping")).toContainText("DEFENDER-EP");
    // someone deletes item 105 in Sage 50: a new Products file, the platform notifies the app, it downloads it
    const removed = await fetch(`${SANDBOX}/control/sage50/companies/${COMPANY_ID}/files/Products`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ remove: ["105"] }) });
    expect(removed.status).toBe(200);
    await expect(async () => {
      await page.reload();
      await expect(premium.getByTestId("deleted-in-sage")).toHaveText("— Deleted in Sage 50", { timeout: 2_000 });
    }).toPass({ timeout: 30_000 });
    await expect(page.getByTestId("sage-refreshed")).toHaveText(/5 items, 4 contacts/);
    // and it is not offered for a new mapping
    await productRow(page, "Microsoft 365 Business Standard (yearly)").getByRole("button", { name: "Map…" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("combobox").fill("DEFENDER");
    await expect(dialog.getByText("No Sage item matches.", { exact: false })).toBeVisible();
    await expect(dialog.getByRole("option")).toHaveCount(0);
    await page.keyboard.press("Escape");
  });

  const orders: string[] = [];
  await test.step("orders from the marketplace arrive as tasks", async () => {
    orders.push((await placeSubscriptionFor(page, ACCOUNT, "Contoso Ltd", "M365-BASIC-M", 5)).requestId);
    orders.push((await placeSubscriptionFor(page, ACCOUNT, "Northwind Traders Ltd", "M365-STANDARD-M", 3)).requestId);
    orders.push((await placeSubscriptionFor(page, ACCOUNT, "Contoso Ltd", "M365-STANDARD-M", 2)).requestId);
    await page.goto(`${APP}/tasks`);
    await expect(async () => {
      await page.reload();
      for (const id of orders) await expect(taskRow(page, id)).toBeVisible({ timeout: 2_000 });
    }).toPass({ timeout: 30_000 });
    for (const id of orders) await expect(taskRow(page, id).getByTestId("task-state")).toHaveText("Pending");
  });

  await test.step("Sync all: one order file, its status and progress, every task Synced with its SI- number", async () => {
    // the key expires before the next data call: the connector rotates it and says so
    const fault = await fetch(`${SANDBOX}/control/sage50/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ kind: "expire_key_after", calls: 0 }) });
    expect(fault.status).toBe(201);
    // Sage 50 takes its time per tracking stage (1.5 s here), so the stages can be watched
    const config = await fetch(`${SANDBOX}/control/sage50/config`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ trackingStepMs: 1_500 }) });
    expect(config.status).toBe(200);
    await page.getByRole("button", { name: "Sync all" }).click();
    const uploads = page.getByTestId("file-uploads");
    await expect(uploads).toBeVisible({ timeout: 30_000 });
    const upload = uploads.getByTestId("file-upload-row");
    await expect(upload).toHaveCount(1, { timeout: 30_000 });
    await expect(upload.getByTestId("file-upload-id")).toHaveText(/^up[0-9a-f]+$/);
    await expect(upload.getByTestId("file-upload-orders")).toHaveText("3");
    // the stages as the flow tracks them (polled), then done with Sage 50's own message
    const seen = new Set<string>();
    await expect
      .poll(async () => {
        seen.add(((await upload.getByTestId("file-upload-status").textContent()) ?? "").trim());
        return [...seen];
      }, { timeout: 60_000, intervals: [100] })
      .toContain("Done");
    expect([...seen].filter((s) => s !== "Done").length, `statuses seen: ${[...seen].join(", ")}`).toBeGreaterThan(0);
    await expect(upload.getByTestId("file-upload-progress")).toHaveText("100%");
    await expect(upload.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "100");
    await expect(upload.getByTestId("file-upload-message")).toHaveText("Accepted: 3 of 3 orders synced (Sage 50 Cloud: 3 of 3 records accepted)");
    for (const id of orders) {
      await expect(taskRow(page, id).getByTestId("task-state")).toHaveText("Synced", { timeout: 30_000 });
      await expect(taskRow(page, id).getByTestId("sage-document-link")).toHaveText(/^Invoice SI-\d{4}$/);
    }
  });

  await test.step("the Action Log tells every step", async () => {
    await page.goto(`${APP}/action-log`);
    const log = page.getByTestId("action-log-row");
    for (const text of [/passcode issued/, /Deleted in Sage 50 \(missing from the latest Products file\): .*Mapped and now pointing at nothing in Sage/, /Sage 50 Cloud connected: access granted for Sage 50 Demo Company Ltd/, /Downloaded the Sage 50 Products file: 6 /, /Downloaded the Sage 50 Customers file: 4 /, /order file .* prepared/, /Order file .* uploaded to Sage 50/, /Order file .* accepted/, /API key rotated/]) {
      await expect(log.filter({ hasText: text }).first()).toBeVisible();
    }
  });

  await test.step("the sandbox agrees: one upload accepted, three invoices, the key rotated once", async () => {
    const c = await company();
    expect(c.rotations).toBe(1);
    expect(c.uploads).toHaveLength(1);
    expect(c.uploads[0]).toMatchObject({ status: "accepted", records: 3 });
    expect(c.documents.map((d) => d.orderId).sort()).toEqual([...orders].sort());
    expect(c.documents.every((d) => d.type === "invoice" && /^SI-1\d{3}$/.test(d.documentNumber))).toBe(true);
  });
});
