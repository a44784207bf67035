import { expect, test, type Page } from "@playwright/test";
import { APP, PORTAL, SANDBOX, chooseSetting, installConnectWithDefaults, launchTopLevel, openDocument, placed, placeSubscriptionFor, progressDone, taskRow } from "./helpers";

/**
 * Tried as a new user would: a fresh reseller installs the plugin, authorizes Sage, maps products
 * and customers by clicking, places orders on the sandbox marketplace's Orders page, and watches
 * them become invoices and credit notes in the sandbox's Sage (its /sage/inspect page) — with
 * Sync, Sync all and their progress bar, pop-up notifications, and each of the seven settings
 * changed at least once with its visible effect. The tests run in order on one account.
 */

const ACCOUNT = "RES-9301";
const BUSINESS = "Morgan Digital Ltd";
const BASIC = "Microsoft 365 Business Basic (monthly)";
const BASIC_DESCRIPTION = "Web and mobile Office apps, Exchange mailbox, 1 TB OneDrive";
const OVERAGE = "Cloud Backup storage overage (per GB)";

test.describe.configure({ mode: "serial" });

// ─── helpers ────────────────────────────────────────────────────────────────────────────────

const ordersUrl = `${PORTAL}/marketplace/orders?account=${ACCOUNT}`;

/** Orders page → "Place a new subscription" */
const placeSubscription = (page: Page, customer: string, mpn: string, quantity: number) => placeSubscriptionFor(page, ACCOUNT, customer, mpn, quantity);

/** Orders page → "Manage a subscription": Upgrade / Downgrade to `units`, Cancel, or Record usage. */
async function manage(page: Page, subscriptionId: string, action: { upgrade: number } | { downgrade: number } | { cancelWithFee: true } | { usage: { mpn: string; amount: string } }): Promise<string> {
  await page.goto(ordersUrl);
  await page.getByLabel("Subscription").selectOption(subscriptionId);
  if ("upgrade" in action) {
    await page.getByLabel("New number of units").fill(String(action.upgrade));
    await page.getByRole("button", { name: "Upgrade" }).click();
  } else if ("downgrade" in action) {
    await page.getByLabel("New number of units").fill(String(action.downgrade));
    await page.getByRole("button", { name: "Downgrade" }).click();
  } else if ("cancelWithFee" in action) {
    await expect(page.getByLabel(/Charge cancellation fee/)).toBeChecked();
    await page.getByRole("button", { name: "Cancel subscription" }).click();
  } else {
    await page.getByLabel("Usage item").selectOption(action.usage.mpn);
    await page.getByLabel("Usage amount").fill(action.usage.amount);
    await page.getByRole("button", { name: "Record usage" }).click();
  }
  await expect(page.getByTestId("created-request-id")).toBeVisible();
  return (await placed(page)).requestId;
}

/** The Tasks page, once the pushed orders are there. */
async function openTasks(page: Page, orderIds: string[]) {
  await page.goto(`${APP}/tasks`);
  await expect(async () => {
    await page.reload();
    for (const id of orderIds) await expect(taskRow(page, id)).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
}

async function expectState(page: Page, orderId: string, state: string) {
  await expect(taskRow(page, orderId).getByTestId("task-state")).toHaveText(state, { timeout: 30_000 });
}

async function saveSettings(page: Page, changes: [group: string, option: string][]) {
  await page.goto(`${APP}/settings`);
  // Settings says where exchange rates come from
  await expect(page.getByTestId("exchange-rate-source")).toContainText("Sage's stored exchange rate");
  // and which tax rate a customer's lines take (a GB business: EU business customers outside the scope)
  await expect(page.getByTestId("tax-rules")).toContainText("In another EU countryYesAll productsOutside the scope of VAT (No VAT)");
  for (const [group, option] of changes) await chooseSetting(page, group, option);
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByText(`Settings saved (${changes.length} changed).`)).toBeVisible();
}

const productRow = (page: Page, name: string) => page.getByTestId("product-row").filter({ hasText: name });
const customerRow = (page: Page, name: string) => page.getByTestId("customer-row").filter({ hasText: name });

async function pickInDialog(page: Page, search: string, option: RegExp) {
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  await dialog.getByRole("combobox").fill(search);
  await dialog.getByRole("option", { name: option }).click();
}

const toast = (page: Page, text: string | RegExp) => page.getByTestId("toast").filter({ hasText: text });

async function dismissToasts(page: Page) {
  for (const button of await page.getByRole("button", { name: "Dismiss notification" }).all()) await button.click().catch(() => {});
}

// ─── the story ──────────────────────────────────────────────────────────────────────────────

test("a new reseller installs, authorizes Sage and maps products and customers by clicking", async ({ page }) => {
  test.setTimeout(180_000);
  // the defaults: marketplace prices, full descriptions, one product per Sage item, auto-sync off,
  // credit notes for downgrades, notifications for errors and actions, a new invoice per order
  await installConnectWithDefaults(page, ACCOUNT, "Alex Morgan (1 business)", BUSINESS);

  await test.step("products: auto-match, Add to Sage, and many → one refused until the setting allows it", async () => {
    await page.getByRole("link", { name: "Mapping", exact: true }).click();
    await expect(page.getByTestId("product-total")).toHaveText("9 products", { timeout: 30_000 });
    await page.getByRole("button", { name: "Auto-match", exact: true }).click();
    await expect(page.getByTestId("mapping-notice")).toContainText("Auto-match: 4 of 9 unmapped products mapped");
    await expect(productRow(page, BASIC).getByTestId("product-mapping")).toContainText("M365-BASIC");

    // the marketplace's usage item has no Sage item yet: create it from the marketplace product
    await productRow(page, OVERAGE).getByRole("button", { name: "Add to Sage" }).click();
    await expect(page.getByTestId("request-outcomes")).toContainText(`Added to Sage and mapped: ${OVERAGE}`, { timeout: 30_000 });
    await expect(productRow(page, OVERAGE).getByTestId("product-mapping")).toContainText("BACKUP-OVERAGE-GB");

    // the yearly plan on the same Sage item as the monthly one: refused (setting "No")…
    const yearly = productRow(page, "Microsoft 365 Business Basic (yearly)");
    await yearly.getByRole("button", { name: "Map…" }).click();
    await pickInDialog(page, "basic", /M365-BASIC/);
    await expect(page.getByTestId("mapping-notice")).toHaveAttribute("role", "alert");
    await expect(page.getByTestId("mapping-notice")).toContainText("Nothing was saved.");
    await expect(yearly.getByTestId("product-mapping")).toHaveText("Not mapped");

    // …until "Allow many marketplace products → one Sage item" is Yes (setting 3 of 7)
    await saveSettings(page, [["Allow many marketplace products → one Sage item", "Yes"]]);
    await page.goto(`${APP}/mapping/products`);
    await productRow(page, "Microsoft 365 Business Basic (yearly)").getByRole("button", { name: "Map…" }).click();
    await pickInDialog(page, "basic", /M365-BASIC/);
    await expect(page.getByTestId("mapping-notice")).toContainText("Mapped 1 product to M365-BASIC");
    await expect(productRow(page, "Microsoft 365 Business Basic (yearly)").getByTestId("product-mapping")).toContainText("M365-BASIC");
    // the cancellation fee is left unmapped on purpose: a cancellation will ask for it
    await expect(page.getByTestId("fee-cancellation").getByTestId("fee-mapping")).toHaveText("Not mapped");
  });

  await test.step("customers: auto-match, a wrong mapping by clicking, auto-sync on for Contoso", async () => {
    await page.goto(`${APP}/mapping/customers`);
    await expect(page.getByTestId("customer-total")).toHaveText("8 customers");
    await page.getByRole("button", { name: "Auto-match", exact: true }).click();
    await expect(page.getByTestId("mapping-notice")).toContainText(/Auto-match: \d+ of 8 unmapped customers mapped/);
    await expect(customerRow(page, "Contoso Ltd").getByTestId("customer-mapping")).toHaveText("Contoso Ltd");
    // an EUR customer mapped to a GBP contact of a similar name: Sage will refuse its invoices
    await customerRow(page, "Fabrikam Ireland Ltd").getByRole("button", { name: "Map…" }).click();
    await pickInDialog(page, "fabrikam", /Fabrikam Trading Ltd/);
    await expect(customerRow(page, "Fabrikam Ireland Ltd").getByTestId("customer-mapping")).toHaveText("Fabrikam Trading Ltd");
    const toggle = customerRow(page, "Contoso Ltd").getByRole("switch", { name: "Auto-sync Contoso Ltd" });
    await toggle.check({ force: true });
    await expect(toggle).toBeChecked();
  });
});

test("orders become invoices and credit notes: Sync, Sync all with its progress bar, a failure and an action required fixed", async ({ page }) => {
  test.setTimeout(240_000);
  let subscription = "";
  const order = { purchase: "", upgrade: "", downgrade: "", usage: "", cancel: "" };
  await launchTopLevel(page, ACCOUNT);

  await test.step("a new subscription arrives as a task; Sync → an invoice in Sage with the marketplace price and full description", async () => {
    const first = await placeSubscription(page, "Contoso Ltd", "M365-BASIC-M", 5);
    subscription = first.subscriptionId;
    order.purchase = first.requestId;
    await openTasks(page, [order.purchase]);
    await expectState(page, order.purchase, "Pending");
    await taskRow(page, order.purchase).getByRole("button", { name: `Sync ${order.purchase}` }).click();
    // while it runs every Sync button waits
    await expect(page.getByTestId("sync-progress")).toBeVisible();
    expect(await progressDone(page)).toBe("1 of 1 done — 1 synced");
    await expectState(page, order.purchase, "Synced");
    await expect(page.getByTestId("syncable-count")).toHaveText("Nothing to sync.");

    const { popup, row } = await openDocument(page, order.purchase, /^Invoice SI-\d+$/);
    await expect(row).toContainText(order.purchase);
    await expect(row).toContainText("Contoso Ltd");
    await expect(row).toContainText(`5 × ${BASIC} — ${BASIC_DESCRIPTION}`);
    await expect(row).toContainText("25.50 GBP"); // 5 × 5.10, the marketplace price
    await expect(row).toContainText("30.60 GBP"); // with 20 % VAT
    await popup.close();
  });

  await test.step("upgrade, downgrade, usage and a cancellation with fee; Sync all shows its progress", async () => {
    order.upgrade = await manage(page, subscription, { upgrade: 8 });
    order.downgrade = await manage(page, subscription, { downgrade: 6 });
    order.usage = await manage(page, subscription, { usage: { mpn: "BACKUP-OVERAGE-GB", amount: "37.5" } });
    order.cancel = await manage(page, subscription, { cancelWithFee: true });
    await page.goto(`${APP}/tasks`);
    await openTasks(page, [order.upgrade, order.downgrade, order.usage, order.cancel]);
    await expect(page.getByTestId("syncable-count")).toHaveText("4 tasks to sync");
    await dismissToasts(page);
    await page.getByRole("button", { name: "Sync all" }).click();
    await expect(page.getByRole("progressbar", { name: "Sync progress" })).toHaveAttribute("aria-valuemax", "4");
    expect(await progressDone(page)).toBe("4 of 4 done — 3 synced, 1 action required");
    await expect(page.getByRole("progressbar", { name: "Sync progress" })).toHaveAttribute("aria-valuenow", "4");
    for (const id of [order.upgrade, order.downgrade, order.usage]) await expectState(page, id, "Synced");
    await expectState(page, order.cancel, "Action required");
    await expect(taskRow(page, order.cancel).getByTestId("task-reason")).toContainText("Early cancellation fee (FEE-CANCEL)");
    // notifications "errors and actions required": the action pops up, the three successes do not
    await expect(toast(page, `Order ${order.cancel}: Map this product to a Sage item first`)).toBeVisible({ timeout: 15_000 });
    // the pop-up does not cover the row's own actions
    const popup = (await toast(page, `Order ${order.cancel}: Map this product to a Sage item first`).boundingBox())!;
    for (const action of [taskRow(page, order.cancel).getByRole("button", { name: `Sync ${order.cancel}` }), taskRow(page, order.cancel).getByRole("link", { name: "Fix this" })]) {
      await action.scrollIntoViewIfNeeded();
      const box = (await action.boundingBox())!;
      const popupNow = (await toast(page, `Order ${order.cancel}: Map this product to a Sage item first`).boundingBox()) ?? popup;
      const overlaps = box.x < popupNow.x + popupNow.width && popupNow.x < box.x + box.width && box.y < popupNow.y + popupNow.height && popupNow.y < box.y + box.height;
      expect(overlaps, `${await action.textContent()} is under the pop-up`).toBe(false);
    }
    await expect(page.locator('[data-testid="toast"][data-level="success"]')).toHaveCount(0);
  });

  await test.step("the Sage documents: invoice for the upgrade, credit note for the downgrade, usage invoiced", async () => {
    let doc = await openDocument(page, order.upgrade, /^Invoice SI-\d+$/);
    await expect(doc.row).toContainText(`3 × ${BASIC}`); // 5 → 8
    await expect(doc.row).toContainText("15.30 GBP");
    const upgradeInvoice = doc.number;
    await doc.popup.close();
    doc = await openDocument(page, order.downgrade, /^Credit note SCN-\d+$/);
    await expect(doc.row).toContainText(`2 × ${BASIC}`); // 8 → 6
    await expect(doc.row).toContainText("10.20 GBP");
    // the refund is allocated against the open invoice of the same subscription (the upgrade's)
    // (the allocation follows the run's last invoice write: on a busy machine it can land after the list last refreshed)
    await expect(async () => {
      if (!(await taskRow(page, order.downgrade).getByRole("link", { name: `Allocated ${doc.number} → ${upgradeInvoice}` }).isVisible())) await page.reload();
      await expect(taskRow(page, order.downgrade).getByRole("link", { name: `Allocated ${doc.number} → ${upgradeInvoice}` })).toBeVisible({ timeout: 3_000 });
    }).toPass({ timeout: 30_000 });
    await expect(doc.popup.getByRole("heading", { name: /Sales credit notes/ }).first()).toBeVisible();
    await doc.popup.close();
    doc = await openDocument(page, order.usage, /^Invoice SI-\d+$/);
    await expect(doc.row).toContainText(`37.5 × ${OVERAGE}`);
    await doc.popup.close();
  });

  await test.step("action required keeps its fix link: map the fee, Sync again → credit note and fee invoice", async () => {
    await dismissToasts(page);
    await taskRow(page, order.cancel).getByRole("link", { name: "Fix this" }).click();
    await expect(page).toHaveURL(/\/mapping\/products\?tab=fees/);
    const fee = page.getByTestId("fee-cancellation");
    // the fee gets its own Sage item (a service on Other Income at the marketplace price), not a product's
    await fee.getByRole("button", { name: "Create fee item in Sage" }).click();
    await expect(fee.getByTestId("fee-mapping")).toHaveText("→ Early cancellation fee", { timeout: 30_000 });
    await expect(fee.getByRole("button", { name: "Create fee item in Sage" })).toHaveCount(0);
    // and a way back to the tasks, as they were filtered
    await page.getByRole("link", { name: "← Back to tasks" }).click();
    await expect(page).toHaveURL(/\/tasks(\?|$)/);
    await expect(taskRow(page, order.cancel)).toBeVisible();

    await page.goto(`${APP}/tasks?state=action_required`);
    await taskRow(page, order.cancel).getByRole("button", { name: `Sync ${order.cancel}` }).click();
    expect(await progressDone(page)).toBe("1 of 1 done — 1 synced");
    await page.getByRole("button", { name: /^All/ }).click();
    await expectState(page, order.cancel, "Synced");
    let doc = await openDocument(page, order.cancel, /^Credit note SCN-\d+$/);
    await expect(doc.row).toContainText(`6 × ${BASIC}`);
    await expect(doc.row).toContainText("30.60 GBP");
    await doc.popup.close();
    doc = await openDocument(page, order.cancel, /^Invoice SI-\d+$/);
    await expect(doc.row).toContainText("1 × Early cancellation fee");
    await expect(doc.row).toContainText("25.00 GBP");
    await doc.popup.close();
  });

  await test.step("an unusable order (quantity “ten”) stays action required when synced, and is ignored", async () => {
    // what a broken marketplace integration might send: not something a person can place on the Orders page
    const res = await fetch(`${SANDBOX}/__sandbox/marketplace/malformed-order`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ account_id: ACCOUNT, quantity: "ten" }) });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await openTasks(page, [id]);
    await expectState(page, id, "Action required");
    await expect(taskRow(page, id).getByTestId("task-reason")).toContainText("ten");
    await dismissToasts(page);
    await taskRow(page, id).getByRole("button", { name: `Sync ${id}` }).click();
    expect(await progressDone(page)).toBe("1 of 1 done — 1 action required");
    await expectState(page, id, "Action required");
    await expect(taskRow(page, id).getByTestId("task-reason")).toContainText("which is not a number");
    await expect(taskRow(page, id).getByTestId("task-reason")).toContainText("Nothing was written to Sage.");
    await expect(taskRow(page, id).getByTestId("sage-document-link")).toHaveCount(0);
    await page.getByLabel(`Select ${id}`).check();
    await page.getByRole("button", { name: "Ignore…" }).click();
    await page.getByLabel("Reason for ignoring").fill("Broken order; placed again by hand");
    await page.getByRole("button", { name: "Confirm ignore" }).click();
    await expectState(page, id, "Ignored");
  });

  await test.step("Sage refuses an invoice: the row shows Sage's message and field; fixed and synced again", async () => {
    const { requestId } = await placeSubscription(page, "Fabrikam Ireland Ltd", "M365-STANDARD-M", 2);
    await openTasks(page, [requestId]);
    await dismissToasts(page);
    await taskRow(page, requestId).getByRole("button", { name: `Sync ${requestId}` }).click();
    expect(await progressDone(page)).toBe("1 of 1 done — 1 failed");
    await expectState(page, requestId, "Failed");
    await expect(taskRow(page, requestId).getByTestId("task-reason")).toHaveText("Sage refused the document — currency_id: must match the contact's currency (GBP)");
    await expect(toast(page, `Order ${requestId} failed`)).toBeVisible({ timeout: 15_000 });
    await expect(toast(page, `Order ${requestId} failed`)).toHaveAttribute("data-level", "error");

    // unmapped, the sync finds or creates the right (EUR) contact
    await page.goto(`${APP}/mapping/customers`);
    await customerRow(page, "Fabrikam Ireland Ltd").getByRole("button", { name: "Unmap" }).click();
    await expect(customerRow(page, "Fabrikam Ireland Ltd").getByTestId("customer-mapping")).toHaveText("Not mapped");
    await page.goto(`${APP}/tasks?state=failed`);
    await taskRow(page, requestId).getByRole("button", { name: `Sync ${requestId}` }).click();
    expect(await progressDone(page)).toBe("1 of 1 done — 1 synced");
    await page.getByRole("button", { name: /^All/ }).click();
    await expectState(page, requestId, "Synced");
    const doc = await openDocument(page, requestId, /^Invoice SI-\d+$/);
    await expect(doc.row).toContainText("Fabrikam Ireland Ltd");
    await expect(doc.row).toContainText("23.40 EUR"); // 2 × 11.70, the marketplace's EUR price
    await doc.popup.close();
  });

  await test.step("refusals are clear and change nothing; support staff cannot start a sync", async () => {
    const nothing = await page.request.post(`${APP}/api/sync`, { data: {} });
    expect(nothing.status()).toBe(409);
    expect((await nothing.json()).error).toBe("There is nothing to sync.");
    const unknown = await page.request.post(`${APP}/api/sync`, { data: { taskIds: ["00000000-0000-4000-8000-000000000000"] } });
    expect(unknown.status()).toBe(409);
    expect((await unknown.json()).error).toContain("None of the selected tasks can be synced");
    const bad = await page.request.post(`${APP}/api/sync`, { data: { taskIds: ["PR-1"] } });
    expect(bad.status()).toBe(400);
    expect((await bad.json()).error).toBe("task ids are UUIDs");
    const broken = await page.request.post(`${APP}/api/sync`, { headers: { "Content-Type": "application/json" }, data: "{not json" });
    expect(broken.status()).toBe(400);

    const context = await page.context().browser()!.newContext();
    const support = await context.newPage();
    await support.goto(`${APP}/login`);
    await support.getByLabel("E-mail").fill("support@sage-connector.test");
    await support.getByLabel("Password").fill("support-demo");
    await support.getByRole("button", { name: "Sign in" }).click();
    // support has no reseller pages of its own: signing in lands on the support console
    await expect(support).toHaveURL(`${APP}/support`);
    await support.goto(`${APP}/dashboard`);
    await expect(support).toHaveURL(`${APP}/support`); // a tenant's page without "View as" sends support back to the console
    const res = await support.request.post(`${APP}/api/sync`, { data: {} });
    expect(res.status()).toBe(403);
    expect((await res.json()).error).toContain("Support staff cannot sync");
    await context.close();
  });
});

test("each setting changes what is written; instant auto-sync; notifications for all tasks", async ({ page }) => {
  test.setTimeout(240_000);
  await launchTopLevel(page, ACCOUNT);

  let subscription = "";
  await test.step("trim description + notifications for all tasks: a toast for the synced order; only the product name in the line", async () => {
    await saveSettings(page, [
      ["Trim description", "Yes — only the product name"],
      ["Notifications", "All tasks"],
    ]);
    const p = await placeSubscription(page, "Contoso Ltd", "M365-BASIC-M", 2);
    subscription = p.subscriptionId;
    await openTasks(page, [p.requestId]);
    await taskRow(page, p.requestId).getByRole("button", { name: `Sync ${p.requestId}` }).click();
    expect(await progressDone(page)).toBe("1 of 1 done — 1 synced");
    const note = toast(page, `Order ${p.requestId} synced: invoice SI-`);
    await expect(note).toBeVisible({ timeout: 15_000 });
    await expect(note).toHaveAttribute("data-level", "success");
    await expect(note.getByRole("link", { name: "Open task" })).toHaveAttribute("href", `/tasks?q=${p.requestId}`);
    await note.getByRole("button", { name: "Dismiss notification" }).click();
    await expect(note).toHaveCount(0);
    const doc = await openDocument(page, p.requestId, /^Invoice SI-\d+$/);
    await expect(doc.row.locator("td").nth(4)).toHaveText(`2 × ${BASIC}`); // no " — description"
    await expect(doc.row).toContainText("10.20 GBP");
    await doc.popup.close();
  });

  let invoiceOfUpgrade = "";
  await test.step("price and description source Sage: Sage's price (4.90) instead of the marketplace's (5.10); Sync all on the dashboard", async () => {
    await saveSettings(page, [["Price and description source", "Sage"]]);
    const id = await manage(page, subscription, { upgrade: 4 });
    await openTasks(page, [id]);
    await page.goto(`${APP}/dashboard`);
    await expect(page.getByTestId("dashboard-count-pending")).toContainText("1");
    // Check Changes still works next to Sync all
    await page.getByRole("button", { name: "Check Changes" }).click();
    await expect(page.getByTestId("check-changes-result")).toContainText("0 new tasks");
    await page.getByRole("button", { name: "Sync all" }).click();
    expect(await progressDone(page)).toBe("1 of 1 done — 1 synced");
    await expect(page.getByTestId("dashboard-count-pending")).toContainText("0");
    await page.goto(`${APP}/tasks`);
    const doc = await openDocument(page, id, /^Invoice SI-\d+$/);
    invoiceOfUpgrade = doc.number;
    await expect(doc.row).toContainText(`2 × ${BASIC}`);
    await expect(doc.row).toContainText("9.80 GBP"); // 2 × 4.90
    await doc.popup.close();
  });

  await test.step("downgrades: quantity changes only — synced without a credit note", async () => {
    await saveSettings(page, [["Downgrades", "Quantity changes only"]]);
    const id = await manage(page, subscription, { downgrade: 3 });
    await openTasks(page, [id]);
    await taskRow(page, id).getByRole("button", { name: `Sync ${id}` }).click();
    expect(await progressDone(page)).toBe("1 of 1 done — 1 synced");
    await expectState(page, id, "Synced");
    await expect(taskRow(page, id).getByTestId("task-reason")).toContainText("quantity 4 → 3 recorded without a credit note (setting: quantity changes only)");
    await expect(taskRow(page, id).getByTestId("sage-document-link")).toHaveCount(0);
  });

  await test.step("invoices: the customer's latest open invoice — the upgrade's lines are added to it", async () => {
    await saveSettings(page, [["Invoices", "Customer's latest open invoice"]]);
    const id = await manage(page, subscription, { upgrade: 5 });
    await openTasks(page, [id]);
    await taskRow(page, id).getByRole("button", { name: `Sync ${id}` }).click();
    expect(await progressDone(page)).toBe("1 of 1 done — 1 synced");
    const doc = await openDocument(page, id, `Lines added to invoice ${invoiceOfUpgrade}`);
    await expect(doc.row.locator("td").first()).toHaveText(invoiceOfUpgrade);
    await expect(doc.row.locator("td").nth(4)).toHaveText(`2 × ${BASIC}2 × ${BASIC}`); // two lines now
    await expect(doc.row).toContainText("19.60 GBP");
    await doc.popup.close();
  });

  await test.step("auto-sync instant: an order for a customer with auto-sync on is an invoice without clicking Sync", async () => {
    await saveSettings(page, [
      ["Auto-sync", "Instant — as soon as an order arrives"],
      ["Invoices", "New invoice per order"],
    ]);
    const auto = await placeSubscription(page, "Contoso Ltd", "BACKUP-50GB", 3);
    const manual = await placeSubscription(page, "Tailspin Toys Ltd", "BACKUP-50GB", 1);
    await page.goto(`${APP}/tasks`);
    // nobody clicks Sync: the pop-up says it is done (a page opened meanwhile shows what arrived since)
    await expect(toast(page, `Order ${auto.requestId} synced: invoice SI-`)).toBeVisible({ timeout: 30_000 });
    await expect(taskRow(page, auto.requestId)).toBeVisible({ timeout: 30_000 });
    await expectState(page, auto.requestId, "Synced");
    const doc = await openDocument(page, auto.requestId, /^Invoice SI-\d+$/);
    await expect(doc.row.locator("td").nth(4)).toHaveText("3 × Cloud Backup 50 GB");
    await expect(doc.row).toContainText("18.00 GBP"); // 3 × 6.00, Sage's price
    await doc.popup.close();
    // Tailspin's auto-sync toggle is off: its order waits for a click
    await expect(taskRow(page, manual.requestId)).toBeVisible({ timeout: 30_000 });
    await expectState(page, manual.requestId, "Pending");

    // Sync selected: only the ticked task; Tailspin's Sage contact is created on the way
    await dismissToasts(page);
    await page.getByLabel(`Select ${manual.requestId}`).check();
    await expect(page.getByRole("region", { name: "Selected tasks" })).toContainText("1 selected");
    await page.getByRole("button", { name: "Sync selected" }).click();
    expect(await progressDone(page)).toBe("1 of 1 done — 1 synced");
    await expect(page.getByText("Sync of 1 selected task: finished")).toBeVisible();
    const tailspin = await openDocument(page, manual.requestId, /^Invoice SI-\d+$/);
    await expect(tailspin.row).toContainText("Tailspin Toys Ltd");
    await expect(tailspin.row.locator("td").nth(4)).toHaveText("1 × Cloud Backup 50 GB");
    await tailspin.popup.close();
  });

  await test.step("the Action Log has every settings change and the sync results", async () => {
    await page.goto(`${APP}/action-log`);
    await expect(page.getByTestId("action-log-row").first()).toBeVisible();
    const all = (await page.getByTestId("action-log-row").allTextContents()).join("\n");
    for (const text of [
      "Allow many marketplace products → one Sage item: No → Yes",
      "Trim description: No — full description → Yes — only the product name",
      "Notifications: Errors and actions required → All tasks",
      "Price and description source: Marketplace → Sage",
      "Downgrades: Refund with a credit note → Quantity changes only",
      "Invoices: New invoice per order → Customer's latest open invoice",
      "Auto-sync: Off → Instant — as soon as an order arrives",
      "failed: Sage refused the document — currency_id",
    ]) {
      expect(all).toContain(text);
    }
  });
});
