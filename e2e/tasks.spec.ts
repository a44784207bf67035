import { expect, test, type Page } from "@playwright/test";
import { APP, PORTAL, answerConsent, chooseSetting, installAndStartConnect, launchTopLevel } from "./helpers";

/**
 * Orders → tasks, in the browser: an order placed in the marketplace before the plugin is installed
 * arrives with Check Changes (pull); one placed after arrives by itself (signed webhook, push);
 * a task is ignored (with a reason) and un-ignored; the Action Log shows every step.
 */

const ACCOUNT = "RES-7001";

async function placeOrder(page: Page, quantity: number): Promise<string> {
  await page.goto(`${PORTAL}/marketplace/orders?account=${ACCOUNT}`);
  await expect(page.getByRole("heading", { name: "Orders" })).toBeVisible();
  await page.getByLabel("Quantity").fill(String(quantity));
  await page.getByRole("button", { name: "Place new subscription" }).click();
  const id = page.getByTestId("created-request-id");
  await expect(id).toBeVisible();
  return (await id.textContent())!.trim();
}

function taskRow(page: Page, orderId: string) {
  return page.locator(`[data-testid="task-row"][data-order-id="${orderId}"]`);
}

test("orders arrive as tasks by Check Changes and by push; ignore and un-ignore; all in the Action Log", async ({ page }) => {
  // 1. an order placed before the plugin is installed: only the marketplace API knows it
  await page.goto(`${PORTAL}/marketplace/orders?account=${ACCOUNT}`);
  await expect(page.getByText("Sage Integration not installed yet")).toBeVisible();
  const before = await placeOrder(page, 3);

  // 2. install, authorize Sage, settings: notify about all tasks
  await launchTopLevel(page, ACCOUNT);
  await installAndStartConnect(page);
  await answerConsent(page, "Alex Morgan (1 business)", "Allow");
  await expect(page.getByRole("dialog", { name: "Settings" })).toBeVisible();
  await chooseSetting(page, "Notifications", "All tasks");
  await page.getByRole("button", { name: "Save and open dashboard" }).click();
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await expect(page).toHaveTitle("Dashboard · Sage Connector"); // each page its own title

  // 3. Check Changes (pull) finds the earlier order
  await expect(page.getByTestId("dashboard-count-pending")).toContainText("0");
  await page.getByRole("button", { name: "Check Changes" }).click();
  await expect(page.getByTestId("check-changes-result")).toContainText("1 new task, 0 already known.");
  await expect(page.getByTestId("dashboard-count-pending")).toContainText("1");
  await page.getByRole("button", { name: "Check Changes" }).click();
  await expect(page.getByTestId("check-changes-result")).toContainText("0 new tasks, 1 already known.");

  // 4. an order placed now arrives by push (signed webhook), without Check Changes
  const pushed = await placeOrder(page, 5);
  await expect(page.getByText(/Sage Integration installed/)).toBeVisible();
  await page.goto(`${APP}/dashboard`);
  await page.getByTestId("dashboard-count-pending").click();
  await expect(page).toHaveURL(/\/tasks\?state=pending/);
  await expect(page).toHaveTitle("Tasks · Sage Connector");
  await expect(async () => {
    await page.reload();
    await expect(taskRow(page, pushed)).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await expect(taskRow(page, pushed)).toContainText("pushed");
  await expect(taskRow(page, pushed)).toContainText("Sales");
  await expect(taskRow(page, pushed)).toContainText("5 × ");
  await expect(taskRow(page, before)).toContainText("Check Changes");
  await expect(taskRow(page, before)).toContainText("3 × ");

  // 5. ignore the pushed task (a reason is required)
  await page.getByRole("button", { name: /^All/ }).click();
  await page.getByLabel(`Select ${pushed}`).check();
  await page.getByRole("button", { name: "Ignore…" }).click();
  await expect(page.getByRole("button", { name: "Confirm ignore" })).toBeDisabled();
  await page.getByLabel("Reason for ignoring").fill("Invoiced by hand");
  await page.getByRole("button", { name: "Confirm ignore" }).click();
  await expect(page.getByText("1 task ignored.")).toBeVisible();
  await expect(taskRow(page, pushed).getByTestId("task-state")).toHaveText("Ignored");
  await expect(taskRow(page, pushed).getByTestId("task-reason")).toHaveText("Invoiced by hand");

  // 6. the Ignored filter lists it; un-ignore → pending again
  await page.getByRole("button", { name: /^Ignored/ }).click();
  await expect(page).toHaveURL(/state=ignored/);
  await expect(page.getByTestId("task-row")).toHaveCount(1);
  await page.getByLabel(`Select ${pushed}`).check();
  await page.getByRole("button", { name: "Un-ignore" }).click();
  await expect(page.getByText("1 task un-ignored.")).toBeVisible();
  await expect(page.getByTestId("task-row")).toHaveCount(0);
  await page.getByRole("button", { name: /^Pending/ }).click();
  await expect(taskRow(page, pushed).getByTestId("task-state")).toHaveText("Pending");
  await expect(page.getByTestId("count-pending")).toHaveText("2");

  // 7. search by order id
  await page.getByRole("button", { name: /^All/ }).click();
  await page.getByLabel("Search").fill(before);
  await expect(page.getByTestId("task-row")).toHaveCount(1);
  await expect(taskRow(page, before)).toBeVisible();

  // 8. the Action Log tells the story, newest first
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Action Log", exact: true }).click();
  await expect(page).toHaveTitle("Action Log · Sage Connector");
  const rows = page.getByTestId("action-log-row");
  await expect(rows.first()).toContainText(`Sales task for order ${pushed} un-ignored: pending again`);
  const all = (await rows.allTextContents()).join("\n");
  const steps = [
    `Sales task for order ${pushed} un-ignored: pending again`,
    `Sales task for order ${pushed} ignored: Invoiced by hand`,
    `New Sales task for order ${pushed}`,
    "Check Changes: 0 new tasks, 1 already known.",
    "Check Changes: 1 new task, 0 already known.",
    `New Sales task for order ${before}`,
  ];
  for (const s of steps) expect(all).toContain(s);
  const positions = steps.map((s) => all.indexOf(s));
  expect(positions).toEqual([...positions].sort((a, b) => a - b));
  expect(all).toContain("pushed by the marketplace");
  expect(all).toContain("found by Check Changes");
});
