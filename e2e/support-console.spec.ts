import fs from "node:fs";
import { expect, test, type Browser, type Page } from "@playwright/test";
import { APP, SANDBOX, installConnectWithDefaults, placeSubscriptionFor, progressDone, taskRow, signInWithPassword } from "./helpers";

/**
 * Issue #13, tried as support would: a reseller's order is synced while Sage answers one 503; signed
 * in as support, the order id finds the tenant in at most three clicks; its trace shows every Sage
 * call with the retry; "View as" opens the tenant's own pages read only (a banner everywhere), a
 * settings change is refused and logged; the tenant's Action Log is exported as CSV. The reseller
 * reads the same trace from the task row.
 */

const ACCOUNT = "RES-9601";
const SUPPORT = { email: "support@sage-connector.test", password: "support-demo" };

test.describe.configure({ mode: "serial" });

let orderId = "";

async function supportPage(browser: Browser) {
  const ctx = await browser.newContext({ acceptDownloads: true });
  const page = await ctx.newPage();
  await signInWithPassword(page, SUPPORT.email, SUPPORT.password);
  return { ctx, page };
}

test("a reseller's order synced through a Sage 503: its task row opens the trace with the retried call", async ({ page }) => {
  test.setTimeout(180_000);
  await installConnectWithDefaults(page, ACCOUNT, "Alex Morgan (1 business)", "Morgan Digital Ltd");
  await page.getByRole("link", { name: "Mapping", exact: true }).click();
  await expect(page.getByTestId("product-total")).toHaveText("9 products", { timeout: 30_000 });
  await page.getByRole("button", { name: "Auto-match", exact: true }).click();
  await expect(page.getByTestId("mapping-notice")).toContainText("Auto-match: 4 of 9 unmapped products mapped");
  await page.goto(`${APP}/mapping/customers`);
  await expect(page.getByTestId("customer-total")).toHaveText("8 customers", { timeout: 30_000 });
  await page.getByRole("button", { name: "Auto-match", exact: true }).click();
  await expect(page.getByTestId("mapping-notice")).toContainText(/Auto-match: \d+ of 8 unmapped customers mapped/);

  orderId = (await placeSubscriptionFor(page, ACCOUNT, "Contoso Ltd", "M365-BASIC-M", 5)).requestId;
  await page.goto(`${APP}/tasks`);
  await expect(async () => {
    await page.reload();
    await expect(taskRow(page, orderId)).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });

  // Sage answers the invoice once with 503 (Sage did not do the work: the call is retried)
  await fetch(`${SANDBOX}/__sandbox/faults`, { method: "DELETE" });
  const added = await fetch(`${SANDBOX}/__sandbox/faults`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ route: "sage.sales_invoices.create", kind: "status", status: 503, count: 1 }) });
  expect(added.status).toBe(201);
  await taskRow(page, orderId).getByRole("button", { name: `Sync ${orderId}` }).click();
  expect(await progressDone(page)).toBe("1 of 1 done — 1 synced");
  const faults = (await (await fetch(`${SANDBOX}/__sandbox/faults`)).json()) as { route: string; fired: number }[];
  expect(faults.find((f) => f.route === "sage.sales_invoices.create")?.fired).toBe(1); // the fault did fire
  await fetch(`${SANDBOX}/__sandbox/faults`, { method: "DELETE" });

  await taskRow(page, orderId).getByRole("link", { name: /Trace/ }).click();
  await expect(page).toHaveURL(/\/tasks\/[0-9a-f-]+\/trace$/);
  await expectTraceWithRetry(page);
});

/** The trace of the synced order: the invoice POST answered 503, then 201 on the retry, and the invoice's link. */
async function expectTraceWithRetry(page: Page) {
  await expect(page.getByRole("heading", { name: `Order ${orderId}` })).toBeVisible();
  // the invoice creations: POST …/sales_invoices (not …/sales_invoices/<id>)
  const calls = page
    .locator('[data-testid="trace-entry"][data-kind="sage_call"]')
    .filter({ has: page.getByTestId("sage-call-method").filter({ hasText: /^POST$/ }) })
    .filter({ has: page.getByTestId("sage-call-path").filter({ hasText: /^\S*\/sales_invoices$/ }) });
  await expect(calls).toHaveCount(2);
  await expect(calls.nth(0)).toContainText("503");
  await expect(calls.nth(1)).toContainText("201");
  await expect(calls.nth(1).getByTestId("retry-badge")).toHaveText("retry · attempt 2");
  await expect(page.locator('[data-testid="trace-entry"][data-kind="arrival"]').first()).toBeVisible();
  await expect(page.getByTestId("trace-document-link").filter({ hasText: /SI-\d+/ }).first()).toBeVisible();
}

test("support: order id → tenant in ≤ 3 clicks, its trace, view as (a refused, logged change), the tenant's log as CSV", async ({ browser }) => {
  test.setTimeout(120_000);
  expect(orderId).not.toBe("");
  const { ctx, page } = await supportPage(browser);
  try {
    await expect(page).toHaveURL(`${APP}/support`);
    await expect(page.getByRole("heading", { name: "Support console" })).toBeVisible();

    // click 1: search for the order id; the result names the order and its tenant
    await page.getByLabel("Search").fill(orderId);
    await page.getByRole("button", { name: "Search" }).click();
    const row = page.getByRole("table", { name: "Matching orders" }).getByRole("row").filter({ hasText: orderId });
    await expect(row).toHaveCount(1);
    await expect(row).toContainText("Contoso Ltd");
    await expect(row).toContainText("Synced");
    const tenantName = (await row.getByRole("link").nth(1).textContent())!.trim();
    expect(tenantName).not.toBe("");

    // click 2: the order → its trace (the same one the reseller reads)
    await row.getByRole("link", { name: orderId }).click();
    await expectTraceWithRetry(page);

    // click 3: the trace's tenant → the tenant page
    await page.getByRole("link", { name: tenantName, exact: true }).first().click();
    await expect(page.getByRole("heading", { name: tenantName })).toBeVisible();
    await expect(page.getByTestId("support-connection-status")).toContainText("connected");
    await expect(page.getByRole("list", { name: "Tasks by state" })).toContainText("Synced: 1");

    // View as: the tenant's own pages, read only, a banner on every page
    await page.getByRole("button", { name: "View as (read only)" }).click();
    await expect(page).toHaveURL(`${APP}/dashboard`);
    const banner = page.getByTestId("view-as-banner");
    await expect(banner).toContainText(`Viewing as ${tenantName} — read only.`);
    for (const path of ["/tasks", "/mapping/products", "/action-log", "/settings"]) {
      await page.goto(`${APP}${path}`);
      await expect(banner, path).toBeVisible();
    }
    // a settings change is refused on the server …
    await page.getByRole("group", { name: "Notifications" }).getByLabel("All tasks", { exact: true }).check();
    await page.getByRole("button", { name: "Save settings" }).click();
    await expect(page.getByRole("alert").filter({ hasText: "Read only" })).toHaveText(`Read only: you are viewing ${tenantName} as support. Changes are refused, and this attempt was recorded in the tenant's Action Log.`);
    await page.reload();
    await expect(page.getByRole("group", { name: "Notifications" }).getByLabel("All tasks", { exact: true })).not.toBeChecked();
    // … and Sync is refused too (support never starts a sync for the customer)
    const sync = await page.request.post(`${APP}/api/sync`, { data: {}, headers: { Origin: APP } }); // {} = Sync all
    expect(sync.status()).toBe(403);

    // … and both are in the tenant's Action Log, as support's
    await page.goto(`${APP}/action-log`);
    await expect(page.getByText("Refused: support tried to save the settings.", { exact: false })).toBeVisible();
    await expect(page.getByText("Refused: support tried to call POST /api/sync.", { exact: false })).toBeVisible();

    // Stop viewing → back on the tenant page; the tenant's pages are the console's again
    await page.getByRole("button", { name: "Stop viewing" }).click();
    await expect(page.getByRole("heading", { name: tenantName })).toBeVisible();
    await expect(page.getByTestId("view-as-banner")).toHaveCount(0);
    await page.goto(`${APP}/dashboard`);
    await expect(page).toHaveURL(`${APP}/support`);

    // the tenant's Action Log as CSV, from the tenant page
    await page.goBack();
    await page.goto(`${APP}/support`);
    await page.getByLabel("Search").fill(ACCOUNT);
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("list", { name: "Matching tenants" }).getByRole("link", { name: tenantName }).click();
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("action-log-export").click()]);
    const csv = fs.readFileSync((await download.path())!, "utf8");
    const lines = csv.trim().split(/\r?\n/);
    expect(lines[0]).toBe("id,at,tenant_id,level,category,actor_type,actor_label,message,task_id,details");
    expect(lines.some((l) => l.includes("Refused: support tried to save the settings."))).toBe(true);
    expect(lines.some((l) => l.includes("Refused: support tried to call POST /api/sync."))).toBe(true);
    expect(lines.some((l) => l.includes("Sage business selected: Morgan Digital Ltd"))).toBe(true); // the tenant's own history too
    // (a synced order leaves no row under the default notifications "errors and actions required")
    const tenantIds = new Set(lines.slice(1).map((l) => l.split(",")[2]));
    expect(tenantIds.size).toBe(1); // this tenant's rows only
  } finally {
    await ctx.close();
  }
});

test("support's console actions refuse a reseller and an anonymous caller; the console refuses resellers", async ({ browser }) => {
  const { ctx, page } = await supportPage(browser);
  const reseller = await browser.newContext();
  try {
    await page.getByLabel("Search").fill(ACCOUNT);
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("list", { name: "Matching tenants" }).getByRole("link").first().click();
    await expect(page.getByRole("button", { name: "View as (read only)" })).toBeVisible();
    const supportCookies = (await ctx.cookies(APP)).filter((c) => c.name.startsWith("sc.session"));

    // a reseller's session swapped in: "View as" is refused, no view-as cookie is set
    const rp = await reseller.newPage();
    await signInWithPassword(rp, "admin@northwind.test", "northwind-demo");
    await rp.goto(`${APP}/support`);
    await expect(rp).toHaveURL(`${APP}/forbidden`);
    const resellerCookies = (await reseller.cookies(APP)).filter((c) => c.name.startsWith("sc.session"));
    await ctx.clearCookies({ name: /^sc\.session/ });
    await ctx.addCookies(resellerCookies);
    await page.getByRole("button", { name: "View as (read only)" }).click();
    await expect(page.locator('[role="alert"]:not(#__next-route-announcer__)')).toHaveText("Only support staff can view a tenant's pages as the tenant.");
    expect((await ctx.cookies(APP)).map((c) => c.name)).not.toContain("sc.view-as");

    // no session: sent to sign in
    await ctx.clearCookies({ name: /^sc\.session/ });
    await page.getByRole("button", { name: "View as (read only)" }).click();
    await expect(page).toHaveURL(/\/login\?callbackUrl=(\/|%2F)support/);
    expect((await ctx.cookies(APP)).map((c) => c.name)).not.toContain("sc.view-as");

    // support's own session back: the console works, nothing was opened meanwhile
    await ctx.addCookies(supportCookies);
    await page.goto(`${APP}/support`);
    await expect(page.getByRole("heading", { name: "Support console" })).toBeVisible();
    await expect(page.getByTestId("view-as-banner")).toHaveCount(0);
  } finally {
    await Promise.all([ctx.close(), reseller.close()]);
  }
});
