import { expect, test, type Browser } from "@playwright/test";
import { APP, mintLaunchToken } from "./helpers";

/**
 * Issue #9: no open redirect. Signing in through /login?callbackUrl=<v> must leave the browser on the
 * app's own origin for every hostile <v> (the tricks browsers read as another host: `\` for `/`,
 * dropped tabs and newlines, encodings, dot segments, absolute URLs, `javascript:`), and no request to
 * evil.test may even be attempted; a legitimate path is honoured. And client-supplied forwarded-host
 * headers never end up in a Location (proxy.ts replaces them with APP_URL's), nor cause a 5xx.
 *
 * One account, correct password only (failed sign-ins are rate limited per address): each case signs
 * in, in a fresh browser context.
 */

const ADMIN = { email: "admin@northwind.test", password: "northwind-demo" };

const HOSTILE: string[] = [
  "/\\evil.test/phish",
  "//evil.test/phish",
  "/\\/evil.test",
  "/\t/evil.test", // a literal tab: browsers drop it and read //evil.test
  "/%09/evil.test", // the same tab, still percent-encoded in the value
  "/\n/evil.test",
  "%2F%5Cevil.test", // /\evil.test, encoded once more
  "https://evil.test/",
  "/%5C%5Cevil.test",
  "\\\\evil.test",
  "\\/evil.test",
  " //evil.test",
  "https:evil.test",
  "https:/\\evil.test",
  `${APP}@evil.test/`,
  `${APP}.evil.test/`,
  "/.//evil.test", // dot segments that resolve to //evil.test
  "/x/..//evil.test",
  "/%2e//evil.test",
  "javascript:alert(document.domain)",
];

async function signInWithCallback(browser: Browser, callbackUrl: string) {
  const context = await browser.newContext();
  const foreign: string[] = [];
  const dialogs: string[] = [];
  const serverErrors: string[] = [];
  // record (and never let out) any request to another host; evil.test must not even be attempted
  await context.route(
    (url) => url.origin !== APP,
    (route) => {
      foreign.push(route.request().url());
      return route.abort();
    },
  );
  const page = await context.newPage();
  page.on("request", (r) => {
    if (new URL(r.url()).origin !== APP && !foreign.includes(r.url())) foreign.push(r.url());
  });
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on("response", (r) => {
    if (r.status() >= 500) serverErrors.push(`${r.status()} ${r.url()}`);
  });
  await page.goto(`${APP}/login?callbackUrl=${encodeURIComponent(callbackUrl)}`);
  await page.getByLabel("E-mail").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  // signed in: the app navigates away from /login (or tried to leave the origin)
  await expect.poll(() => foreign.length > 0 || new URL(page.url()).pathname !== "/login", { timeout: 20_000 }).toBe(true);
  await page.waitForLoadState("load");
  await page.waitForTimeout(300); // a client-side redirect would have started by now
  const landed = page.url();
  await context.close();
  return { landed, foreign, dialogs, serverErrors };
}

test("sign-in with a hostile callbackUrl stays on the app's origin and never contacts evil.test", async ({ browser }) => {
  test.setTimeout(120_000);
  const outcomes: string[] = [];
  for (const value of HOSTILE) {
    await test.step(`callbackUrl=${JSON.stringify(value)}`, async () => {
      const { landed, foreign, dialogs, serverErrors } = await signInWithCallback(browser, value);
      outcomes.push(`${JSON.stringify(value)} → ${landed}`);
      expect(new URL(landed).origin, `after sign-in with callbackUrl=${JSON.stringify(value)}`).toBe(APP);
      expect(foreign, "requests to other hosts").toEqual([]);
      expect(dialogs, "no script ran").toEqual([]);
      expect(serverErrors).toEqual([]);
      expect(landed).not.toContain("evil.test@");
    });
  }
  console.log(`[redirects] ${outcomes.join("\n[redirects] ")}`);
  await test.info().attach("landings", { body: outcomes.join("\n"), contentType: "text/plain" });
});

test("a legitimate callbackUrl is honoured", async ({ browser }) => {
  const { landed, foreign } = await signInWithCallback(browser, "/tasks");
  expect(new URL(landed).origin).toBe(APP);
  expect(new URL(landed).pathname).toBe("/tasks");
  expect(foreign).toEqual([]);
});

const FORWARDED: Array<Record<string, string>> = [
  { "X-Forwarded-Host": "evil.test", "X-Forwarded-Proto": "javascript" },
  { "X-Forwarded-Host": "evil.test", "X-Forwarded-Proto": "https", "X-Forwarded-Port": "8443" },
  { "X-Forwarded-Host": "localhost@evil.test", "X-Forwarded-Proto": "http" },
  { Forwarded: "host=evil.test;proto=javascript" },
  { Host: "evil.test" },
];

test("forwarded-host headers from the client never reach a Location, and cause no 5xx", async ({ playwright }) => {
  const request = await playwright.request.newContext(); // its own cookie jar (the launches sign a throwaway reseller in)
  const seen: string[] = [];
  for (const headers of FORWARDED) {
    const targets = [
      `/launch?token=${await mintLaunchToken("RES-9911")}`,
      "/login",
      "/login?callbackUrl=%2Ftasks",
      "/dashboard",
      "/",
      "/api/auth/signin",
      "/api/auth/signin?callbackUrl=https%3A%2F%2Fevil.test%2F",
      "/oauth2redirect?code=x&state=y",
    ];
    for (const target of targets) {
      const res = await request.get(`${APP}${target}`, { headers, maxRedirects: 0 });
      const location = res.headers()["location"];
      seen.push(`${JSON.stringify(headers)} GET ${target.replace(/token=[^&]+/, "token=<valid>")} → ${res.status()}${location ? ` ${location}` : ""}`);
      expect(res.status(), `${target} with ${JSON.stringify(headers)}`).toBeLessThan(500);
      if (location) {
        expect(new URL(location, APP).origin, `Location of ${target} with ${JSON.stringify(headers)}`).toBe(APP);
        expect(location).not.toContain("evil.test");
        expect(location.toLowerCase()).not.toContain("javascript");
      }
      for (const cookie of res.headersArray().filter((h) => h.name.toLowerCase() === "set-cookie")) expect(cookie.value).not.toContain("evil.test");
      if (!target.includes("evil")) expect(await res.text(), `${target}: the page never names the forwarded host`).not.toContain("evil.test");
      if (target.startsWith("/launch")) expect(res.status(), "a valid launch token signs in and redirects").toBe(307);
    }
  }
  console.log(`[redirects] ${seen.join("\n[redirects] ")}`);
  await request.dispose();
});
