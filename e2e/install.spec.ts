import { expect, test } from "@playwright/test";
import { APP, PORTAL, SANDBOX, answerConsent, chooseSetting, clickConnectInFrame, installAndChooseCountry, installAndStartConnect, launchTopLevel, mintLaunchToken } from "./helpers";

test("top level: store → Install now → sign in → authorize Sage → settings → dashboard → Action Log", async ({ page }) => {
  await page.goto(`${PORTAL}/marketplace/store`);
  await page.getByRole("link", { name: "Install now" }).click();

  await expect(page).toHaveURL(/\/login\?callbackUrl=/);
  await page.getByLabel("E-mail").fill("admin@northwind.test");
  await page.getByLabel("Password").fill("northwind-demo");
  await page.getByRole("button", { name: "Sign in" }).click();

  await installAndChooseCountry(page);
  // the chosen product says what the connector can do in it
  const offered = page.getByTestId("capability-table");
  await expect(offered).toContainText("What the connector can do in Sage Business Cloud Accounting (one API call per record)");
  await expect(offered.locator('tr[data-kind="credit_notes"] td').nth(1)).toHaveAttribute("aria-label", "yes");
  await page.getByRole("button", { name: "Connect to Sage" }).click();
  await expect(page).toHaveURL(/\/sage\/oauth2\/auth\/central/);
  await answerConsent(page, "Alex Morgan (1 business)", "Allow");

  // back through /oauth2redirect → callback → the Settings window
  await expect(page.getByRole("dialog", { name: "Settings" })).toBeVisible();
  await chooseSetting(page, "Price and description source", "Sage");
  await chooseSetting(page, "Auto-sync", "Once a day");
  await chooseSetting(page, "Invoices", "Customer's latest open invoice");
  await page.getByRole("button", { name: "Save and open dashboard" }).click();

  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await expect(page.getByTestId("connection-status")).toHaveText("Connected");
  await expect(page.getByTestId("connection-business")).toContainText("Morgan Digital Ltd");

  // the gear opens Settings again, with the saved values
  await page.getByRole("link", { name: "Settings" }).click();
  await expect(page.getByRole("dialog", { name: "Settings" })).toBeVisible();
  await expect(page.getByRole("group", { name: "Auto-sync" }).getByLabel("Once a day")).toBeChecked();
  await expect(page.getByRole("group", { name: "Price and description source" }).getByLabel("Sage", { exact: true })).toBeChecked();
  // what syncs to the connected product: the same table the sync checks
  const caps = page.getByTestId("capability-table");
  await expect(caps).toContainText("Sales credit notes");
  await expect(caps.locator('tr[data-kind="invoices"] td').nth(1)).toHaveAttribute("aria-label", "yes");
  await expect(caps.locator('tr[data-kind="allocations"] td').nth(2)).toHaveAttribute("aria-label", "no");
  await expect(page.getByTestId("redirect-url")).toHaveText(`${APP}/oauth2redirect`);
  await page.getByRole("button", { name: "Validate redirect URL" }).click();
  await expect(page.getByText("Redirect URL works")).toBeVisible();

  // settings persist after a reload, and a second change is logged old → new
  await chooseSetting(page, "Auto-sync", "Every 5 minutes");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByText("Settings saved (1 changed).")).toBeVisible();
  await page.reload();
  await expect(page.getByRole("group", { name: "Auto-sync" }).getByLabel("Every 5 minutes")).toBeChecked();

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Action Log", exact: true }).click();
  const rows = page.getByTestId("action-log-row");
  await expect(rows.first()).toContainText("Settings changed: Auto-sync: Once a day → Every 5 minutes");
  await expect(rows.first()).toContainText("Nora Admin");
  const all = (await rows.allTextContents()).join("\n");
  expect(all).toContain("Price and description source: Marketplace → Sage");
  expect(all).toContain("Sage business selected: Morgan Digital Ltd");
  expect(all).toContain("Sage Business Cloud Accounting authorized");
  expect(all).toContain("Sage Integration installed from Demo Reseller Marketplace");
  // newest first: installed comes after (below) authorized
  expect(all.indexOf("authorized")).toBeLessThan(all.indexOf("installed from"));
});

test("inside the marketplace portal's cross-site iframe: launch → install → authorize → settings → dashboard", async ({ page }) => {
  const response = await page.goto(`${PORTAL}/marketplace/portal?account=RES-2001&account_name=Iframe%20Reseller&user=admin%40res-2001.test`);
  expect(response!.ok()).toBe(true);
  const app = page.frameLocator('iframe[title="Sage Integration"]');

  // Sage's sign-in refuses to be framed: consent opens in a popup and the frame continues afterwards
  await installAndChooseCountry(app);
  const popup = await clickConnectInFrame(page, app);
  const closed = popup.waitForEvent("close");
  await answerConsent(popup, "Alex Morgan (1 business)", "Allow");
  await closed;
  await expect(app.getByRole("dialog", { name: "Settings" })).toBeVisible();
  await chooseSetting(app, "Downgrades", "Quantity changes only");
  await app.getByRole("button", { name: "Save and open dashboard" }).click();
  await expect(app.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await expect(app.getByTestId("connection-status")).toHaveText("Connected");
  await expect(app.getByText("Iframe Reseller (RES-2001)")).toBeVisible();

  // the frame follows the app's own height (postMessage to the portal's exact origin): no fixed
  // 900 px, no second scrollbar inside the frame
  const frame = page.locator('iframe[title="Sage Integration"]');
  await expect(frame).toHaveAttribute("data-resized", "true");
  await expect
    .poll(async () => {
      const inner = await app.locator("html").evaluate((html) => ({ scroll: html.scrollHeight, client: html.clientHeight, body: Math.ceil(document.body.getBoundingClientRect().height) }));
      const outer = await frame.evaluate((f) => (f as HTMLIFrameElement).clientHeight);
      return { noInnerScrollbar: inner.scroll <= inner.client, fitsContent: outer === inner.body };
    })
    .toEqual({ noInnerScrollbar: true, fitsContent: true });
  expect(await frame.evaluate((f) => (f as HTMLIFrameElement).clientHeight)).not.toBe(900);

  // the session lives in a partitioned, cross-site cookie
  const cookies = await page.context().cookies(APP);
  const session = cookies.find((c) => c.name === "sc.session");
  expect(session).toMatchObject({ sameSite: "None", secure: true, httpOnly: true });
});

test("the app may be framed only by the marketplace origin, sends no X-Frame-Options, and its session cookie is partitioned", async ({ request }) => {
  const res = await request.get(`${APP}/login`);
  const csp = res.headers()["content-security-policy"] ?? "";
  expect(csp).toContain(`frame-ancestors 'self' ${PORTAL}`);
  expect(csp).not.toContain("*");
  expect(res.headers()["x-frame-options"]).toBeUndefined();

  const launch = await request.get(`${APP}/launch?token=${await mintLaunchToken("RES-2010")}`, { maxRedirects: 0 });
  expect(launch.status()).toBe(307);
  const setCookie = launch.headersArray().filter((h) => h.name.toLowerCase() === "set-cookie").map((h) => h.value).find((v) => v.startsWith("sc.session="));
  expect(setCookie).toBeDefined();
  expect(setCookie).toMatch(/; Secure/i);
  expect(setCookie).toMatch(/; SameSite=None/i);
  expect(setCookie).toMatch(/; Partitioned/i);
  expect(setCookie).toMatch(/; HttpOnly/i);
});

test("Deny on the consent page: a clear message, nothing stored, and retry works", async ({ page }) => {
  await launchTopLevel(page, "RES-2002");
  await installAndStartConnect(page);
  await answerConsent(page, "Alex Morgan (1 business)", "Deny");
  await expect(page.getByRole("heading", { name: "Sage access was not granted" })).toBeVisible();
  await expect(page.getByRole("alert").filter({ hasText: "Deny" })).toContainText("Nothing was stored");

  await page.goto(`${APP}/dashboard`);
  await expect(page.getByText("No Sage account is connected yet.")).toBeVisible();

  await page.goto(`${APP}/connect/problem?reason=denied`);
  await page.getByRole("link", { name: "Try again" }).click();
  await page.getByLabel("Country of your Sage business").selectOption({ label: "United Kingdom" });
  await page.getByRole("button", { name: "Connect to Sage" }).click();
  await answerConsent(page, "Alex Morgan (1 business)", "Allow");
  await expect(page.getByRole("dialog", { name: "Settings" })).toBeVisible();
});

test("a tampered state gets 400 at /oauth2redirect and a replayed one an error page with a retry link", async ({ page }) => {
  await launchTopLevel(page, "RES-2003");
  await installAndStartConnect(page);
  await page.waitForURL(/\/sage\/oauth2\/auth\/central/);
  const consentUrl = page.url();
  const state = new URL(consentUrl).searchParams.get("state")!;
  const [h, p, s] = state.split(".");
  const claims = JSON.parse(Buffer.from(p!, "base64url").toString());
  const tampered = [h, Buffer.from(JSON.stringify({ ...claims, tenant: "00000000-0000-0000-0000-000000000000" })).toString("base64url"), s].join(".");
  const res = await page.goto(`${APP}/oauth2redirect?code=abc&state=${encodeURIComponent(tampered)}`);
  expect(res!.status()).toBe(400);
  await expect(page.getByRole("alert")).toContainText("not valid");
  await expect(page.getByRole("link", { name: "Start the connection again" })).toBeVisible();

  // complete one real authorization, then replay Sage's answer
  await page.goto(consentUrl);
  let callbackUrl = "";
  page.on("request", (r) => {
    if (r.url().includes("/connect/sage/callback")) callbackUrl = r.url();
  });
  await answerConsent(page, "Alex Morgan (1 business)", "Allow");
  await expect(page.getByRole("dialog", { name: "Settings" })).toBeVisible();
  expect(callbackUrl).not.toBe("");
  await page.goto(callbackUrl);
  await expect(page.getByRole("heading", { name: "This answer from Sage was already used" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Try again" })).toBeVisible();
});

test("a Sage user with two businesses picks one", async ({ page }) => {
  await launchTopLevel(page, "RES-2004");
  await installAndStartConnect(page);
  await answerConsent(page, "Sam Taylor (2 businesses)", "Allow");
  await expect(page.getByRole("heading", { name: "Choose your Sage business" })).toBeVisible();
  const options = page.getByRole("radio");
  await expect(options).toHaveCount(2);
  const second = (await page.locator("label", { has: page.getByRole("radio") }).nth(1).textContent())!;
  await options.nth(1).check();
  await page.getByRole("button", { name: "Use this business" }).click();
  await expect(page.getByRole("dialog", { name: "Settings" })).toBeVisible();
  await page.getByRole("button", { name: "Save and open dashboard" }).click();
  const businessName = second.replace(/(GB|IE|US|CA|DE|ES|FR)$/i, "").trim();
  await expect(page.getByTestId("connection-business")).toContainText(businessName);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Action Log", exact: true }).click();
  await expect(page.getByTestId("action-log-row").first()).toContainText("Settings confirmed");
  await expect(page.getByTestId("action-log-row").nth(1)).toContainText(`Sage business selected: ${businessName}`);
});

test("launch tokens: reused, expired or badly signed → 401 page inside the iframe", async ({ page, request }) => {
  await page.goto(`${PORTAL}/marketplace/portal?account=RES-2005&user=admin%40res-2005.test`);
  const src = await page.locator('iframe[title="Sage Integration"]').getAttribute("src");
  await expect(page.frameLocator('iframe[title="Sage Integration"]').getByRole("heading", { name: "Install Sage Integration" })).toBeVisible();

  const reused = await request.get(src!, { maxRedirects: 0 });
  expect(reused.status()).toBe(401);
  expect(await reused.text()).toContain("already used");

  const expired = await request.get(`${APP}/launch?token=${await mintLaunchToken("RES-2005", { iatOffset: -900 })}`, { maxRedirects: 0 });
  expect(expired.status()).toBe(401);
  expect(await expired.text()).toContain("expired");

  const good = await mintLaunchToken("RES-2005");
  const [head, body] = good.split(".");
  const forged = await request.get(`${APP}/launch?token=${head}.${body}.AAAA`, { maxRedirects: 0 });
  expect(forged.status()).toBe(401);

  // and inside the portal's iframe the reseller sees the 401 page
  await page.route(`${APP}/launch**`, (route) => route.continue({ url: src! }));
  await page.goto(`${PORTAL}/marketplace/portal?account=RES-2005&user=admin%40res-2005.test`);
  await expect(page.frameLocator('iframe[title="Sage Integration"]').getByText("already used")).toBeVisible();
});

test("Test connection refreshes an expired token; a refused refresh shows the Reconnect banner; Reconnect restores it", async ({ page }) => {
  const control = (path: string) => fetch(`${SANDBOX}/__sandbox/${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
  await launchTopLevel(page, "RES-2006");
  await installAndStartConnect(page);
  await answerConsent(page, "Alex Morgan (1 business)", "Allow");
  await page.getByRole("button", { name: "Save and open dashboard" }).click();
  await expect(page.getByTestId("connection-status")).toHaveText("Connected");

  // Sage's access token expired: the test refreshes it (rotating the refresh token) and passes
  await control("sage/expire-access-tokens");
  await page.getByRole("button", { name: "Test connection" }).click();
  await expect(page.getByTestId("connection-last-event")).toContainText("Connection test passed: signed in to Sage as Alex Morgan, business Morgan Digital Ltd");

  // Sage refuses the refresh token: reconnect required, banner, nothing else possible until Reconnect
  await control("sage/revoke-refresh-tokens");
  await control("sage/expire-access-tokens");
  await page.getByRole("button", { name: "Test connection" }).click();
  const banner = page.getByRole("alert").filter({ hasText: "Reconnect to authorize Sage again" });
  await expect(banner).toBeVisible();
  await expect(page.getByTestId("connection-status")).toHaveText("Reconnect required");

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Action Log", exact: true }).click();
  await expect(page.getByTestId("action-log-row").first()).toContainText("Reconnect required");
  const log = (await page.getByTestId("action-log-row").allTextContents()).join("\n");
  expect(log).toContain("Reconnect required");
  expect(log).toContain("Sage access token refreshed");

  await page.goto(`${APP}/dashboard`);
  await banner.getByRole("link", { name: "Reconnect" }).click();
  await page.getByLabel("Country of your Sage business").selectOption({ label: "United Kingdom" });
  await page.getByRole("button", { name: "Connect to Sage" }).click();
  await answerConsent(page, "Alex Morgan (1 business)", "Allow");
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await expect(page.getByTestId("connection-status")).toHaveText("Connected");
  await expect(banner).toHaveCount(0);

  // Disconnect: a confirmation says what happens; then paused with a banner; Connect again resumes
  await page.getByRole("button", { name: "Disconnect…" }).click();
  const confirm = page.getByRole("alertdialog", { name: "Disconnect from Sage?" });
  await expect(confirm).toContainText("Mappings, tasks and the Action Log are kept");
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByTestId("connection-status")).toHaveText("Connected");
  await page.getByRole("button", { name: "Disconnect…" }).click();
  await page.getByRole("button", { name: "Disconnect now" }).click();
  await expect(page.getByTestId("connection-status")).toHaveText("Disconnected");
  await expect(page.getByTestId("disconnected-banner")).toContainText("syncs are paused");
  await expect(page.getByRole("button", { name: "Test connection" })).toHaveCount(0);
  await page.getByTestId("disconnected-banner").getByRole("link", { name: "Connect again" }).click();
  await page.getByLabel("Country of your Sage business").selectOption({ label: "United Kingdom" });
  await page.getByRole("button", { name: "Connect to Sage" }).click();
  await answerConsent(page, "Alex Morgan (1 business)", "Allow");
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await expect(page.getByTestId("connection-status")).toHaveText("Connected");
  await expect(page.getByTestId("connection-business")).toContainText("Morgan Digital Ltd");
});
