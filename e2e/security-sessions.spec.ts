import { expect, test, type Browser, type BrowserContext, type Page } from "@playwright/test";
import { APP, PORTAL, mintLaunchToken, signInWithPassword } from "./helpers";

/**
 * Issue #9 — sessions, in the browser:
 * (a) signing out ends the session itself: a copy of the session cookie stops working;
 * (b) login CSRF: a marketplace launch for another user does not replace the signed-in user's
 *     session until the person says so ("Switch user?"), and "Stay signed in" keeps it;
 * (c) the launch inside the marketplace portal's cross-site iframe still works as before;
 * (d) the sign-in rate limit, as the login form shows it.
 *
 * Failed sign-ins count against the client address for 15 minutes: this file makes 6, with an
 * e-mail address nobody else uses.
 */

const NORTHWIND = { email: "admin@northwind.test", password: "northwind-demo", name: "Nora Admin" };

/** The page's alerts, without Next's route announcer (also role="alert"). */
const alertOf = (page: Page) => page.locator('[role="alert"]:not(#__next-route-announcer__)');

const sessionCookies = async (ctx: BrowserContext) => (await ctx.cookies(APP)).filter((c) => c.name.startsWith("sc.session"));

/** A second browser context holding a copy of `ctx`'s session cookie. */
async function copySession(browser: Browser, ctx: BrowserContext): Promise<BrowserContext> {
  const cookies = await sessionCookies(ctx);
  expect(cookies.length).toBeGreaterThan(0);
  const copy = await browser.newContext();
  await copy.addCookies(cookies);
  return copy;
}

type LogEntry = { tenantId: string; message: string };

/** Who the session in `ctx` is, as the app answers: the tenant of its Action Log and the name in the header. */
async function whoIsSignedIn(page: Page): Promise<{ tenantId: string; messages: string[]; name: string }> {
  const res = await page.context().request.get(`${APP}/api/action-log?limit=200`);
  expect(res.status()).toBe(200);
  const entries = (await res.json()).entries as LogEntry[];
  await page.goto(`${APP}/dashboard`);
  const name = (await page.getByRole("navigation", { name: "Main" }).locator("span[title]").textContent())!.trim();
  return { tenantId: entries[0]!.tenantId, messages: entries.map((e) => e.message), name };
}

test("sign-out ends the session: a copied session cookie gets 401 and the login page", async ({ browser }) => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signInWithPassword(page, NORTHWIND.email, NORTHWIND.password);
  const copy = await copySession(browser, ctx);
  // the copy is a working session before the sign-out …
  expect((await copy.request.get(`${APP}/api/tasks`)).status()).toBe(200);

  await page.goto(`${APP}/dashboard`);
  await page.getByRole("navigation", { name: "Main" }).getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);

  // … and not after it, although the cookie itself is still valid and unexpired
  expect(await sessionCookies(copy)).not.toEqual([]);
  const res = await copy.request.get(`${APP}/api/tasks`);
  expect(res.status()).toBe(401);
  const copyPage = await copy.newPage();
  await copyPage.goto(`${APP}/dashboard`);
  await expect(copyPage).toHaveURL(/\/login\?callbackUrl=%2Fdashboard/);
  await expect(copyPage.getByRole("heading", { name: "Sign in to Sage Connector" })).toBeVisible();
  await Promise.all([ctx.close(), copy.close()]);
});

test("login CSRF: a launch for another user asks first; nothing changes until Continue; Stay keeps the session", async ({ browser }) => {
  const account = "RES-5302";
  const launchUser = `admin@${account.toLowerCase()}.test`;
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signInWithPassword(page, NORTHWIND.email, NORTHWIND.password);
  const northwind = await whoIsSignedIn(page);
  expect(northwind.name).toBe(NORTHWIND.name);
  expect(northwind.messages).toContain("Demo reseller account created");
  const northwindCopy = await copySession(browser, ctx);

  const token = await mintLaunchToken(account);
  await test.step("the launch shows “Switch user?” naming both users, and the session is still Northwind's", async () => {
    await page.goto(`${APP}/launch?token=${token}`);
    await expect(page).toHaveURL(/\/launch\/switch\?token=/);
    await expect(page.getByRole("heading", { name: "Switch user?" })).toBeVisible();
    const question = alertOf(page);
    await expect(question).toContainText(`You are signed in as ${NORTHWIND.email}`);
    await expect(question).toContainText(`signs you in as ${launchUser}`);
    await expect(page.getByRole("button", { name: `Continue as ${launchUser}` })).toBeVisible();
    expect((await ctx.request.get(`${APP}/api/tasks`)).status()).toBe(200);
    expect(await whoIsSignedIn(page)).toEqual(northwind);
  });

  await test.step("“Stay signed in” keeps Northwind (and does not use up the launch)", async () => {
    await page.goto(`${APP}/launch?token=${token}`);
    await page.getByRole("link", { name: `Stay signed in as ${NORTHWIND.email}` }).click();
    await expect(page).not.toHaveURL(/\/launch/);
    await expect(page.getByRole("navigation", { name: "Main" })).toContainText(NORTHWIND.name);
    expect(await whoIsSignedIn(page)).toEqual(northwind);
  });

  await test.step("“Continue as …” switches: the session is the new user's, and Northwind's session ended", async () => {
    await page.goto(`${APP}/launch?token=${token}`);
    await expect(page.getByRole("heading", { name: "Switch user?" })).toBeVisible();
    await page.getByRole("button", { name: `Continue as ${launchUser}` }).click();
    await expect(page.getByRole("heading", { name: "Install Sage Integration" })).toBeVisible();
    await expect(page.getByText(`<${launchUser}>`)).toBeVisible();
    const now = await whoIsSignedIn(page);
    expect(now.name).toBe(`Admin ${account}`);
    expect(now.tenantId).not.toBe(northwind.tenantId);
    expect(now.messages).not.toContain("Demo reseller account created");
    // the switch ended the previous user's session everywhere (it was not just overwritten here)
    expect((await northwindCopy.request.get(`${APP}/api/tasks`)).status()).toBe(401);
  });
  await Promise.all([ctx.close(), northwindCopy.close()]);
});

test("inside the marketplace portal's iframe the launch still works, next to another user's top-level session", async ({ browser }) => {
  const account = "RES-5303";
  const user = `admin@${account.toLowerCase()}.test`;
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signInWithPassword(page, NORTHWIND.email, NORTHWIND.password);

  const portal = `${PORTAL}/marketplace/portal?account=${account}&account_name=Iframe%20Security&user=${encodeURIComponent(user)}`;
  await page.goto(portal);
  const app = page.frameLocator('iframe[title="Sage Integration"]');
  // the iframe's cookies are partitioned by the portal's site: no "Switch user?" there, the launch signs in
  await expect(app.getByRole("heading", { name: "Install Sage Integration" })).toBeVisible();
  await expect(app.getByText(`<${user}>`)).toBeVisible();
  await expect(app.getByRole("heading", { name: "Switch user?" })).toHaveCount(0);
  // a server action inside the cross-site iframe is accepted
  await app.getByRole("button", { name: "Continue" }).click();
  await expect(app.getByRole("heading", { name: "Connect your Sage account" })).toBeVisible();
  // the next launch of the same user in the iframe: straight in
  await page.goto(portal);
  await expect(app.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await expect(app.getByText(`Iframe Security (${account})`)).toBeVisible();

  // the top-level session was not touched
  await page.goto(`${APP}/dashboard`);
  await expect(page.getByRole("navigation", { name: "Main" })).toContainText(NORTHWIND.name);
  await ctx.close();
});

test("sign-in rate limit: after five wrong passwords for one e-mail the sixth try is refused as too many", async ({ page }) => {
  const email = `nobody-${Date.now().toString(36)}@security-sessions.test`;
  await page.goto(`${APP}/login`);
  for (let attempt = 1; attempt <= 6; attempt++) {
    await page.getByLabel("E-mail").fill(email);
    await page.getByLabel("Password").fill(`wrong-password-${attempt}`);
    const answer = page.waitForResponse((r) => r.request().method() === "POST" && !!r.request().headers()["next-action"]);
    await page.getByRole("button", { name: "Sign in" }).click();
    await answer;
    const alert = alertOf(page);
    if (attempt < 6) await expect(alert).toHaveText("The e-mail address or password is not right.");
    else await expect(alert).toHaveText("Too many failed sign-ins for this e-mail address or network. Wait 15 minutes, then try again.");
  }
  await expect(page).toHaveURL(/\/login/);
});
