import { jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSandbox } from "../../sandbox/server";
import { APP_URL, MARKETPLACE_SECRET, start } from "./helpers";

let sb: RunningSandbox;
let base: string;

beforeAll(async () => {
  sb = await start();
  base = sb.url;
});
afterAll(async () => {
  await sb.close();
});

const secret = new TextEncoder().encode(MARKETPLACE_SECRET);

function iframeSrc(html: string): string {
  const tag = /<iframe[^>]*title="Sage Integration"[^>]*>/.exec(html)?.[0] ?? "";
  const src = /src="([^"]+)"/.exec(tag)?.[1] ?? "";
  return src.replace(/&amp;/g, "&");
}

describe("marketplace store", () => {
  it("lists the Sage Integration card with an Install now link to the app", async () => {
    const res = await fetch(`${base}/marketplace/store`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/<title>CloudBlue Store for Resellers<\/title>/);
    expect(html).toContain("Sage Integration");
    const links = [...html.matchAll(/<a[^>]*href="([^"]+)"[^>]*>Install now<\/a>/g)];
    expect(links).toHaveLength(1);
    expect(links[0]?.[1]?.replace(/&amp;/g, "&")).toBe(`${APP_URL}/install?marketplace=demo-marketplace&account=RES-1001`);
  });
});

describe("reseller portal", () => {
  it("embeds the app in an iframe with a fresh, verifiable launch JWT", async () => {
    const res = await fetch(`${base}/marketplace/portal`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/<h1>/);
    expect(html).toMatch(/<nav/);
    const src = iframeSrc(html);
    expect(src.startsWith(`${APP_URL}/launch?token=`)).toBe(true);
    expect(html).toMatch(/<iframe[^>]*height="900"/);
    const token = new URL(src).searchParams.get("token") ?? "";
    const { payload, protectedHeader } = await jwtVerify(token, secret, {
      issuer: "demo-marketplace",
      audience: "sage-connector",
      algorithms: ["HS256"],
    });
    expect(protectedHeader.alg).toBe("HS256");
    expect(payload.sub).toBe("admin@northwind.test");
    expect(payload.email).toBe("admin@northwind.test");
    expect(payload.name).toBe("Nora Admin");
    expect(payload.account_id).toBe("RES-1001");
    expect(payload.account_name).toBe("Northwind Cloud Reseller");
    expect(payload.role).toBe("admin");
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof payload.iat).toBe("number");
    expect(payload.exp).toBe((payload.iat ?? 0) + 300);
  });

  it("mints a new token on every load and honours ?user=", async () => {
    const a = iframeSrc(await (await fetch(`${base}/marketplace/portal`)).text());
    const b = iframeSrc(await (await fetch(`${base}/marketplace/portal?user=ops@northwind.test`)).text());
    const ta = new URL(a).searchParams.get("token") ?? "";
    const tb = new URL(b).searchParams.get("token") ?? "";
    expect(ta).not.toBe(tb);
    const pa = (await jwtVerify(ta, secret)).payload;
    const pb = (await jwtVerify(tb, secret)).payload;
    expect(pa.jti).not.toBe(pb.jti);
    expect(pb.sub).toBe("ops@northwind.test");
    expect(pb.email).toBe("ops@northwind.test");
  });

  it("a token signed with another secret does not verify", async () => {
    const src = iframeSrc(await (await fetch(`${base}/marketplace/portal`)).text());
    const token = new URL(src).searchParams.get("token") ?? "";
    await expect(jwtVerify(token, new TextEncoder().encode("other"))).rejects.toThrow();
  });
});

describe("other reseller accounts", () => {
  it("?account= and ?account_name= simulate another reseller in the portal token and the store link", async () => {
    const html = await (await fetch(`${base}/marketplace/portal?account=RES-2001&account_name=Iframe%20Reseller&user=admin%40res-2001.test`)).text();
    const token = new URL(iframeSrc(html)).searchParams.get("token") ?? "";
    const { payload } = await jwtVerify(token, secret, { issuer: "demo-marketplace", audience: "sage-connector" });
    expect(payload).toMatchObject({ account_id: "RES-2001", account_name: "Iframe Reseller", sub: "admin@res-2001.test" });
    const store = await (await fetch(`${base}/marketplace/store?account=RES-2002`)).text();
    expect(store.replace(/&amp;/g, "&")).toContain(`${APP_URL}/install?marketplace=demo-marketplace&account=RES-2002`);
    // anything odd falls back to the default reseller
    const odd = await (await fetch(`${base}/marketplace/portal?account=%3Cscript%3E`)).text();
    const p2 = (await jwtVerify(new URL(iframeSrc(odd)).searchParams.get("token") ?? "", secret)).payload;
    expect(p2.account_id).toBe("RES-1001");
  });

  it("the control API mints the same kind of token", async () => {
    const res = await fetch(`${base}/__sandbox/marketplace/launch-token?account=RES-3000&user=x%40y.test`);
    const { token } = (await res.json()) as { token: string };
    const { payload } = await jwtVerify(token, secret, { issuer: "demo-marketplace", audience: "sage-connector" });
    expect(payload).toMatchObject({ account_id: "RES-3000", account_name: "Reseller RES-3000", email: "x@y.test" });
  });
});
