import { expect, test } from "@playwright/test";
import { APP, SANDBOX, answerConsent, installAndStartConnect, launchTopLevel, placeSubscriptionFor, progressDone, taskRow } from "./helpers";

/**
 * Issue #13, the re-sync guard tried as a reseller would: a tenant that synced into one Sage business
 * changes to another — no customer has a Sage contact id there. Instead of uploading every contact
 * again, the dashboard shows the check of the new business's contacts and what a re-sync would do;
 * nothing is created until the reseller confirms; then each missing contact is created exactly once.
 */

const ACCOUNT = "RES-9711";
const FIRST = "Taylor & Co Services Ltd";
const SECOND = "Taylor Cloud Ireland Ltd";

type SandboxContact = { name: string; contact_types?: { id: string }[] };

async function customerContacts(businessKey: string): Promise<string[]> {
  const state = (await (await fetch(`${SANDBOX}/__sandbox/state?business=${businessKey}`)).json()) as { contacts: SandboxContact[] };
  return state.contacts.filter((c) => (c.contact_types ?? []).some((t) => t.id === "CUSTOMER")).map((c) => c.name).sort();
}

test("a change of business opens a re-sync review: progress, what it would do, nothing created until the reseller confirms, then each contact once", async ({ page }) => {
  test.setTimeout(180_000);
  await launchTopLevel(page, ACCOUNT);
  await installAndStartConnect(page);
  await answerConsent(page, "Sam Taylor (2 businesses)", "Allow");
  await page.getByLabel(FIRST).check();
  await page.getByRole("button", { name: "Use this business" }).click();
  await expect(page.getByRole("dialog", { name: "Settings" })).toBeVisible();
  await page.getByRole("button", { name: "Save and open dashboard" }).click();
  await expect(page.getByTestId("connection-business")).toContainText(FIRST);
  // no review for a tenant that never synced
  await expect(page.getByTestId("resync-review")).toHaveCount(0);

  // synced once into the first business
  await page.getByRole("link", { name: "Mapping", exact: true }).click();
  await expect(page.getByTestId("product-total")).toHaveText("9 products", { timeout: 30_000 });
  await page.getByRole("button", { name: "Auto-match", exact: true }).click();
  // (other specs add items to this seeded business: how many match depends on them; M365-BASIC-M matches by item code)
  await expect(page.getByTestId("mapping-notice")).toContainText(/Auto-match: \d+ of 9 unmapped products mapped/);
  const orderId = (await placeSubscriptionFor(page, ACCOUNT, "Contoso Ltd", "M365-BASIC-M", 2)).requestId;
  await page.goto(`${APP}/tasks`);
  await expect(async () => {
    await page.reload();
    await expect(taskRow(page, orderId)).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await taskRow(page, orderId).getByRole("button", { name: `Sync ${orderId}` }).click();
  expect(await progressDone(page)).toBe("1 of 1 done — 1 synced");
  const secondBefore = await customerContacts("taylor-ie");

  // change to the second business: the mappings to the first are removed, no customer has a contact id there
  await page.goto(`${APP}/connect/business`);
  await page.getByLabel(SECOND).check();
  await page.getByLabel("I understand — change the Sage business").check();
  await page.getByRole("button", { name: "Change business" }).click();
  await expect(page).not.toHaveURL(/\/connect\/business/);
  await page.goto(`${APP}/dashboard`);
  const review = page.getByTestId("resync-review");
  await expect(review).toContainText(`Reconnected to ${SECOND}`);
  // the check ends with what a re-sync would do: nobody matched in the new business, every customer to create
  await expect(review).toContainText(/0 customers matched to existing Sage contacts, (\d+) would be created\./, { timeout: 60_000 });
  const toCreate = Number(/, (\d+) would be created/.exec((await review.textContent())!)![1]);
  expect(toCreate).toBeGreaterThan(0);
  await expect(review.getByRole("group").filter({ hasText: `Would be created (${toCreate})` })).toContainText("Contoso Ltd");
  // nothing was created while it waits
  expect(await customerContacts("taylor-ie")).toEqual(secondBefore);
  // Mapping → Customers (where held orders link) shows the same review
  await page.goto(`${APP}/mapping/customers`);
  await expect(page.getByTestId("resync-review")).toContainText(`${toCreate} would be created`);

  // the reseller confirms: each missing contact is created once
  await page.getByRole("button", { name: `Create the ${toCreate} missing contacts and sync` }).click();
  await expect(page.getByTestId("resync-review")).toContainText("Re-sync done", { timeout: 60_000 });
  const after = await customerContacts("taylor-ie");
  expect(after.length).toBe(secondBefore.length + toCreate);
  expect(new Set(after).size).toBe(after.length); // no name twice
  expect(after).toContain("Contoso Ltd");

  // and the Action Log says so
  await page.goto(`${APP}/action-log`);
  await expect(page.getByTestId("action-log-row").filter({ hasText: `Reconnected to ${SECOND}` }).first()).toBeVisible();
});
