/**
 * Drives the sandbox's Sage consent page over HTTP the way a browser would: load the page, pick a
 * Sage user by its label, press Allow or Deny. Returns the URL Sage redirects to.
 */
export async function answerSageConsent(authorizeUrl: string, opts: { userLabel: RegExp; decision: "allow" | "deny" }): Promise<URL> {
  const page = await fetch(authorizeUrl);
  if (page.status !== 200) throw new Error(`consent page answered ${page.status}: ${await page.text()}`);
  const html = await page.text();
  const requestId = /name="request_id" value="([^"]+)"/.exec(html)?.[1];
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!requestId || !action) throw new Error("consent page has no form");
  // each user radio has a <label for="…"> (accessible name), as a browser test would click it
  const users = [...html.matchAll(/<input[^>]*name="user"[^>]*id="([^"]+)"[^>]*value="([^"]+)"[\s\S]*?<label for="\1">([^<]*)<\/label>/g)].map((m) => ({ id: m[2]!, label: m[3]! }));
  const user = users.find((u) => opts.userLabel.test(u.label));
  if (!user && opts.decision === "allow") throw new Error(`no Sage user matches ${opts.userLabel}: ${users.map((u) => u.label).join(" | ")}`);
  const res = await fetch(new URL(action, authorizeUrl), {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ request_id: requestId, decision: opts.decision, ...(user ? { user: user.id } : {}) }),
  });
  const location = res.headers.get("location");
  if (!location) throw new Error(`consent decision answered ${res.status} without a redirect: ${await res.text()}`);
  return new URL(location);
}
