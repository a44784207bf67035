import { expect, test, type Page } from "@playwright/test";
import { APP, PORTAL, SANDBOX, answerConsent, installConnectWithDefaults, launchTopLevel, openDocument, placeSubscriptionFor, progressDone, taskRow } from "./helpers";

/**
 * Issue #11, tried as a new user would in Chromium: what lands in Sage passes an accountant's
 * review — a GB customer, an Irish business customer with a VAT number billed in EUR, a US
 * customer and a customer under the reseller's own VAT rule are each invoiced with the right tax
 * rate, amount and currency, read back from the sandbox's "what is in Sage" page; the rule table is
 * edited in Settings (a wrong rule refused, nothing saved); then Reconnect, and Uninstall from the
 * marketplace store (tokens deleted, data kept, installing again carries on).
 */

const ACCOUNT = "RES-9501";
const BUSINESS = "Morgan Digital Ltd";
const BASIC = "M365-BASIC-M";
const SAGE_USER = "Alex Morgan (1 business)";

test.describe.configure({ mode: "serial" });

/** Connect page (UK business) → Connect to Sage → Allow as the account's Sage user → the dashboard says Connected. */
async function connectSageAgain(page: Page) {
  await expect(page.getByRole("heading", { name: "Connect your Sage account" })).toBeVisible();
  await page.getByLabel("Country of your Sage business").selectOption({ label: "United Kingdom" });
  await page.getByRole("button", { name: "Connect to Sage" }).click();
  await answerConsent(page, SAGE_USER, "Allow");
  await expect(page.getByTestId("connection-status")).toHaveText("Connected");
}

async function sandboxConfig(config: Record<string, unknown>) {
  const res = await fetch(`${SANDBOX}/__sandbox/config`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(config) });
  expect(res.status).toBe(200);
}

/** Orders page → New customer, with a billing country (and a VAT number). */
async function newCustomer(page: Page, c: { name: string; email: string; country: string; currency?: "GBP" | "EUR"; vat?: string }) {
  await page.goto(`${PORTAL}/marketplace/orders?account=${ACCOUNT}`);
  await page.getByLabel("Company name").fill(c.name);
  await page.getByLabel("Billing e-mail").fill(c.email);
  await page.getByLabel("Currency").selectOption(c.currency ?? "GBP");
  await page.getByLabel("Billing country").selectOption(c.country);
  await page.getByLabel("Street").fill("1 Main Street");
  await page.getByLabel("City").fill("Springfield");
  await page.getByLabel("Postcode").fill("12345");
  if (c.vat) await page.getByLabel("VAT number (optional)").fill(c.vat);
  await page.getByRole("button", { name: "Add customer" }).click();
  await expect(page.getByRole("alert")).toHaveCount(0);
}

test("invoices an accountant accepts: tax rate, amount and currency by customer; the VAT rule table edited in Settings", async ({ page }) => {
  test.setTimeout(240_000);
  await installConnectWithDefaults(page, ACCOUNT, SAGE_USER, BUSINESS);

  await test.step("products auto-matched to Sage items", async () => {
    await page.goto(`${APP}/mapping/products`);
    // the catalog arrives from the marketplace after the install
    await expect(page.getByTestId("product-total")).toHaveText("9 products", { timeout: 30_000 });
    await page.getByRole("button", { name: "Auto-match", exact: true }).click();
    await expect(page.getByTestId("mapping-notice")).toContainText("Auto-match: 4 of 9 unmapped products mapped");
  });

  await test.step("Settings › VAT by customer: a rule in the wrong region is refused and nothing is saved; a Canadian rule is saved", async () => {
    await page.goto(`${APP}/settings`);
    await expect(page.getByTestId("tax-rules-source")).toHaveText("The defaults for a business in GB.");
    await page.getByRole("button", { name: "Edit rules" }).click();
    await page.getByRole("button", { name: "Add rule" }).click();
    const n = await page.getByTestId("tax-rule-row").count();
    await page.getByLabel(`Rule ${n} customer`).selectOption({ label: "In another EU country" });
    await page.getByLabel(`Rule ${n} country`).fill("CA");
    await page.getByLabel(`Rule ${n} Sage tax rate`).selectOption({ label: "Exempt from VAT (Exempt)" });
    await page.getByRole("button", { name: "Save rules" }).click();
    await expect(page.getByRole("alert").filter({ hasText: "The rules were not saved" })).toHaveText(`The rules were not saved: Rule ${n}: CA is not another EU country for a business in GB.`);
    await page.getByLabel(`Rule ${n} customer`).selectOption({ label: "Outside the EU" });
    await page.getByRole("button", { name: "Save rules" }).click();
    await expect(page.getByRole("status").filter({ hasText: "VAT rules saved" })).toBeVisible();
    await expect(page.getByTestId("tax-rules-source")).toHaveText("Your own rules.");
    await expect(page.getByTestId("tax-rules")).toContainText("In CAAnyAll productsExempt from VAT (Exempt)");
    // still there after a reload (saved on the server), and in the Action Log
    await page.reload();
    await expect(page.getByTestId("tax-rules")).toContainText("In CAAnyAll productsExempt from VAT (Exempt)");
    await page.goto(`${APP}/action-log`);
    await expect(page.getByText(/VAT rules changed: .*In CA, any VAT number → Exempt from VAT \(Exempt\)/)).toBeVisible();
  });

  const orders: Record<"gb" | "ie" | "us" | "ca", string> = { gb: "", ie: "", us: "", ca: "" };
  await test.step("four customers order on the marketplace", async () => {
    await newCustomer(page, { name: "Acme Widgets Inc", email: "ap@acme-widgets.example", country: "US" });
    await newCustomer(page, { name: "Maple Cloud Inc", email: "ap@maple-cloud.example", country: "CA" });
    orders.gb = (await placeSubscriptionFor(page, ACCOUNT, "Contoso Ltd", BASIC, 5)).requestId;
    orders.ie = (await placeSubscriptionFor(page, ACCOUNT, "Fabrikam Ireland Ltd", BASIC, 2)).requestId;
    orders.us = (await placeSubscriptionFor(page, ACCOUNT, "Acme Widgets Inc", BASIC, 3)).requestId;
    orders.ca = (await placeSubscriptionFor(page, ACCOUNT, "Maple Cloud Inc", BASIC, 4)).requestId;
  });

  await test.step("Sync all → four invoices, each with the tax rate, amounts and currency an accountant expects", async () => {
    await page.goto(`${APP}/tasks`);
    await expect(async () => {
      await page.reload();
      for (const id of Object.values(orders)) await expect(taskRow(page, id)).toBeVisible({ timeout: 2_000 });
    }).toPass({ timeout: 30_000 });
    await page.getByRole("button", { name: /^Sync all/ }).click();
    expect(await progressDone(page)).toBe("4 of 4 done — 4 synced");

    const expectations = [
      // GB consumer: UK standard VAT 20 % on 5 × 5.10
      { id: orders.gb, contact: "Contoso Ltd", lines: "25.50 GBP · GB_STANDARD 5.10 GBP", total: "30.60 GBP", rate: false },
      // Irish business with a VAT number, billed in EUR at Sage's rate: outside the scope of UK VAT
      { id: orders.ie, contact: "Fabrikam Ireland Ltd", lines: "11.80 EUR · GB_NO_TAX 0.00 EUR", total: "11.80 EUR", rate: true },
      // US customer: outside the scope of UK VAT
      { id: orders.us, contact: "Acme Widgets Inc", lines: "15.30 GBP · GB_NO_TAX 0.00 GBP", total: "15.30 GBP", rate: false },
      // Canada: the reseller's own rule (exempt)
      { id: orders.ca, contact: "Maple Cloud Inc", lines: "20.40 GBP · GB_EXEMPT 0.00 GBP", total: "20.40 GBP", rate: false },
    ];
    for (const e of expectations) {
      const doc = await openDocument(page, e.id, /^Invoice SI-\d+$/);
      await expect(doc.row).toContainText(e.contact);
      await expect(doc.row.getByTestId("line-tax")).toHaveText(e.lines);
      await expect(doc.row).toContainText(e.total);
      if (e.rate) await expect(doc.row).toContainText("rate 1.17");
      else await expect(doc.row).not.toContainText("rate ");
      await doc.popup.close();
    }
    // the Irish customer's VAT number is on its Sage contact
    await page.goto(`${PORTAL.replace("127.0.0.1", "localhost")}/sage/inspect`);
    const business = page.getByRole("region", { name: new RegExp(BUSINESS) });
    await business.locator("summary", { hasText: "Contacts" }).click();
    await expect(business.getByText(/Fabrikam Ireland Ltd.*VAT IE9876543WH/).first()).toBeVisible();
  });
});

test("the connection a reseller controls: Reconnect keeps everything; Uninstall deletes the tokens and keeps the data; installing again carries on", async ({ page }) => {
  test.setTimeout(180_000);
  await launchTopLevel(page, ACCOUNT);

  await test.step("Reconnect: new consent, the same business, mappings kept; a refresh token that lapses within a week is warned about and Keep connected renews it", async () => {
    // Sage issues refresh tokens that lapse in 3 days (as if the keep-alive had not run for 28 days)
    await sandboxConfig({ refreshTokenTtlSeconds: 3 * 24 * 3600 });
    try {
      await page.goto(`${APP}/dashboard`);
      await expect(page.getByTestId("refresh-lapse-warning")).toHaveCount(0);
      await page.getByRole("link", { name: "Reconnect" }).click();
      await connectSageAgain(page);
      await expect(page.getByTestId("connection-business")).toContainText(BUSINESS);
      await expect(page.getByTestId("refresh-lapse-warning")).toContainText("Sage's sign-in for this connection lapses in 2 days");
    } finally {
      await sandboxConfig({ refreshTokenTtlSeconds: 31 * 24 * 3600 });
    }
    await page.getByRole("button", { name: "Keep connected" }).click();
    await expect(page.getByTestId("refresh-lapse-warning")).toHaveCount(0, { timeout: 30_000 });
    await expect(page.getByTestId("connection-last-event")).toContainText("Connection test passed");
    await page.goto(`${APP}/mapping/products`);
    await expect(page.getByTestId("product-row").filter({ hasText: "Microsoft 365 Business Basic (monthly)" }).getByTestId("product-mapping")).toContainText("M365-BASIC");
  });

  await test.step("Uninstall in the marketplace store: the app says so, the data is kept until the purge date", async () => {
    await page.goto(`${PORTAL}/marketplace/store?account=${ACCOUNT}`);
    await page.getByRole("button", { name: "Uninstall" }).click();
    await expect(page.getByRole("status")).toContainText("Sage Integration was uninstalled");
    await expect(page.getByRole("link", { name: "Install now" })).toBeVisible();
    // the signed event reaches the app and is applied: the dashboard sends the reseller to install again
    await expect(async () => {
      await page.goto(`${APP}/dashboard`);
      await expect(page.getByTestId("uninstalled-notice")).toBeVisible({ timeout: 2_000 });
    }).toPass({ timeout: 30_000 });
    await expect(page.getByTestId("uninstalled-notice")).toContainText(/the Sage tokens were deleted\. Your mappings, tasks and history are kept until \d{1,2}\/\d{1,2}\/\d{4} — install again/);
  });

  await test.step("Install again: the mappings and history are back; Sage must be connected again", async () => {
    await page.getByRole("button", { name: "Continue" }).click();
    await connectSageAgain(page);
    await page.goto(`${APP}/action-log`);
    await expect(page.getByText("Sage Integration installed again from Demo Reseller Marketplace: mappings, tasks and history kept since the uninstall are back. Connect Sage again to resume syncing.")).toBeVisible();
    await expect(page.getByText(/Sage Integration was uninstalled in the marketplace: the Sage tokens are deleted/)).toBeVisible();
    await page.goto(`${APP}/mapping/products`);
    await expect(page.getByTestId("product-row").filter({ hasText: "Microsoft 365 Business Basic (monthly)" }).getByTestId("product-mapping")).toContainText("M365-BASIC");
  });
});
