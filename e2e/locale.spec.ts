import { expect, test, type Browser, type BrowserContext, type Page } from "@playwright/test";
import { APP, PORTAL, answerConsent, installAndStartConnect, launchTopLevel } from "./helpers";

/**
 * Dates, numbers and money follow the browser's language (Accept-Language), times its time zone:
 * a UK browser reads day/month/year on a 24-hour clock, a US browser month/day/year with AM/PM, a
 * German one 25,00 £ — on the Action Log, the Tasks page and the dashboard (which is server-rendered
 * and hydrated: the text must match, no hydration error), with <html lang> the locale.
 *
 * The expected strings are built here from the row's ISO timestamp (its title) by hand, not with the
 * app's formatter, so a wrong pattern fails.
 */

const ACCOUNT = "RES-7401";

type Clock = { year: string; month: number; day: number; hour: number; minute: string; second: string };

/** The wall clock at `iso` in `timeZone` (numbers only; the test assembles each locale's pattern itself). */
function wallClock(iso: string, timeZone: string): Clock {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }).formatToParts(new Date(iso));
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return { year: get("year"), month: Number(get("month")), day: Number(get("day")), hour: Number(get("hour")), minute: get("minute"), second: get("second") };
}
const two = (n: number) => String(n).padStart(2, "0");
/** en-GB: 03/12/2026, 14:05(:09) */
function ukDateTime(iso: string, timeZone: string, seconds: boolean) {
  const c = wallClock(iso, timeZone);
  return `${two(c.day)}/${two(c.month)}/${c.year}, ${two(c.hour)}:${c.minute}${seconds ? `:${c.second}` : ""}`;
}
/** en-US: 12/3/2026, 2:05(:09) PM */
function usDateTime(iso: string, timeZone: string, seconds: boolean) {
  const c = wallClock(iso, timeZone);
  return `${c.month}/${c.day}/${c.year}, ${usTime(c, seconds)}`;
}
function usTime(c: Clock, seconds: boolean) {
  return `${c.hour % 12 === 0 ? 12 : c.hour % 12}:${c.minute}${seconds ? `:${c.second}` : ""} ${c.hour < 12 ? "AM" : "PM"}`;
}

/** Console errors and uncaught page errors (a hydration mismatch is reported as one of them). */
function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    // the browser's own favicon request (none is served) is no page error
    if (m.text().startsWith("Failed to load resource") && /\/favicon\.ico$/.test(m.location().url)) return;
    errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

async function browserFor(browser: Browser, locale: string, timezoneId: string): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ locale, timezoneId });
  const page = await context.newPage();
  return { context, page, errors: collectErrors(page) };
}

async function placeOrder(page: Page, quantity: number): Promise<string> {
  await page.goto(`${PORTAL}/marketplace/orders?account=${ACCOUNT}`);
  await expect(page.getByRole("heading", { name: "Orders" })).toBeVisible();
  await page.getByLabel("Quantity").fill(String(quantity));
  await page.getByRole("button", { name: "Place new subscription" }).click();
  const id = page.getByTestId("created-request-id");
  await expect(id).toBeVisible();
  return (await id.textContent())!.trim();
}

/** The first Action Log row's date cell and its ISO timestamp. */
async function firstLogDate(page: Page) {
  await page.goto(`${APP}/action-log`);
  const cell = page.getByTestId("action-log-row").first().getByTestId("action-log-at");
  await expect(cell).toBeVisible();
  return { cell, iso: (await cell.getAttribute("title"))! };
}

async function taskCreated(page: Page, orderId: string) {
  await page.goto(`${APP}/tasks`);
  const cell = page.locator(`[data-testid="task-row"][data-order-id="${orderId}"]`).getByTestId("task-created");
  await expect(cell).toBeVisible();
  return { cell, iso: (await cell.getAttribute("title"))! };
}

test("dates, numbers and money follow the browser's language and time zone, with no hydration error", async ({ browser }) => {
  let orderId = "";

  await test.step("en-GB in London: day/month/year, 24-hour clock", async () => {
    const { context, page, errors } = await browserFor(browser, "en-GB", "Europe/London");
    orderId = await placeOrder(page, 1234); // before the install: it arrives with Check Changes
    await launchTopLevel(page, ACCOUNT);
    await installAndStartConnect(page);
    await answerConsent(page, "Alex Morgan (1 business)", "Allow");
    await expect(page.getByRole("dialog", { name: "Settings" })).toBeVisible();
    await page.getByRole("button", { name: "Save and open dashboard" }).click();
    await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
    await page.getByRole("button", { name: "Check Changes" }).click();
    await expect(page.getByTestId("check-changes-result")).toContainText("1 new task");
    await expect(page.locator("html")).toHaveAttribute("lang", "en-GB");

    const log = await firstLogDate(page);
    expect(log.iso).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    await expect(log.cell).toHaveText(ukDateTime(log.iso, "Europe/London", true));

    const task = await taskCreated(page, orderId);
    await expect(task.cell).toHaveText(ukDateTime(task.iso, "Europe/London", false));
    // the item's quantity in the locale's digits
    await expect(page.locator(`[data-testid="task-row"][data-order-id="${orderId}"]`)).toContainText("1,234 × ");

    expect(errors, "no console error (a hydration mismatch is one)").toEqual([]);
    await context.close();
  });

  await test.step("en-US in New York: month/day/year, AM/PM, in the browser's own time zone", async () => {
    const { context, page, errors } = await browserFor(browser, "en-US", "America/New_York");
    // the first page is server-rendered before the server knows this browser's time zone:
    // it hydrates with the server's text, then shows New York time
    await launchTopLevel(page, ACCOUNT);
    await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
    await expect(page.locator("html")).toHaveAttribute("lang", "en-US");
    const lastEvent = page.getByTestId("connection-last-event");
    await expect(lastEvent).toHaveText(/\(\d{1,2}:\d{2}:\d{2} [AP]M\)$/);

    const log = await firstLogDate(page);
    await expect(log.cell).toHaveText(usDateTime(log.iso, "America/New_York", true));

    const task = await taskCreated(page, orderId);
    await expect(task.cell).toHaveText(usDateTime(task.iso, "America/New_York", false));

    // now the server knows the time zone (cookie): the server-rendered dashboard is right at once
    const html = await (await page.request.get(`${APP}/dashboard`, { headers: { "Accept-Language": "en-US,en;q=0.9" } })).text();
    expect(html).toContain('<html lang="en-US"');
    await page.goto(`${APP}/dashboard`);
    await expect(lastEvent).toHaveText(/\(\d{1,2}:\d{2}:\d{2} [AP]M\)$/);
    const shown = (await lastEvent.textContent())!.match(/\((.+)\)$/)![1]!;
    expect(html, "the server rendered the time the browser shows").toContain(shown);

    expect(errors, "no console error (a hydration mismatch is one)").toEqual([]);
    await context.close();
  });

  await test.step("de-DE: money with its currency after the amount, German separators", async () => {
    const { context, page, errors } = await browserFor(browser, "de-DE", "Europe/Berlin");
    await launchTopLevel(page, ACCOUNT);
    await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
    await expect(page.locator("html")).toHaveAttribute("lang", "de-DE");
    await page.goto(`${APP}/mapping/products`);
    // the order's customer is known already, so the first visit does not refresh by itself
    await page.getByRole("button", { name: "Refresh from marketplace" }).click();
    await expect(page.getByTestId("marketplace-refreshed")).toContainText("refreshed just now", { timeout: 30_000 });
    await page.reload();
    await expect(page.getByTestId("fee-cancellation")).toContainText("Early cancellation fee (FEE-CANCEL, 25,00\u00a0£)");
    const task = await taskCreated(page, orderId);
    const c = wallClock(task.iso, "Europe/Berlin");
    await expect(task.cell).toHaveText(`${c.day}.${c.month}.${c.year}, ${two(c.hour)}:${c.minute}`);
    await expect(page.locator(`[data-testid="task-row"][data-order-id="${orderId}"]`)).toContainText("1.234 × ");
    expect(errors, "no console error (a hydration mismatch is one)").toEqual([]);
    await context.close();
  });
});

test("a browser that sends no usable Accept-Language gets en-GB", async ({ playwright }) => {
  for (const header of ["", "*", "zz-ZZ, x-klingon"]) {
    const request = await playwright.request.newContext({ extraHTTPHeaders: header ? { "Accept-Language": header } : {} });
    const html = await (await request.get(`${APP}/login`)).text();
    expect(html, JSON.stringify(header)).toContain('<html lang="en-GB"');
    await request.dispose();
  }
});
