import { describe, expect, it } from "vitest";
import { checkWriteRequest, isSessionWrite } from "@/lib/http/write-guard";

const APP = "http://localhost:3000";
const req = (method: string, pathname: string, headers: Record<string, string | undefined>) => ({ method, pathname, headers: new Headers(Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined)) });

describe("write guard: cross-site writes to the API are refused", () => {
  it("accepts the app's own JSON writes (Origin or Sec-Fetch-Site same-origin)", () => {
    expect(checkWriteRequest(req("POST", "/api/sync", { origin: APP, "content-type": "application/json" }), APP)).toEqual({ ok: true });
    expect(checkWriteRequest(req("POST", "/api/sync", { "sec-fetch-site": "same-origin", "content-type": "application/json; charset=utf-8" }), APP)).toEqual({ ok: true });
  });

  it("refuses another origin, the portal's site, an opaque origin and cross-site fetch metadata with 403", () => {
    for (const headers of [
      { origin: "http://evil.test", "content-type": "application/json" },
      { origin: "http://127.0.0.1:4010", "content-type": "application/json" },
      { origin: "null", "content-type": "application/json" },
      { origin: "http://localhost:3000.evil.test", "content-type": "application/json" },
      { "sec-fetch-site": "cross-site", "content-type": "application/json" },
      { "sec-fetch-site": "same-site", "content-type": "application/json" },
      { "sec-fetch-site": "none", "content-type": "application/json" },
    ]) {
      const verdict = checkWriteRequest(req("POST", "/api/tasks/ignore", headers), APP);
      expect(verdict).toMatchObject({ ok: false, status: 403, error: "cross_site_request" });
    }
  });

  it("refuses a same-origin body that is not application/json with 415 (forms, text/plain, none)", () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""]) {
      const headers: Record<string, string> = { origin: APP };
      if (type) headers["content-type"] = type;
      expect(checkWriteRequest(req("POST", "/api/sync", headers), APP)).toMatchObject({ ok: false, status: 415, error: "unsupported_media_type" });
    }
  });

  it("covers every write method on /api, but not reads, pages, webhooks or the Inngest endpoint", () => {
    for (const m of ["POST", "PUT", "PATCH", "DELETE"]) expect(isSessionWrite(m, "/api/mapping/products/map")).toBe(true);
    for (const m of ["GET", "HEAD", "OPTIONS"]) expect(isSessionWrite(m, "/api/mapping/products/map")).toBe(false);
    expect(isSessionWrite("POST", "/api/marketplace/events/abc")).toBe(false);
    expect(isSessionWrite("PUT", "/api/inngest")).toBe(false);
    expect(isSessionWrite("POST", "/dashboard")).toBe(false);
    expect(isSessionWrite("POST", "/api/auth/callback/password")).toBe(true);
  });

  it("next-auth's own form posts need the same origin but not JSON", () => {
    expect(checkWriteRequest(req("POST", "/api/auth/signout", { origin: APP, "content-type": "application/x-www-form-urlencoded" }), APP)).toEqual({ ok: true });
    expect(checkWriteRequest(req("POST", "/api/auth/signout", { origin: "http://evil.test", "content-type": "application/x-www-form-urlencoded" }), APP)).toMatchObject({ ok: false, status: 403 });
  });

  it("a request without browser metadata (curl, a server) is left to the route's own authentication", () => {
    expect(checkWriteRequest(req("POST", "/api/sync", { "content-type": "application/json" }), APP)).toEqual({ ok: true });
  });
});
