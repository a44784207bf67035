import { afterAll, beforeAll, expect, it } from "vitest";
import type { RunningSandbox } from "../../sandbox/server";
import { authorizeUrl, start } from "./helpers";

// Sage's sign-in refuses to be framed, as any identity provider's does: so does the sandbox's (issue #11).
let sb: RunningSandbox;
beforeAll(async () => {
  sb = await start();
});
afterAll(async () => sb.close());

it("the consent page and its error pages refuse framing: CSP frame-ancestors 'none' and X-Frame-Options DENY", async () => {
  const pages = [
    await fetch(authorizeUrl(sb.url)), // the consent page itself
    await fetch(authorizeUrl(sb.url, { client_id: "unknown" })), // unknown application
    await fetch(authorizeUrl(sb.url, { redirect_uri: "https://evil.example/cb" })), // unregistered redirect
  ];
  expect(pages.map((p) => p.status)).toEqual([200, 400, 400]);
  for (const page of pages) {
    expect(page.headers.get("content-security-policy")).toBe("frame-ancestors 'none'");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
  }
});
