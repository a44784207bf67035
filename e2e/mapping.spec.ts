import { expect, test, type Page } from "@playwright/test";
import { APP, SANDBOX, answerConsent, chooseSetting, installAndStartConnect, launchTopLevel } from "./helpers";

/**
 * Mapping in the browser: the first visit refreshes from the marketplace and from Sage; products
 * (search, show only unmapped, auto-match, add to Sage, bulk map refused then allowed, unmap),
 * the Fees pane, customers (auto-match, create in Sage, map by clicking, auto-sync, unmap), the
 * Action Log, and 10,000 products in the virtualized list.
 */

const ACCOUNT = "RES-8101";
// numbers on the page follow the browser's language: a UK browser reads "10,010 products", "£25.00"
test.use({ locale: "en-GB" });
const BUSINESS = "Taylor & Co Services Ltd";

type SageState = { services: { id: string; item_code?: string }[]; contacts: { id: string; reference?: string; name: string }[] };
async function sageState(): Promise<SageState> {
  return (await fetch(`${SANDBOX}/__sandbox/state?business=taylor-gb`)).json() as Promise<SageState>;
}

const productRow = (page: Page, name: string) => page.getByTestId("product-row").filter({ hasText: name });
const customerRow = (page: Page, name: string) => page.getByTestId("customer-row").filter({ hasText: name });

async function pickInDialog(page: Page, search: string, option: RegExp) {
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  await dialog.getByRole("combobox").fill(search);
  await dialog.getByRole("option", { name: option }).click();
}

test("map products, the cancellation fee and customers by clicking; everything lands in the Action Log", async ({ page }) => {
  test.setTimeout(180_000);
  // a fresh reseller, connected to Sam Taylor's GB business
  await launchTopLevel(page, ACCOUNT);
  await installAndStartConnect(page);
  await answerConsent(page, "Sam Taylor (2 businesses)", "Allow");
  await expect(page.getByRole("heading", { name: "Choose your Sage business" })).toBeVisible();
  await page.getByLabel(new RegExp(BUSINESS)).check();
  await page.getByRole("button", { name: "Use this business" }).click();
  await expect(page.getByRole("dialog", { name: "Settings" })).toBeVisible();
  await page.getByRole("button", { name: "Save and open dashboard" }).click();
  await expect(page.getByTestId("connection-business")).toContainText(BUSINESS);

  await test.step("first visit refreshes from the marketplace and from Sage", async () => {
    await page.getByRole("link", { name: "Mapping", exact: true }).click();
    await expect(page).toHaveURL(/\/mapping\/products$/);
    await expect(page.getByTestId("marketplace-refreshed")).toHaveText("10 products, 8 customers — refreshed just now");
    await expect(page.getByTestId("sage-refreshed")).toHaveText(/\d+ items, \d+ contacts — refreshed just now/);
    await expect(page.getByTestId("product-total")).toHaveText("9 products");
    // a search with no match says so; with "Show only unmapped" it says no *unmapped* product
    // matches (not "Every product is mapped.": 9 are not)
    await page.getByLabel("Search products").fill("zzz-no-such-product");
    await expect(page.getByText("No product matches the search.")).toBeVisible();
    await page.getByLabel("Show only unmapped").check();
    await expect(page.getByText("No unmapped product matches the search.")).toBeVisible();
    await expect(page.getByText("Every product is mapped.")).toHaveCount(0);
    await page.getByLabel("Show only unmapped").uncheck();
    await page.getByLabel("Search products").fill("");
    await expect(page.getByTestId("product-total")).toHaveText("9 products");
  });

  await test.step("search and show only unmapped filter on the server and stay in the address bar", async () => {
    await page.getByLabel("Search products").fill("premium");
    await expect(page.getByTestId("product-total")).toHaveText("2 products");
    await expect(page).toHaveURL(/search=premium/);
    await page.getByLabel("Search products").fill("");
    await page.getByLabel("Show only unmapped").check();
    await expect(page).toHaveURL(/unmapped=1/);
    await expect(page.getByTestId("product-total")).toHaveText("9 products");
  });

  await test.step("auto-match: MPN = item code, then name = description", async () => {
    await page.getByRole("button", { name: "Auto-match", exact: true }).click();
    await expect(page.getByTestId("mapping-notice")).toHaveText(
      "Auto-match: 4 of 9 unmapped products mapped (2 by MPN = item code, 2 by name = description); 5 without a match.",
    );
    await expect(page.getByTestId("product-total")).toHaveText("5 products");
    await page.getByLabel("Show only unmapped").uncheck();
    await expect(productRow(page, "Microsoft 365 Business Basic (monthly)").getByTestId("product-mapping")).toContainText("M365-BASIC");
    await expect(productRow(page, "YubiKey 5 NFC").getByTestId("product-mapping")).toContainText("YUBIKEY-5");
  });

  await test.step("Add product to Sage: pending, then created once in Sage and mapped", async () => {
    const row = productRow(page, "Microsoft 365 Business Premium (monthly)");
    await row.getByRole("button", { name: "Add to Sage" }).click();
    await expect(page.getByTestId("request-outcomes")).toContainText(
      "Added to Sage and mapped: Microsoft 365 Business Premium (monthly) (M365-PREMIUM-M) → new Sage service M365-PREMIUM-M “Microsoft 365 Business Premium (monthly)”",
    );
    await expect(row.getByTestId("product-mapping")).toContainText("M365-PREMIUM-M");
    expect((await sageState()).services.filter((s) => s.item_code === "M365-PREMIUM-M")).toHaveLength(1);
  });

  await test.step("bulk map: many → one is refused on the server until the setting allows it", async () => {
    await page.getByLabel("Search products").fill("premium");
    await expect(page.getByTestId("product-total")).toHaveText("2 products");
    await page.getByLabel("Select all loaded products").check();
    await expect(page.getByTestId("selected-count")).toHaveText("2 selected");
    await page.getByRole("button", { name: "Map selected…" }).click();
    await pickInDialog(page, "M365-PREMIUM", /M365-PREMIUM-M/);
    const refusal = page.getByTestId("mapping-notice");
    await expect(refusal).toHaveAttribute("role", "alert");
    await expect(refusal).toContainText("2 marketplace products cannot all be mapped");
    await expect(refusal).toContainText("Nothing was saved.");
    await expect(productRow(page, "Microsoft 365 Business Premium (yearly)").getByTestId("product-mapping")).toHaveText("Not mapped");

    await page.goto(`${APP}/settings`);
    await chooseSetting(page, "Allow many marketplace products → one Sage item", "Yes");
    await page.getByRole("button", { name: "Save settings" }).click();
    await expect(page.getByText("Settings saved (1 changed).")).toBeVisible();

    // tasks link here: /mapping/products?unmapped=1
    await page.goto(`${APP}/mapping/products?unmapped=1&search=premium`);
    await expect(page.getByLabel("Show only unmapped")).toBeChecked();
    await expect(page.getByTestId("product-total")).toHaveText("1 product");
    await page.getByLabel("Show only unmapped").uncheck();
    await expect(page.getByTestId("product-total")).toHaveText("2 products");
    await page.getByLabel("Select all loaded products").check();
    await page.getByRole("button", { name: "Map selected…" }).click();
    await pickInDialog(page, "premium", /M365-PREMIUM-M/);
    await expect(page.getByTestId("mapping-notice")).toHaveText("Mapped 1 product to M365-PREMIUM-M “Microsoft 365 Business Premium (monthly)”.");
    await expect(productRow(page, "Microsoft 365 Business Premium (yearly)").getByTestId("product-mapping")).toContainText("M365-PREMIUM-M");
  });

  await test.step("map one product by clicking, then unmap it", async () => {
    await page.getByLabel("Search products").fill("");
    const row = productRow(page, "Microsoft 365 Business Basic (yearly)");
    await row.getByRole("button", { name: "Map…" }).click();
    await pickInDialog(page, "basic", /M365-BASIC/);
    await expect(row.getByTestId("product-mapping")).toContainText("M365-BASIC");
    await productRow(page, "Microsoft 365 Business Premium (yearly)").getByRole("button", { name: "Unmap" }).click();
    await expect(page.getByTestId("mapping-notice")).toHaveText("Unmapped 1 product.");
    await expect(productRow(page, "Microsoft 365 Business Premium (yearly)").getByTestId("product-mapping")).toHaveText("Not mapped");
  });

  await test.step("Fees mapping: the cancellation fee → a Sage item", async () => {
    const fee = page.getByTestId("fee-cancellation");
    await expect(fee).toContainText("Early cancellation fee (FEE-CANCEL, £25.00)"); // the amount with its currency, in the browser's locale
    // by keyboard: Escape closes the picker and focus returns to the button that opened it
    const choose = fee.getByRole("button", { name: "Choose Sage item…" });
    await choose.click();
    await expect(page.getByRole("dialog")).toBeVisible();
    await page.keyboard.press("Escape");
    await expect(page.getByRole("dialog")).toHaveCount(0);
    await expect(choose).toBeFocused();
    // ↓ moves through the options (the search box keeps the focus), Enter picks the highlighted one
    await choose.press("Enter");
    const search = page.getByRole("dialog").getByRole("combobox");
    await search.fill("backup");
    const wanted = page.getByRole("dialog").getByRole("option", { name: /BACKUP-50GB/ });
    await expect(wanted).toBeVisible();
    // the search has been applied (it is debounced; a new result list starts with nothing highlighted)
    await expect(page.getByRole("dialog").getByRole("option").filter({ hasNotText: /backup/i })).toHaveCount(0);
    for (let i = 0; i < 10 && (await wanted.getAttribute("aria-selected")) !== "true"; i++) await search.press("ArrowDown");
    await expect(wanted).toHaveAttribute("aria-selected", "true");
    await expect(search).toHaveAttribute("aria-activedescendant", (await wanted.getAttribute("id"))!);
    await expect(search).toBeFocused();
    await search.press("Enter");
    await expect(fee.getByTestId("fee-mapping")).toHaveText("→ Cloud Backup 50 GB");
    await expect(fee.getByRole("button", { name: "Change Sage item…" })).toBeFocused();
  });

  await test.step("customers: auto-match, create in Sage, map by clicking, auto-sync, unmap", async () => {
    await page.getByRole("link", { name: /^Customers/ }).click();
    await expect(page).toHaveURL(/\/mapping\/customers/);
    await expect(page.getByTestId("customer-total")).toHaveText("8 customers");
    await page.getByLabel("Show only unmapped").check();
    await page.getByRole("button", { name: "Auto-match", exact: true }).click();
    await expect(page.getByTestId("mapping-notice")).toContainText(/Auto-match: \d+ of 8 unmapped customers mapped/);
    await page.getByLabel("Show only unmapped").uncheck();
    await expect(customerRow(page, "Contoso Ltd").getByTestId("customer-mapping")).toHaveText("Contoso Ltd");

    const tailspin = customerRow(page, "Tailspin Toys Ltd");
    const tailspinId = (await tailspin.textContent())!.match(/TA-\d+-\d+/)![0];
    await tailspin.getByRole("button", { name: "Create in Sage" }).click();
    await expect(page.getByTestId("request-outcomes")).toContainText(/(Created in Sage|Found in Sage by e-mail) and mapped: Tailspin Toys Ltd/);
    await expect(tailspin.getByTestId("customer-mapping")).toHaveText("Tailspin Toys Ltd");
    const contacts = (await sageState()).contacts.filter((c) => c.name === "Tailspin Toys Ltd");
    expect(contacts).toHaveLength(1);
    expect(contacts[0]!.reference === tailspinId || contacts.length === 1).toBe(true);

    const northwind = customerRow(page, "Northwind Traders Ltd");
    await northwind.getByRole("button", { name: "Map…" }).click();
    await pickInDialog(page, "fabrikam", /Fabrikam Trading Ltd/);
    await expect(page.getByTestId("mapping-notice")).toHaveText("Mapped 1 customer to “Fabrikam Trading Ltd”.");
    await expect(northwind.getByTestId("customer-mapping")).toHaveText("Fabrikam Trading Ltd");

    const toggle = customerRow(page, "Contoso Ltd").getByRole("switch", { name: "Auto-sync Contoso Ltd" });
    await expect(toggle).not.toBeChecked();
    // by keyboard: Space turns it on and focus stays on the switch while it saves
    await toggle.focus();
    await page.keyboard.press("Space");
    await expect(toggle).toBeChecked();
    await expect(toggle).toBeFocused();
    await page.reload();
    await expect(customerRow(page, "Contoso Ltd").getByRole("switch", { name: "Auto-sync Contoso Ltd" })).toBeChecked();
    await expect(customerRow(page, "Tailspin Toys Ltd").getByRole("switch", { name: "Auto-sync Tailspin Toys Ltd" })).not.toBeChecked();

    await customerRow(page, "Northwind Traders Ltd").getByRole("button", { name: "Unmap" }).click();
    await expect(customerRow(page, "Northwind Traders Ltd").getByTestId("customer-mapping")).toHaveText("Not mapped");
  });

  await test.step("the Action Log shows each mapping change", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Action Log", exact: true }).click();
    const rows = page.getByTestId("action-log-row");
    await expect(rows.first()).toContainText("Customer unmapped: Northwind Traders Ltd");
    const all = (await rows.allTextContents()).join("\n");
    for (const text of [
      "Refreshed from marketplace: 10 products and 8 customers",
      "Refreshed from Sage:",
      "Auto-match: 4 of 9 unmapped products mapped",
      "Added to Sage and mapped: Microsoft 365 Business Premium (monthly)",
      "Product mapped: Microsoft 365 Business Premium (yearly) (M365-PREMIUM-Y) → Sage service M365-PREMIUM-M",
      "Product unmapped: Microsoft 365 Business Premium (yearly)",
      "Fee mapped: Cancellation fee → Sage service BACKUP-50GB “Cloud Backup 50 GB”",
      "Customer mapped: Northwind Traders Ltd",
      "Auto-sync turned on for customer Contoso Ltd",
      "Settings changed: Allow many marketplace products → one Sage item: No → Yes",
    ]) {
      expect(all).toContain(text);
    }
  });
});

test("10,000 marketplace products: refreshed, filtered on the server, scrolled in a virtualized list", async ({ page }) => {
  test.setTimeout(180_000);
  // RES-8101's catalog grows by 10,000 generated products
  const res = await fetch(`${SANDBOX}/__sandbox/marketplace/catalog`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ account_id: ACCOUNT, generate: 10_000 }) });
  expect(res.status).toBe(201);
  await launchTopLevel(page, ACCOUNT);
  await page.goto(`${APP}/mapping/products`);
  await page.getByRole("button", { name: "Refresh from marketplace" }).click();
  await expect(page.getByTestId("marketplace-refreshed")).toHaveText("10,010 products, 8 customers — refreshed just now", { timeout: 60_000 });
  await expect(page.getByTestId("product-total")).toHaveText("10,009 products");

  // only the rows on screen are in the DOM; scrolling to the end fetches just that page
  const scroller = page.getByTestId("virtual-scroll");
  expect(await page.getByTestId("product-row").count()).toBeLessThan(40);
  await scroller.evaluate((el) => (el.scrollTop = el.scrollHeight));
  // rows whose page is still loading show "Loading…": wait for the last page to arrive
  await expect(page.getByTestId("product-row").last()).toHaveAttribute("aria-rowindex", String(10_009 + 1), { timeout: 15_000 });
  await expect(page.getByTestId("product-row").last()).toBeVisible();
  expect(await page.getByTestId("product-row").count()).toBeLessThan(40);

  // the server filters the 10,000: unmapped + search
  const started = Date.now();
  const api = await page.request.get(`${APP}/api/mapping/products?search=vault&unmapped=1&limit=100`);
  const elapsed = Date.now() - started;
  expect(api.ok()).toBe(true);
  const body = (await api.json()) as { total: number; rows: { name: string; mpn: string }[] };
  expect(body.total).toBeGreaterThan(0);
  expect(body.rows.every((r) => `${r.name} ${r.mpn}`.toLowerCase().includes("vault"))).toBe(true);
  expect(elapsed).toBeLessThan(1_000);
  // a bad parameter is refused with a clear message
  const bad = await page.request.get(`${APP}/api/mapping/products?limit=100000`);
  expect(bad.status()).toBe(400);
  expect((await bad.json()).error).toContain("limit must be 1–500");
});
