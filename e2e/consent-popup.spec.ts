import fs from "node:fs";
import path from "node:path";
import { expect, test, type FrameLocator, type Page } from "@playwright/test";
import { APP, E2E_DATA_DIR, PORTAL, SANDBOX, answerConsent, chooseSetting, clickConnectInFrame, installAndChooseCountry } from "./helpers";

/**
 * Issue #11: Sage's sign-in refuses to be framed (the sandbox's consent page sends frame-ancestors
 * 'none' and X-Frame-Options: DENY, as a real identity provider does). Inside the reseller portal's
 * cross-site iframe, Connect to Sage opens consent in a popup; the popup — top level, without the
 * frame's partitioned session — finishes the OAuth round trip with its own binding cookie, tells the
 * frame where to go and closes; the frame continues (settings, dashboard, problem page).
 */

const portalFor = (account: string, name: string) => `${PORTAL}/marketplace/portal?account=${account}&account_name=${encodeURIComponent(name)}&user=${encodeURIComponent(`admin@${account.toLowerCase()}.test`)}`;
const frameOf = (page: Page) => page.frameLocator('iframe[title="Sage Integration"]');
const alertOf = (surface: Page | FrameLocator) => surface.locator('[role="alert"]:not(#__next-route-announcer__)');

test("in the portal iframe, Connect to Sage opens Sage's consent in a popup; Allow closes it and the frame carries on to settings and a connected dashboard", async ({ page }) => {
  await page.goto(portalFor("RES-6101", "Popup Reseller"));
  const app = frameOf(page);
  await installAndChooseCountry(app);

  const popup = await clickConnectInFrame(page, app);
  // a real popup (top level, sized for a sign-in), on the sandbox's Sage consent page — not in the frame
  expect(new URL(popup.url()).origin).toBe(SANDBOX);
  expect(await popup.evaluate(() => ({ top: window.top === window.self, opener: !!window.opener }))).toMatchObject({ top: true, opener: true });
  await expect(popup.getByRole("button", { name: "Allow" })).toBeVisible();
  await expect(app.getByTestId("consent-popup-status")).toContainText("Sage's sign-in opened in a new window");
  expect(page.frames().some((f) => f.url().startsWith(SANDBOX))).toBe(false);
  // the popup flow's own first-party cookie binds this browser to the sign-in (the framed session is partitioned)
  expect((await popup.context().cookies()).filter((c) => c.name === "sc.consent-binding")).toMatchObject([{ httpOnly: true, sameSite: "Lax", path: "/connect/sage/callback" }]);

  const closed = popup.waitForEvent("close");
  await answerConsent(popup, "Alex Morgan (1 business)", "Allow");
  await closed;

  // the frame went where the top-level flow would have: the settings wizard, then the dashboard
  await expect(app.getByRole("dialog", { name: "Settings" })).toBeVisible();
  await chooseSetting(app, "Downgrades", "Quantity changes only");
  await app.getByRole("button", { name: "Save and open dashboard" }).click();
  await expect(app.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await expect(app.getByTestId("connection-status")).toHaveText("Connected");
  await expect(app.getByTestId("connection-business")).toContainText("Morgan Digital Ltd");
  await expect(app.getByText("Popup Reseller (RES-6101)")).toBeVisible();
  // the binding was single use: the callback cleared it
  expect((await page.context().cookies()).filter((c) => c.name === "sc.consent-binding")).toEqual([]);

  // reconnect from the frame (Connect page again): the same business keeps everything, dashboard straight away
  await page.goto(portalFor("RES-6101", "Popup Reseller"));
  await expect(app.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await app.locator("body").evaluate(() => window.location.assign("/connect"));
  await expect(app.getByRole("heading", { name: "Connect your Sage account" })).toBeVisible();
  await app.getByLabel("Country of your Sage business").selectOption({ label: "United Kingdom" });
  const again = await clickConnectInFrame(page, app);
  const againClosed = again.waitForEvent("close");
  await answerConsent(again, "Alex Morgan (1 business)", "Allow");
  await againClosed;
  await expect(app.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  const log = await app.locator("body").evaluate(async () => (await (await fetch("/api/action-log?limit=20")).json()).entries as { message: string; actorLabel: string }[]);
  // done in the popup without the frame's session, yet logged as the reseller admin who clicked in the frame
  const reconnected = log.filter((e) => e.message === "Sage Business Cloud Accounting reconnected");
  expect(reconnected).toHaveLength(1);
  expect(reconnected[0]!.actorLabel).toContain("<admin@res-6101.test>");
});

test("closing the popup without finishing says so and offers to try again; a Deny in the popup lands the frame on the problem page", async ({ page }) => {
  await page.goto(portalFor("RES-6102", "Popup Closer"));
  const app = frameOf(page);
  await installAndChooseCountry(app);

  const first = await clickConnectInFrame(page, app);
  await first.close();
  await expect(app.getByTestId("consent-popup-status")).toHaveText("The Sage window was closed before the connection was finished. Nothing was changed.");
  await expect(app.getByRole("heading", { name: "Connect your Sage account" })).toBeVisible();

  // Try again opens a new popup (the country is still chosen)
  const second = await clickConnectInFrame(page, app, "Try again");
  const closed = second.waitForEvent("close");
  await answerConsent(second, "Alex Morgan (1 business)", "Deny");
  await closed;
  await expect(app.getByRole("heading", { name: "Sage access was not granted" })).toBeVisible();
  await expect(alertOf(app)).toContainText("Nothing was stored.");
});

test("a blocked popup offers “Open Sage sign-in in a new tab”, which finishes the connection the same way", async ({ page }) => {
  // the browser blocks the popup: window.open answers null inside the app's frame
  await page.addInitScript((appOrigin) => {
    if (window.top !== window.self && window.location.origin === appOrigin) window.open = () => null;
  }, APP);
  await page.goto(portalFor("RES-6103", "Popup Blocked"));
  const app = frameOf(page);
  await installAndChooseCountry(app);
  await app.getByRole("button", { name: "Connect to Sage" }).click();
  const link = app.getByRole("link", { name: "Open Sage sign-in in a new tab" });
  await expect(link).toBeVisible();
  const opened = page.context().waitForEvent("page");
  await link.click();
  const tab = await opened;
  await tab.waitForURL(`${SANDBOX}/sage/oauth2/auth/central?**`);
  await answerConsent(tab, "Alex Morgan (1 business)", "Allow");
  await expect(app.getByRole("dialog", { name: "Settings" })).toBeVisible();
  await tab.close().catch(() => undefined);
});

test("a stranger's Sage consent URL answered in another browser is refused and connects nothing", async ({ page, browser }) => {
  await page.goto(portalFor("RES-6104", "Popup Stranger"));
  const app = frameOf(page);
  await installAndChooseCountry(app);
  const popup = await clickConnectInFrame(page, app);
  const consentUrl = popup.url();
  await popup.close();
  await expect(app.getByTestId("consent-popup-status")).toContainText("closed before the connection was finished");

  // the victim: another browser, no session of RES-6104, no binding cookie for this sign-in
  const victim = await browser.newContext();
  const tab = await victim.newPage();
  await tab.goto(consentUrl);
  await answerConsent(tab, "Sam Taylor (2 businesses)", "Allow");
  await expect(tab.getByRole("heading", { name: "Sign in to finish connecting Sage" })).toBeVisible();
  await victim.close();
  // the stranger's tenant got nothing
  await page.goto(portalFor("RES-6104", "Popup Stranger"));
  await expect(app.getByRole("heading", { name: "Connect your Sage account" }).or(app.getByRole("heading", { name: "Dashboard" }))).toBeVisible();
  const connection = await app.locator("body").evaluate(async () => (await (await fetch("/api/connection")).json()).connection);
  expect(connection).toBeNull();
});

test("the popup page refuses to start Sage's sign-in when not opened by the Connect page (a link someone sent)", async ({ page }) => {
  await page.goto(`${APP}/connect/popup`);
  await expect(alertOf(page)).toContainText("it was not opened from there");
  expect(page.url()).toBe(`${APP}/connect/popup`);
  // opened by another site's page: it never hears from the popup, so it cannot hand it a ticket
  await page.goto(`${PORTAL}/marketplace/store`);
  const opened = page.waitForEvent("popup");
  await page.evaluate((url) => void window.open(url, "x", "popup"), `${APP}/connect/popup`);
  const popup = await opened;
  await expect(alertOf(popup)).toContainText("No sign-in was handed to this window", { timeout: 25_000 });
  expect(new URL(popup.url()).origin).toBe(APP);
});

test("the sandbox's Sage consent page refuses to be framed: frame-ancestors 'none', X-Frame-Options DENY, and a frame pointed at it does not render it", async ({ page, request }) => {
  const clientId = fs.readFileSync(path.join(E2E_DATA_DIR, "sage-client.id"), "utf8").trim();
  const consent = `${SANDBOX}/sage/oauth2/auth/central?filter=apiv3.1&client_id=${encodeURIComponent(clientId)}&response_type=code&redirect_uri=${encodeURIComponent(`${APP}/oauth2redirect`)}&scope=full_access&state=framing-test`;
  const res = await request.get(consent);
  expect(res.status()).toBe(200);
  expect(await res.text()).toContain("Allow");
  expect(res.headers()["content-security-policy"]).toBe("frame-ancestors 'none'");
  expect(res.headers()["x-frame-options"]).toBe("DENY");
  // its error pages too
  const error = await request.get(`${SANDBOX}/sage/oauth2/auth/central?client_id=nobody`);
  expect(error.status()).toBe(400);
  expect(error.headers()["content-security-policy"]).toBe("frame-ancestors 'none'");

  // a page (the portal's own site) that frames the consent page: the browser refuses to render it
  await page.goto(`${PORTAL}/marketplace/store`);
  const answered = page.waitForResponse((r) => r.url().startsWith(`${SANDBOX}/sage/oauth2/auth/central`));
  await page.evaluate((src) => {
    const frame = document.createElement("iframe");
    frame.title = "framed consent";
    frame.src = src;
    document.body.appendChild(frame);
  }, consent);
  expect((await answered).status()).toBe(200); // Sage answered; the browser would not show it
  await page.waitForTimeout(1_000);
  const framed = page.frames().find((f) => f !== page.mainFrame());
  expect(framed).toBeDefined();
  expect(framed!.url()).not.toBe(consent);
  await expect(page.frameLocator('iframe[title="framed consent"]').getByRole("button", { name: "Allow" })).toHaveCount(0);
  // top level, the same page renders
  await page.goto(consent);
  await expect(page.getByRole("button", { name: "Allow" })).toBeVisible();
});
