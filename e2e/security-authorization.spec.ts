import fs from "node:fs";
import path from "node:path";
import { expect, request as newRequestContext, test, type APIRequestContext, type APIResponse, type BrowserContext, type Cookie, type Page } from "@playwright/test";
import { APP, SANDBOX, answerConsent, chooseSetting, launchTopLevel, signInWithPassword } from "./helpers";

/**
 * Issue #9 — authorization, generated from the route list.
 *
 * Every exported HTTP method of every `app/api/**\/route.ts` is called three times with a valid
 * request that names tenant A's records: anonymous → 401, support staff → 403, and the reseller
 * admin of tenant B → 404 (or, where the route takes no id, an answer holding none of A's data).
 * Afterwards nothing of tenant A has changed — not in the app (Action Log, tasks, mappings,
 * connection, documents) and not in the sandbox (A's Sage business, A's marketplace account, and
 * no Sage or marketplace call on A's behalf in the sandbox's request log).
 *
 * The spec fails when a route file exists that has no entry in FIXTURES and is not in EXEMPT.
 * Server actions ("use server" files under app/) are listed the same way and each is driven in
 * the browser with a support session and with no session (the page is opened by the reseller, then
 * the session cookie is swapped before the button is clicked).
 */

const A_ACCOUNT = "RES-5101";
const B_ACCOUNT = "RES-5102";
const A_BUSINESS = { key: "morgan-gb", name: "Morgan Digital Ltd" };
const B_BUSINESS = { key: "taylor-gb", name: "Taylor & Co Services Ltd" };
const SUPPORT = { email: "support@sage-connector.test", password: "support-demo" };

const ROOT = path.resolve(__dirname, "..");
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
type Method = (typeof METHODS)[number];

// ─── the route list, from the file system ──────────────────────────────────────────────────────

/** The exported HTTP methods of a route module (function, const, destructured const, export list). */
function exportedMethods(source: string): Method[] {
  const names = new Set<string>();
  for (const m of source.matchAll(/export\s+(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)/g)) names.add(m[1]!);
  for (const m of source.matchAll(/export\s+(?:const|let|var)\s+([A-Za-z_$][\w$]*)/g)) names.add(m[1]!);
  // export const { GET, POST } = handlers;   export const { GET: get, handlers: { POST } } = …
  for (const m of source.matchAll(/export\s+(?:const|let|var)\s*\{([^=]*)\}\s*=/g)) {
    for (const part of m[1]!.replace(/[{}]/g, ",").split(",")) {
      const name = part.split(":").pop()!.split("=")[0]!.trim();
      if (name) names.add(name);
    }
  }
  // export { GET, handler as POST } [from "…"]
  for (const m of source.matchAll(/export\s*\{([^}]*)\}/g)) {
    for (const part of m[1]!.split(",")) {
      const name = part.trim().split(/\s+as\s+/).pop()!.trim();
      if (name) names.add(name);
    }
  }
  return METHODS.filter((method) => names.has(method));
}

function routeFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...routeFiles(full));
    else if (/^route\.(ts|tsx|js|mjs)$/.test(entry.name)) out.push(full);
  }
  return out.sort();
}

type RouteMethod = { route: string; method: Method; file: string };

function discoverRoutes(): RouteMethod[] {
  const out: RouteMethod[] = [];
  for (const file of routeFiles(path.join(ROOT, "app", "api"))) {
    const rel = path.relative(path.join(ROOT, "app"), path.dirname(file)).split(path.sep);
    // route groups "(x)" are not part of the URL
    const route = "/" + rel.filter((s) => !/^\(.*\)$/.test(s)).join("/");
    for (const method of exportedMethods(fs.readFileSync(file, "utf8"))) out.push({ route, method, file: path.relative(ROOT, file) });
  }
  return out;
}

/**
 * Routes that do not authenticate with a session, so "anonymous → 401" does not apply.
 * Keep this list short; every entry says what protects the route instead.
 */
const EXEMPT: Record<string, string> = {
  // Inngest's serve endpoint: requests are signed with the Inngest signing key (and it answers 404 in inline mode).
  "/api/inngest": "Inngest request signing",
  // Marketplace webhooks: Standard Webhooks signature with the installation's secret (tests/integration cover it).
  "/api/marketplace/events/[installationId]": "webhook signature",
  // next-auth's own endpoints (sign-in, callback, CSRF token, session): next-auth's CSRF check and our providers.
  "/api/auth/[...nextauth]": "next-auth's own endpoints",
  // Sage 50 Cloud's platform calls: Standard Webhooks signature with the deployment's application secret (tests/integration/sage50.test.ts).
  "/api/file-exchange/[target]/approval": "Sage 50 Cloud platform signature",
  "/api/file-exchange/[target]/notifications": "Sage 50 Cloud platform signature",
};

// ─── tenant A's and B's records ────────────────────────────────────────────────────────────────

type TenantA = {
  tenantId: string;
  connectionId: string;
  /** Contoso Ltd: mapped (auto-match) */
  customerId: string;
  /** a customer auto-match left unmapped */
  unmappedCustomerId: string;
  customerIds: string[];
  /** Microsoft 365 Business Basic (monthly): mapped */
  productId: string;
  /** a product auto-match left unmapped */
  unmappedProductId: string;
  productIds: string[];
  sageContactId: string;
  sageContactIds: string[];
  sageItemId: string;
  sageItemIds: string[];
  /** a finished mapping request (the refresh from Sage) */
  requestId: string;
  taskPending: string;
  taskIgnored: string;
  taskSynced: string;
  taskIds: string[];
  logIds: number[];
  maxLogId: number;
};

type TenantB = { tenantId: string; sageContactId: string; sageItemId: string; queuedRequests: string[] };

/** `path`: the URL path when the route has dynamic segments (default: the route itself) */
type Req = { query?: Record<string, string>; body?: unknown; path?: string };
type Ctx = { a: TenantA; b: TenantB; asA: APIRequestContext };

type Fixture = {
  /** a valid request naming tenant A's records: anonymous and support send exactly this */
  sample: (a: TenantA) => Req;
  /** support staff (no view): default 403 — support reads Action Logs across tenants, nothing else */
  support?: number;
  /**
   * support viewing tenant A read only: default 200 for a GET (a read of A's own pages), 403 for any
   * other method (a write: refused, and one support row in A's Action Log)
   */
  viewAs?: number;
  /** tenant B's reseller admin: the request it sends (default: `sample`) and what it must get */
  asB: {
    req?: (a: TenantA, b: TenantB) => Req;
    status: number;
    /** B's answer holds none of A's data (and, where it proves the id is real, A's own answer does) */
    check?: (body: any, ctx: Ctx) => void | Promise<void>;
    /** set when the answer is not the 404 the issue asks for: what it is and why nothing leaks */
    finding?: string;
  };
};

const noneOf = (ids: readonly unknown[], of: readonly unknown[], what: string) => expect(ids.filter((id) => of.includes(id)), `${what} of tenant A in tenant B's answer`).toEqual([]);

/** route + method → a valid request and the tenant-B expectation. One entry per exported method. */
const FIXTURES: Record<string, Fixture> = {
  "GET /api/action-log/[id]": {
    sample: (a) => ({ path: `/api/action-log/${a.logIds[0]}` }),
    support: 200,
    // A's entry by its id: B is told it does not exist
    asB: { status: 404 },
  },
  "GET /api/action-log/export": {
    sample: () => ({ query: { level: "info" } }),
    support: 200,
    // B's export holds B's rows only (the CSV is not JSON: its tenant scope is covered by tests/integration/action-log-routes.test.ts)
    asB: { status: 200 },
  },
  "GET /api/action-log": {
    sample: () => ({ query: { limit: "200" } }),
    support: 200,
    asB: {
      status: 200,
      // B gets only its own entries
      check: (body, { a, b }) => {
        noneOf(body.entries.map((e: { id: number }) => e.id), a.logIds, "Action Log entries");
        for (const e of body.entries) expect(e.tenantId).toBe(b.tenantId);
      },
    },
  },
  "GET /api/connection": {
    sample: () => ({}),
    asB: {
      status: 200,
      check: (body, { a }) => {
        expect(body.connection.businessName).toBe(B_BUSINESS.name);
        expect(body.connection.id).not.toBe(a.connectionId);
      },
    },
  },
  "POST /api/connect/consent-ticket": {
    // the consent popup's route: authenticated by the single-use ticket the framed page hands it, not by a
    // session (the popup is top level; the framed session cookie is partitioned to the portal's site).
    // A ticket naming tenant A that Sage Connector did not sign: nobody gets a binding for it
    sample: (a) => ({ body: { ticket: forgedConsentTicket(a.tenantId) } }),
    asB: {
      status: 401,
      check: (body) => expect(body.error).toBe("invalid"),
      finding: "401, not 404: the ticket, not the caller's session, is the credential (support sessions are refused with 403 before it is read); valid, reused, expired tickets and bindings: tests/integration/consent-popup.test.ts",
    },
  },
  "POST /api/connection/disconnect": {
    // without its confirmation nothing is disconnected (B's own connection stays, so do A's)
    sample: () => ({ body: {} }),
    asB: { status: 400 },
  },
  "GET /api/connect/passcode": {
    sample: () => ({ query: { product: "sage-50-cloud" } }),
    // a passcode is what a reseller types into Sage 50: support never sees one, not even viewing as
    viewAs: 403,
    // B reads its own latest passcode: it has none
    asB: { status: 200, check: (body) => expect(body).toEqual({ passcode: null }) },
  },
  "POST /api/connect/passcode": {
    sample: () => ({ body: { product: "sage-50-cloud", country: "gb" } }),
    // B may ask for its own passcode; a country the product does not serve is refused before Sage is asked
    asB: { req: () => ({ body: { product: "sage-50-cloud", country: "xx" } }), status: 400, check: (body) => expect(body.error).toBe("Choose the country of your Sage 50 company.") },
  },
  "POST /api/connection/test": {
    sample: () => ({ body: {} }),
    // no id: B tests its own connection (the result lands in B's Action Log)
    asB: { status: 202 },
  },
  "GET /api/resync-review": {
    sample: () => ({}),
    // B reads its own review: it never reconnected, so there is none
    asB: { status: 200, check: (body) => expect(body).toEqual({ review: null }) },
  },
  "POST /api/resync-review/confirm": {
    // no body: the caller's own tenant's review; B has none to confirm
    sample: () => ({}),
    asB: { status: 404 },
  },
  "GET /api/settings/tax-rules": {
    sample: () => ({}),
    // B reads its own table (the defaults for its GB business)
    asB: { status: 200, check: (body) => expect(body).toMatchObject({ businessCountry: "GB", custom: false }) },
  },
  "POST /api/settings/tax-rules": {
    // B restores its own defaults: A's table is not reachable by any id in the request
    sample: () => ({ body: { rules: null } }),
    asB: { status: 200, check: (body) => expect(body).toMatchObject({ businessCountry: "GB", custom: false }) },
  },
  "POST /api/mapping/customers/auto-match": {
    sample: (a) => ({ body: { customerIds: [a.unmappedCustomerId] } }),
    asB: {
      status: 200,
      check: (body) => expect(body).toMatchObject({ considered: 0, matched: 0, matches: [] }),
      finding: "A's customer ids are skipped (200, considered 0) instead of 404",
    },
  },
  "POST /api/mapping/customers/auto-sync": {
    sample: (a) => ({ body: { customerIds: [a.customerId], autoSync: true } }),
    asB: { status: 404 },
  },
  "POST /api/mapping/customers/create-in-sage": {
    sample: (a) => ({ body: { customerIds: [a.unmappedCustomerId] } }),
    asB: { status: 404 },
  },
  "POST /api/mapping/customers/map": {
    sample: (a) => ({ body: { customerIds: [a.unmappedCustomerId], sageContactId: a.sageContactId } }),
    // B's own Sage contact, A's customer: the customer is what must not be found
    asB: { req: (a, b) => ({ body: { customerIds: [a.unmappedCustomerId], sageContactId: b.sageContactId } }), status: 404 },
  },
  "GET /api/mapping/customers": {
    sample: () => ({ query: { limit: "500" } }),
    asB: {
      status: 200,
      check: (body, { a }) => {
        expect(body.rows.length).toBeGreaterThan(0);
        noneOf(body.rows.map((r: { id: string }) => r.id), a.customerIds, "customers");
      },
    },
  },
  "POST /api/mapping/customers/unmap": {
    sample: (a) => ({ body: { customerIds: [a.customerId] } }),
    asB: { status: 200, check: (body) => expect(body).toEqual({ unmapped: 0 }), finding: "A's customer ids are skipped (200, unmapped 0) instead of 404" },
  },
  "GET /api/mapping/fees": {
    sample: () => ({}),
    asB: {
      status: 200,
      check: (body, { a }) => {
        for (const fee of body.fees) {
          noneOf(fee.marketplaceProducts.map((p: { id: string }) => p.id), a.productIds, "fee products");
          expect(fee.mapping).toBeNull(); // B never mapped a fee; A did
        }
      },
    },
  },
  "POST /api/mapping/fees": {
    sample: (a) => ({ body: { feeKind: "cancellation", sageItemId: a.sageItemId } }),
    asB: {
      status: 422,
      check: (body) => expect(body.reason).toBe("sage_item_missing"),
      finding: "A's Sage item id is refused as not in B's Sage cache (422 sage_item_missing, nothing saved) rather than 404",
    },
  },
  "POST /api/mapping/fees/unmap": {
    sample: () => ({ body: { feeKind: "cancellation" } }),
    // no id: B unmaps its own (never mapped) fee; A's fee mapping must still be there afterwards
    asB: { status: 200, check: (body) => expect(body).toEqual({ changed: false }) },
  },
  "POST /api/mapping/products/add-to-sage": {
    sample: (a) => ({ body: { productIds: [a.unmappedProductId], type: "service" } }),
    asB: { status: 404 },
  },
  "POST /api/mapping/products/auto-match": {
    sample: (a) => ({ body: { productIds: [a.unmappedProductId] } }),
    asB: {
      status: 200,
      check: (body) => expect(body).toMatchObject({ considered: 0, matched: 0, matches: [] }),
      finding: "A's product ids are skipped (200, considered 0) instead of 404",
    },
  },
  "POST /api/mapping/products/map": {
    sample: (a) => ({ body: { productIds: [a.unmappedProductId], sageItemId: a.sageItemId } }),
    asB: { req: (a, b) => ({ body: { productIds: [a.unmappedProductId], sageItemId: b.sageItemId } }), status: 404 },
  },
  "GET /api/mapping/products": {
    sample: () => ({ query: { limit: "500" } }),
    asB: {
      status: 200,
      check: (body, { a }) => {
        expect(body.rows.length).toBeGreaterThan(0);
        noneOf(body.rows.map((r: { id: string }) => r.id), a.productIds, "products");
      },
    },
  },
  "POST /api/mapping/products/unmap": {
    sample: (a) => ({ body: { productIds: [a.productId] } }),
    asB: { status: 200, check: (body) => expect(body).toEqual({ unmapped: 0 }), finding: "A's product ids are skipped (200, unmapped 0) instead of 404" },
  },
  "POST /api/mapping/refresh": {
    sample: () => ({ body: { source: "both" } }),
    // no id: B refreshes its own cache (waited for before A is compared)
    asB: {
      status: 202,
      check: (body, { b }) => {
        expect(body.requests).toHaveLength(2);
        b.queuedRequests.push(...body.requests.map((r: { requestId: string }) => r.requestId));
      },
    },
  },
  "GET /api/mapping/requests": {
    sample: (a) => ({ query: { ids: a.requestId } }),
    asB: {
      status: 200,
      check: async (body, { a, asA }) => {
        // B learns nothing about A's request (it stays "pending" for B) …
        expect(body.outcomes).toEqual([{ requestId: a.requestId, state: "pending" }]);
        // … which A sees done
        const own = await (await asA.get(`${APP}/api/mapping/requests?ids=${a.requestId}`)).json();
        expect(own.outcomes[0].state).toBe("done");
      },
    },
  },
  "GET /api/mapping/sage-contacts": {
    sample: () => ({ query: { search: "", limit: "200" } }),
    asB: {
      status: 200,
      check: (body, { a }) => {
        expect(body.contacts.length).toBeGreaterThan(0);
        noneOf(body.contacts.map((c: { sageId: string }) => c.sageId), a.sageContactIds, "Sage contacts");
      },
    },
  },
  "GET /api/mapping/sage-items": {
    sample: () => ({ query: { search: "", limit: "200" } }),
    asB: {
      status: 200,
      check: (body, { a }) => {
        expect(body.items.length).toBeGreaterThan(0);
        noneOf(body.items.map((i: { sageId: string }) => i.sageId), a.sageItemIds, "Sage items");
      },
    },
  },
  "GET /api/mapping/status": {
    sample: () => ({}),
    asB: { status: 200, check: (body) => expect(body.connection.businessName).toBe(B_BUSINESS.name) },
  },
  "GET /api/notifications": {
    sample: () => ({ query: { after: "0" } }),
    asB: {
      status: 200,
      check: (body, { a }) => {
        noneOf(body.entries.map((e: { id: number }) => e.id), a.logIds, "notifications");
        noneOf(body.entries.map((e: { taskId: string | null }) => e.taskId).filter(Boolean), a.taskIds, "tasks");
      },
    },
  },
  "POST /api/oauth/validate-redirect": {
    sample: () => ({ body: {} }),
    // no id: B's own self-test
    asB: { status: 200 },
  },
  "GET /api/sync/documents": {
    sample: (a) => ({ query: { ids: a.taskSynced } }),
    asB: {
      status: 200,
      check: async (body, { a, asA }) => {
        expect(body.documents).toEqual([]);
        const own = await (await asA.get(`${APP}/api/sync/documents?ids=${a.taskSynced}`)).json();
        expect(own.documents.length).toBeGreaterThan(0);
      },
    },
  },
  "GET /api/sync/uploads": {
    sample: () => ({ query: { limit: "5" } }),
    // B's own order files: none (B's connection is Sage Business Cloud Accounting, which uploads no files)
    asB: { status: 200, check: (body) => expect(body.overview).toBeNull() },
  },
  "POST /api/sync/progress": {
    sample: (a) => ({ body: { taskIds: [a.taskSynced] } }),
    // a read sent as POST (the ids do not fit a URL): support viewing A may follow A's sync
    viewAs: 200,
    asB: {
      status: 200,
      check: async (body, { a, asA }) => {
        expect(body).toMatchObject({ finished: 0, counts: {}, done: false });
        const own = await (await asA.post(`${APP}/api/sync/progress`, { data: { taskIds: [a.taskSynced] } })).json();
        expect(own).toMatchObject({ finished: 1, counts: { synced: 1 }, done: true });
      },
    },
  },
  "POST /api/sync": {
    sample: (a) => ({ body: { taskIds: [a.taskPending] } }),
    asB: {
      status: 409,
      check: (body) => expect(body.error).toContain("None of the selected tasks can be synced"),
      finding: "A's task ids answer 409 “None of the selected tasks can be synced” instead of 404 (nothing queued)",
    },
  },
  "POST /api/tasks/ignore": {
    sample: (a) => ({ body: { ids: [a.taskPending], reason: "security spec: must never be applied" } }),
    asB: { status: 404 },
  },
  "GET /api/tasks": {
    sample: () => ({ query: { pageSize: "100" } }),
    asB: {
      status: 200,
      check: (body, { a }) => {
        expect(body.tasks.length).toBeGreaterThan(0); // B's own task (Check Changes below)
        noneOf(body.tasks.map((t: { id: string }) => t.id), a.taskIds, "tasks");
      },
    },
  },
  "POST /api/tasks/unignore": {
    sample: (a) => ({ body: { ids: [a.taskIgnored] } }),
    asB: { status: 404 },
  },
};

// ─── server actions ────────────────────────────────────────────────────────────────────────────

/** Server actions that act for a reseller: each is driven below as support and with no session. */
const RESELLER_ACTIONS: Record<string, string> = {
  "app/install/actions.ts#installAction": "Install page → Continue",
  "app/connect/actions.ts#startAuthorizationAction": "Connect page → Connect to Sage",
  "app/connect/actions.ts#selectBusinessAction": "Choose your Sage business → Use this business",
  "app/settings/actions.ts#saveSettingsAction": "Settings → Save and open dashboard",
  "app/tasks/actions.ts#checkChangesAction": "Dashboard → Check Changes",
};
/** Operator set-up (support staff only): driven below with no session (and pages refuse resellers). */
const OPERATOR_ACTIONS: Record<string, string> = {
  "app/support/file-exchange/actions.ts#startRegistrationAction": "Sage 50 Cloud set-up → Start registration",
  "app/support/file-exchange/actions.ts#completeRegistrationAction": "Sage 50 Cloud set-up → Save the registration",
};
/** Support's own console actions (open / close a read-only view): refused to resellers and anonymous callers in e2e/support-console.spec.ts. */
const SUPPORT_ACTIONS: Record<string, string> = {
  "app/support/actions.ts#startViewAsAction": "Support console → tenant → View as (read only)",
  "app/support/actions.ts#endViewAsAction": "the view-as banner → Stop viewing",
};
/** Server actions that are public by design (no reseller to protect); covered by security-sessions.spec.ts. */
const PUBLIC_ACTIONS: Record<string, string> = {
  // the sign-in itself; rate limited
  "app/login/actions.ts#loginAction": "sign-in (rate limit: security-sessions.spec.ts)",
  // needs a valid, unused launch token; signs in as the token's user after asking (login CSRF)
  "app/launch/switch/actions.ts#continueAsLaunchUser": "launch token (security-sessions.spec.ts)",
  // ends only the caller's own session
  "app/session-actions.ts#signOutAction": "the caller's own session (security-sessions.spec.ts)",
};

function appFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...appFiles(full));
    else if (/\.(ts|tsx|js|jsx|mjs)$/.test(entry.name)) out.push(full);
  }
  return out;
}

/** `file#export` of every server action under app/ ("use server" files; inline "use server" reported as `file#<inline>`). */
function discoverServerActions(): string[] {
  const out: string[] = [];
  for (const file of appFiles(path.join(ROOT, "app"))) {
    const source = fs.readFileSync(file, "utf8");
    const rel = path.relative(ROOT, file).split(path.sep).join("/");
    const moduleLevel = /^\s*(?:\/\/[^\n]*\n|\/\*[\s\S]*?\*\/\s*)*\s*["']use server["']/.test(source);
    if (moduleLevel) {
      for (const m of source.matchAll(/export\s+(?:async\s+)?function\s+([A-Za-z_$][\w$]*)/g)) out.push(`${rel}#${m[1]}`);
      for (const m of source.matchAll(/export\s+const\s+([A-Za-z_$][\w$]*)\s*=/g)) out.push(`${rel}#${m[1]}`);
    } else if (/["']use server["']/.test(source)) {
      out.push(`${rel}#<inline>`);
    }
  }
  return out.sort();
}

// ─── helpers ───────────────────────────────────────────────────────────────────────────────────

/** A consent ticket shaped like ours (HS256 JWT naming the tenant), signed with a key that is not ours. */
function forgedConsentTicket(tenantId: string): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  return [part({ alg: "HS256" }), part({ tenant: tenantId, nonce: "0".repeat(32), url: "https://evil.example/", aud: "sage-connector/consent-ticket", jti: "forged", iat: now, exp: now + 120 }), "c2lnbmF0dXJlLW5vdC1vdXJz"].join(".");
}

async function call(ctx: APIRequestContext, method: Method, route: string, req: Req): Promise<APIResponse> {
  const url = `${APP}${req.path ?? route}${req.query && Object.keys(req.query).length ? `?${new URLSearchParams(req.query)}` : ""}`;
  // JSON always (the write guard refuses anything else before the route could decide)
  return method === "GET" ? ctx.get(url, { maxRedirects: 0 }) : ctx.fetch(url, { method, data: req.body ?? {}, maxRedirects: 0 });
}

async function json(ctx: APIRequestContext, route: string): Promise<any> {
  const res = await ctx.get(`${APP}${route}`);
  expect(res.status(), `GET ${route}`).toBe(200);
  return res.json();
}

async function post(ctx: APIRequestContext, route: string, data: unknown, status: number): Promise<any> {
  const res = await ctx.post(`${APP}${route}`, { data });
  expect(res.status(), `POST ${route}: ${await res.text()}`).toBe(status);
  return res.json();
}

/** Queue a refresh and wait until every request has its outcome (all ok). */
async function refresh(ctx: APIRequestContext): Promise<string[]> {
  const { requests } = await post(ctx, "/api/mapping/refresh", { source: "both" }, 202);
  const ids = requests.map((r: { requestId: string }) => r.requestId);
  await waitForRequests(ctx, ids);
  return ids;
}

async function waitForRequests(ctx: APIRequestContext, ids: string[]) {
  if (ids.length === 0) return;
  await expect
    .poll(async () => (await json(ctx, `/api/mapping/requests?ids=${ids.join(",")}`)).outcomes.map((o: { state: string; ok?: boolean }) => `${o.state}${o.ok === false ? " (failed)" : ""}`), { timeout: 60_000 })
    .toEqual(ids.map(() => "done"));
}

/** The page's alerts, without Next's route announcer (also role="alert"). */
const alertOf = (page: Page) => page.locator('[role="alert"]:not(#__next-route-announcer__)');

/** the session cookie(s), and the view-as cookie when support opened a tenant read only */
/** the refusal support gets for any write while viewing a tenant read only (the tenant's name varies) */
const READ_ONLY = /^Read only: you are viewing .+ as support\. Changes are refused, and this attempt was recorded in the tenant's Action Log\.$/;

const sessionCookies = async (ctx: BrowserContext) => (await ctx.cookies(APP)).filter((c) => c.name.startsWith("sc.session") || c.name === "sc.view-as");

/** Swap the browser's session: another user's cookie, or none (anonymous). */
async function useSession(ctx: BrowserContext, cookies: Cookie[]) {
  await ctx.clearCookies({ name: /^sc\.(session|view-as)/ });
  if (cookies.length > 0) await ctx.addCookies(cookies);
}

async function sandboxJson(p: string): Promise<any> {
  const res = await fetch(`${SANDBOX}${p}`);
  expect(res.status, p).toBe(200);
  return res.json();
}

async function sandboxLog(): Promise<Array<{ seq: number; method: string; path: string; query: Record<string, string>; headers: Record<string, string> }>> {
  const text = await (await fetch(`${SANDBOX}/__sandbox/requests`)).text();
  return text.split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

/** Everything tenant A can see of itself, and what the sandbox holds for it. */
/** support's refused route calls in the tenant's Action Log */
async function routeRefusalRows(api: APIRequestContext) {
  const entries = (await json(api, "/api/action-log?category=support&limit=200")).entries as { actorType: string; message: string }[];
  return entries.filter((e) => e.actorType === "support" && e.message.startsWith("Refused: support tried to call "));
}

async function snapshotA(asA: APIRequestContext, a: TenantA) {
  const { tokenAgeSeconds: _age, ...connection } = (await json(asA, "/api/connection")).connection;
  const marketplace = await sandboxJson(`/__sandbox/marketplace/state?account=${A_ACCOUNT}`);
  return {
    // every category but support's own rows (support viewing A leaves a row per refused write: counted apart)
    actionLog: (await json(asA, "/api/action-log?limit=200&category=install,auth,settings,mapping,sync,system")).entries,
    tasks: await json(asA, "/api/tasks?pageSize=100"),
    products: await json(asA, "/api/mapping/products?limit=500"),
    feeProducts: await json(asA, "/api/mapping/products?limit=500&kind=fee"),
    customers: await json(asA, "/api/mapping/customers?limit=500"),
    fees: await json(asA, "/api/mapping/fees"),
    status: await json(asA, "/api/mapping/status"),
    documents: await json(asA, `/api/sync/documents?ids=${a.taskIds.join(",")}`),
    connection,
    sage: await sandboxJson(`/__sandbox/state?business=${A_BUSINESS.key}`),
    marketplace: { installation: marketplace.installation, counts: marketplace.counts, customers: marketplace.customers, requests: marketplace.requests },
  };
}

// ─── the tests ─────────────────────────────────────────────────────────────────────────────────

test("every API route and server action has an authorization fixture (or a reasoned exemption)", () => {
  const routes = discoverRoutes();
  // the scan itself works: it sees plain, const and destructured exports
  expect(exportedMethods("export const { GET, POST } = handlers;")).toEqual(["GET", "POST"]);
  expect(exportedMethods("export async function PATCH(r) {}\nexport const DELETE = wrap(x);\nexport { h as PUT };")).toEqual(["PUT", "PATCH", "DELETE"]);
  expect(routes.length).toBeGreaterThan(20);
  expect(routes.map((r) => `${r.method} ${r.route}`)).toContain("GET /api/auth/[...nextauth]");

  const missing = routes.filter((r) => !EXEMPT[r.route] && !FIXTURES[`${r.method} ${r.route}`]).map((r) => `${r.method} ${r.route} (${r.file})`);
  expect(missing, "route methods without a fixture in FIXTURES and not in EXEMPT").toEqual([]);
  const stale = Object.keys(FIXTURES).filter((k) => !routes.some((r) => `${r.method} ${r.route}` === k));
  expect(stale, "fixtures for route methods that no longer exist").toEqual([]);
  const staleExempt = Object.keys(EXEMPT).filter((route) => !routes.some((r) => r.route === route));
  expect(staleExempt, "exemptions for routes that no longer exist").toEqual([]);

  const actions = discoverServerActions();
  expect(actions.length).toBeGreaterThan(0);
  const unlisted = actions.filter((a) => !RESELLER_ACTIONS[a] && !PUBLIC_ACTIONS[a] && !OPERATOR_ACTIONS[a] && !SUPPORT_ACTIONS[a]);
  expect(unlisted, "server actions not listed in RESELLER_ACTIONS, OPERATOR_ACTIONS, SUPPORT_ACTIONS or PUBLIC_ACTIONS").toEqual([]);
  const gone = [...Object.keys(RESELLER_ACTIONS), ...Object.keys(PUBLIC_ACTIONS), ...Object.keys(OPERATOR_ACTIONS), ...Object.keys(SUPPORT_ACTIONS)].filter((a) => !actions.includes(a));
  expect(gone, "listed server actions that no longer exist").toEqual([]);
});

test.describe("tenant isolation", () => {
  test.describe.configure({ mode: "serial" });

  let ctxA: BrowserContext;
  let ctxB: BrowserContext;
  let ctxSupport: BrowserContext;
  /** support viewing tenant A read only */
  let ctxViewAs: BrowserContext;
  let anonymous: APIRequestContext;
  let a: TenantA;
  let b: TenantB;
  const exercised = new Set<string>();

  test.afterAll(async () => {
    await Promise.all([ctxA?.close(), ctxB?.close(), ctxSupport?.close(), ctxViewAs?.close(), anonymous?.dispose()]);
  });

  test("tenant A: installed, Sage connected, mapped, orders → tasks (one synced, one ignored, one pending)", async ({ browser }) => {
    test.setTimeout(180_000);
    ctxA = await browser.newContext();
    const page = await ctxA.newPage();
    await launchTopLevel(page, A_ACCOUNT);
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page.getByRole("heading", { name: "Connect your Sage account" })).toBeVisible();
    await page.getByLabel("Country of your Sage business").selectOption({ label: "United Kingdom" });
    await page.getByRole("button", { name: "Connect to Sage" }).click();
    await answerConsent(page, "Alex Morgan (1 business)", "Allow");
    await expect(page.getByRole("dialog", { name: "Settings" })).toBeVisible();
    await page.getByRole("button", { name: "Save and open dashboard" }).click();
    await expect(page.getByTestId("connection-business")).toContainText(A_BUSINESS.name);
    const api = page.request;

    const [, sageRefresh] = await refresh(api);
    await post(api, "/api/mapping/products/auto-match", {}, 200);
    await post(api, "/api/mapping/customers/auto-match", {}, 200);
    const products = (await json(api, "/api/mapping/products?limit=500")).rows as { id: string; mpn: string; mapping: unknown }[];
    const feeProducts = (await json(api, "/api/mapping/products?limit=500&kind=fee")).rows as { id: string }[];
    const customers = (await json(api, "/api/mapping/customers?limit=500")).rows as { id: string; name: string; mapping: unknown }[];
    const contacts = (await json(api, "/api/mapping/sage-contacts?limit=200")).contacts as { sageId: string }[];
    const items = (await json(api, "/api/mapping/sage-items?limit=200")).items as { sageId: string; itemCode: string | null }[];
    const basic = products.find((p) => p.mpn === "M365-BASIC-M")!;
    const contoso = customers.find((c) => c.name === "Contoso Ltd")!;
    expect(basic.mapping).not.toBeNull();
    expect(contoso.mapping).not.toBeNull();
    const unmappedProduct = products.find((p) => p.mapping === null)!;
    const unmappedCustomer = customers.find((c) => c.mapping === null)!;
    expect(unmappedProduct).toBeDefined();
    expect(unmappedCustomer).toBeDefined();
    // the cancellation fee → a Sage item (B will try to unmap "its" fee)
    const feeItem = items.find((i) => i.itemCode !== "M365-BASIC") ?? items[0]!;
    await post(api, "/api/mapping/fees", { feeKind: "cancellation", sageItemId: feeItem.sageId }, 200);

    // three orders for Contoso, read by Check Changes (server action, clicked by A)
    const market = await sandboxJson(`/__sandbox/marketplace/state?account=${A_ACCOUNT}`);
    const customerId = market.customers.find((c: { name: string }) => c.name === "Contoso Ltd").id;
    const placed = await fetch(`${SANDBOX}/__sandbox/marketplace/orders`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ account_id: A_ACCOUNT, orders: [1, 2, 3].map((quantity) => ({ type: "purchase", customer_id: customerId, items: [{ mpn: "M365-BASIC-M", quantity }] })) }),
    });
    expect(placed.status).toBe(201);
    const orderIds = ((await placed.json()) as { ids: string[] }).ids;
    await page.getByRole("button", { name: "Check Changes" }).click();
    await expect(page.getByTestId("check-changes-result")).toContainText("3 new tasks, 0 already known.");
    const tasks = (await json(api, "/api/tasks?pageSize=100")).tasks as { id: string; marketplaceOrderId: string; state: string }[];
    const byOrder = (id: string) => tasks.find((t) => t.marketplaceOrderId === id)!.id;
    const [taskSynced, taskIgnored, taskPending] = orderIds.map(byOrder) as [string, string, string];

    await post(api, "/api/tasks/ignore", { ids: [taskIgnored], reason: "Invoiced by hand" }, 200);
    await post(api, "/api/sync", { taskIds: [taskSynced] }, 202);
    await expect.poll(async () => (await post(api, "/api/sync/progress", { taskIds: [taskSynced] }, 200)).counts, { timeout: 60_000 }).toEqual({ synced: 1 });
    expect((await json(api, `/api/sync/documents?ids=${taskSynced}`)).documents.length).toBeGreaterThan(0);

    const log = (await json(api, "/api/action-log?limit=200")).entries as { id: number; tenantId: string }[];
    a = {
      tenantId: log[0]!.tenantId,
      connectionId: (await json(api, "/api/connection")).connection.id,
      customerId: contoso.id,
      unmappedCustomerId: unmappedCustomer.id,
      customerIds: customers.map((c) => c.id),
      productId: basic.id,
      unmappedProductId: unmappedProduct.id,
      productIds: [...products, ...feeProducts].map((p) => p.id),
      sageContactId: contacts[0]!.sageId,
      sageContactIds: contacts.map((c) => c.sageId),
      sageItemId: (items.find((i) => i.itemCode === "M365-BASIC") ?? items[0]!).sageId,
      sageItemIds: items.map((i) => i.sageId),
      requestId: sageRefresh!,
      taskPending,
      taskIgnored,
      taskSynced,
      taskIds: tasks.map((t) => t.id),
      logIds: log.map((e) => e.id),
      maxLogId: Math.max(...log.map((e) => e.id)),
    };
    expect(a.sageContactIds.length).toBeGreaterThan(0);
    expect(a.sageItemIds.length).toBeGreaterThan(0);
  });

  test("server actions refuse support staff and anonymous callers; tenant B is set up through them", async ({ browser }) => {
    test.setTimeout(180_000);
    // support staff signs in (a real session cookie to swap in)
    ctxSupport = await browser.newContext();
    const supportPage = await ctxSupport.newPage();
    await signInWithPassword(supportPage, SUPPORT.email, SUPPORT.password);
    await expect(supportPage).toHaveURL(`${APP}/support`); // support lands on the console, never on a tenant's pages
    const support = await sessionCookies(ctxSupport);
    expect(support.length).toBeGreaterThan(0);
    // support viewing tenant A read only ("View as" on A's console page): its session + the view-as cookie
    ctxViewAs = await browser.newContext();
    const viewAsPage = await ctxViewAs.newPage();
    await signInWithPassword(viewAsPage, SUPPORT.email, SUPPORT.password);
    await viewAsPage.goto(`${APP}/support/tenants/${a.tenantId}`);
    await viewAsPage.getByRole("button", { name: "View as (read only)" }).click();
    await expect(viewAsPage.getByTestId("view-as-banner")).toContainText("read only");
    const viewingA = await sessionCookies(ctxViewAs);
    expect(viewingA.map((c) => c.name)).toContain("sc.view-as");

    ctxB = await browser.newContext();
    const page = await ctxB.newPage();
    await launchTopLevel(page, B_ACCOUNT);
    await expect(page.getByRole("heading", { name: "Install Sage Integration" })).toBeVisible();
    const installUrl = page.url();
    const own = await sessionCookies(ctxB);
    const asReseller = () => useSession(ctxB, own);

    await test.step("install: support is refused, anonymous is sent to sign in; nothing is installed", async () => {
      await useSession(ctxB, support);
      await page.getByRole("button", { name: "Continue" }).click();
      await expect(alertOf(page)).toHaveText("Only a reseller administrator can install Sage Integration.");
      await useSession(ctxB, viewingA);
      await page.getByRole("button", { name: "Continue" }).click();
      await expect(alertOf(page)).toHaveText(READ_ONLY);
      await useSession(ctxB, []);
      await page.getByRole("button", { name: "Continue" }).click();
      await expect(page).toHaveURL(/\/login/);
      await asReseller();
      await page.goto(`${APP}/dashboard`);
      await expect(page.getByRole("heading", { name: "Install Sage Integration" })).toBeVisible(); // still not installed
      expect((await sandboxJson(`/__sandbox/marketplace/state?account=${B_ACCOUNT}`)).installation).toBeNull();
      exercised.add("app/install/actions.ts#installAction");
      await page.goto(installUrl);
      await page.getByRole("button", { name: "Continue" }).click();
      await expect(page.getByRole("heading", { name: "Connect your Sage account" })).toBeVisible();
    });

    await test.step("connect: support cannot authorize Sage for a reseller, anonymous is sent to sign in", async () => {
      const country = page.getByLabel("Country of your Sage business");
      await country.selectOption({ label: "United Kingdom" });
      await useSession(ctxB, support);
      await page.getByRole("button", { name: "Connect to Sage" }).click();
      await expect(alertOf(page)).toHaveText("Support staff cannot authorize Sage for a reseller; the reseller must do it.");
      await expect(page).toHaveURL(`${APP}/connect`); // not sent to Sage
      await useSession(ctxB, viewingA);
      await country.selectOption({ label: "United Kingdom" });
      await page.getByRole("button", { name: "Connect to Sage" }).click();
      await expect(alertOf(page)).toHaveText(READ_ONLY);
      await expect(page).toHaveURL(`${APP}/connect`);
      await useSession(ctxB, []);
      await country.selectOption({ label: "United Kingdom" }); // React resets the form after an action
      await page.getByRole("button", { name: "Connect to Sage" }).click();
      await expect(page).toHaveURL(/\/login\?callbackUrl=(\/|%2F)connect/);
      exercised.add("app/connect/actions.ts#startAuthorizationAction");
      await asReseller();
      await page.goto(`${APP}/connect`);
      await country.selectOption({ label: "United Kingdom" });
      await page.getByRole("button", { name: "Connect to Sage" }).click();
      await answerConsent(page, "Sam Taylor (2 businesses)", "Allow");
      await expect(page.getByRole("heading", { name: "Choose your Sage business" })).toBeVisible();
    });

    await test.step("business: support cannot choose it, anonymous is sent to sign in", async () => {
      await page.getByLabel(B_BUSINESS.name).check();
      await useSession(ctxB, support);
      await page.getByRole("button", { name: "Use this business" }).click();
      await expect(alertOf(page)).toHaveText("Only a reseller administrator can choose the Sage business.");
      await useSession(ctxB, viewingA);
      await page.getByLabel(B_BUSINESS.name).check();
      await page.getByRole("button", { name: "Use this business" }).click();
      await expect(alertOf(page)).toHaveText(READ_ONLY);
      await useSession(ctxB, []);
      await page.getByLabel(B_BUSINESS.name).check(); // React resets the form after an action
      await page.getByRole("button", { name: "Use this business" }).click();
      await expect(page).toHaveURL(/\/login\?callbackUrl=(\/|%2F)connect(\/|%2F)business/);
      exercised.add("app/connect/actions.ts#selectBusinessAction");
      await asReseller();
      await page.goto(`${APP}/connect/business`);
      await expect(page.getByLabel(B_BUSINESS.name)).not.toBeChecked(); // nothing was chosen
      await page.getByLabel(B_BUSINESS.name).check();
      await page.getByRole("button", { name: "Use this business" }).click();
      await expect(page.getByRole("dialog", { name: "Settings" })).toBeVisible();
    });

    await test.step("settings: support cannot save, anonymous is sent to sign in; nothing was saved", async () => {
      const settingsUrl = page.url();
      await chooseSetting(page, "Notifications", "All tasks");
      await useSession(ctxB, support);
      await page.getByRole("button", { name: "Save and open dashboard" }).click();
      await expect(alertOf(page)).toHaveText("Only a reseller administrator can change settings.");
      await useSession(ctxB, viewingA);
      await chooseSetting(page, "Notifications", "All tasks");
      await page.getByRole("button", { name: "Save and open dashboard" }).click();
      await expect(alertOf(page)).toHaveText(READ_ONLY);
      await useSession(ctxB, []);
      await chooseSetting(page, "Notifications", "All tasks"); // React resets the form after an action
      await page.getByRole("button", { name: "Save and open dashboard" }).click();
      await expect(page).toHaveURL(/\/login\?callbackUrl=(\/|%2F)settings/);
      exercised.add("app/settings/actions.ts#saveSettingsAction");
      await asReseller();
      await page.goto(settingsUrl);
      await expect(page.getByRole("group", { name: "Notifications" }).getByLabel("All tasks", { exact: true })).not.toBeChecked();
      await page.getByRole("button", { name: "Save and open dashboard" }).click();
      await expect(page.getByTestId("connection-business")).toContainText(B_BUSINESS.name);
    });

    await test.step("Check Changes: support and anonymous get the refusal and no task is created; the reseller's click finds the order", async () => {
      const market = await sandboxJson(`/__sandbox/marketplace/state?account=${B_ACCOUNT}`);
      const customerId = market.customers.find((c: { name: string }) => c.name === "Contoso Ltd").id;
      const placed = await fetch(`${SANDBOX}/__sandbox/marketplace/orders`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ account_id: B_ACCOUNT, orders: [{ type: "purchase", customer_id: customerId, items: [{ mpn: "M365-BASIC-M", quantity: 2 }] }] }),
      });
      expect(placed.status).toBe(201);
      // the page refreshes itself after the action (and then leaves for /forbidden or /login): read the action's own answer
      let answer = "";
      await page.route(`${APP}/dashboard`, async (route) => {
        if (route.request().method() !== "POST" || !route.request().headers()["next-action"]) return route.continue();
        const response = await route.fetch();
        answer = await response.text();
        await route.fulfill({ response, body: answer });
      });
      for (const [who, refusal] of [[support, "Only a reseller administrator can check for changes."], [viewingA, "Read only: you are viewing"], [[], "Your session has ended: sign in again."]] as const) {
        await page.goto(`${APP}/dashboard`);
        answer = "";
        await useSession(ctxB, [...who]);
        await page.getByRole("button", { name: "Check Changes" }).click();
        await expect.poll(() => answer).toContain(refusal);
        await asReseller();
      }
      await page.unroute(`${APP}/dashboard`);
      expect((await json(ctxB.request, "/api/tasks")).total).toBe(0);
      exercised.add("app/tasks/actions.ts#checkChangesAction");
      await page.goto(`${APP}/dashboard`);
      await page.getByRole("button", { name: "Check Changes" }).click();
      await expect(page.getByTestId("check-changes-result")).toContainText("1 new task, 0 already known.");
    });

    await test.step("support viewing A: each refused action is one support row in A's Action Log", async () => {
      const entries = (await json(ctxA.request, "/api/action-log?category=support&limit=200")).entries as { actorType: string; level: string; message: string }[];
      const refused = entries.filter((e) => e.message.startsWith("Refused: support tried to")).map((e) => e.message.match(/^Refused: support tried to (.+?)\. /)![1]).sort();
      expect(refused).toEqual(["authorize a Sage connection", "choose the Sage business", "install Sage Integration", "run Check Changes", "save the settings"]);
      expect(entries.filter((e) => e.message.startsWith("Refused")).every((e) => e.actorType === "support" && e.level === "warning")).toBe(true);
    });

    await test.step("nothing in B's Action Log was done by support staff", async () => {
      const entries = (await json(ctxB.request, "/api/action-log?limit=200")).entries as { actorType: string; actorLabel: string; message: string }[];
      expect(entries.filter((e) => e.actorType === "support" || e.actorLabel.includes(SUPPORT.email))).toEqual([]);
      expect(entries.some((e) => e.message.includes("Settings changed: Notifications"))).toBe(false);
    });

    expect([...exercised].sort()).toEqual(Object.keys(RESELLER_ACTIONS).sort());

    const api = ctxB.request;
    await refresh(api);
    const log = (await json(api, "/api/action-log?limit=1")).entries as { tenantId: string }[];
    b = {
      tenantId: log[0]!.tenantId,
      sageContactId: (await json(api, "/api/mapping/sage-contacts?limit=1")).contacts[0].sageId,
      sageItemId: (await json(api, "/api/mapping/sage-items?limit=1")).items[0].sageId,
      queuedRequests: [],
    };
    expect(b.tenantId).not.toBe(a.tenantId);
  });

  test("every API route: anonymous → 401, support → 403, tenant B with tenant A's ids → 404 or none of A's data; A unchanged", async () => {
    test.setTimeout(180_000);
    const asA = ctxA.request;
    const asB = ctxB.request;
    const asSupport = ctxSupport.request;
    const asViewAs = ctxViewAs.request;
    anonymous = await newRequestContext.newContext();
    let viewAsRefusals = 0;

    const before = await snapshotA(asA, a);
    const refusalsBefore = (await routeRefusalRows(asA)).length;
    const logStart = Math.max(0, ...(await sandboxLog()).map((e) => e.seq));
    const morganId = before.sage.business.id as string;

    const matrix: string[] = ["| route | anonymous | support | support viewing A | tenant B | note |", "|---|---|---|---|---|---|"];
    for (const { route, method } of discoverRoutes()) {
      if (EXEMPT[route]) {
        matrix.push(`| ${method} ${route} | – | – | – | – | exempt: ${EXEMPT[route]} |`);
        continue;
      }
      const key = `${method} ${route}`;
      const fixture = FIXTURES[key];
      if (!fixture) {
        expect.soft(fixture, `${key}: no fixture`).toBeDefined();
        continue;
      }
      await test.step(key, async () => {
        const sample = fixture.sample(a);
        const anon = await call(anonymous, method, route, sample);
        expect.soft(anon.status(), `${key} anonymous: ${await anon.text()}`).toBe(401);
        const sup = await call(asSupport, method, route, sample);
        expect.soft(sup.status(), `${key} support: ${await sup.text()}`).toBe(fixture.support ?? 403);
        const viewing = await call(asViewAs, method, route, sample);
        const viewingExpected = fixture.viewAs ?? (method === "GET" ? 200 : 403);
        expect.soft(viewing.status(), `${key} support viewing A: ${await viewing.text()}`).toBe(viewingExpected);
        if (viewingExpected === 403) {
          viewAsRefusals++;
          expect.soft((await viewing.json()).error, `${key} support viewing A`).toMatch(READ_ONLY);
        }
        const other = await call(asB, method, route, fixture.asB.req?.(a, b) ?? sample);
        const text = await other.text();
        expect.soft(other.status(), `${key} tenant B: ${text}`).toBe(fixture.asB.status);
        let checked = "";
        if (fixture.asB.check && other.status() === fixture.asB.status) {
          try {
            await fixture.asB.check(JSON.parse(text), { a, b, asA });
            checked = " ✓";
          } catch (e) {
            checked = " ✗";
            expect.soft(e, `${key} tenant B's answer`).toBeUndefined();
          }
        }
        matrix.push(`| ${key} | ${anon.status()} | ${sup.status()} | ${viewing.status()} | ${other.status()}${checked} | ${fixture.asB.finding ? `FINDING: ${fixture.asB.finding}` : ""} |`);
      });
    }
    console.log(matrix.join("\n"));
    await test.info().attach("authorization-matrix.md", { body: matrix.join("\n"), contentType: "text/markdown" });

    await test.step("nothing of tenant A changed (app and sandbox); no Sage or marketplace call on A's behalf", async () => {
      // let B's queued work (refresh, connection test) finish first, so a stray write would be seen
      await waitForRequests(asB, b.queuedRequests);
      await expect.poll(async () => (await json(asB, "/api/action-log?limit=50")).entries.some((e: { message: string }) => /connection test|Test connection/i.test(e.message)), { timeout: 30_000 }).toBe(true);
      const after = await snapshotA(asA, a);
      expect(after).toEqual(before);
      // support viewing A left exactly one row per refused write in A's log (and the route it tried)
      const refusals = (await routeRefusalRows(asA)).length - refusalsBefore;
      expect(refusals).toBe(viewAsRefusals);
      expect(viewAsRefusals).toBeGreaterThan(20);
      const forA = (await sandboxLog()).filter((e) => e.seq > logStart && (e.headers["x-business"] === morganId || e.query.account_id === A_ACCOUNT || e.path.includes(A_ACCOUNT)));
      expect(forA.map((e) => `${e.method} ${e.path}`)).toEqual([]);
    });
  });
});

test("the operator's Sage 50 Cloud set-up: resellers are refused the page; its actions refuse a caller without a support session and change nothing", async ({ browser }) => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await launchTopLevel(page, "RES-5109");
  await page.goto(`${APP}/support/file-exchange`);
  await expect(page).toHaveURL(/\/forbidden/);
  await ctx.clearCookies();
  await signInWithPassword(page, SUPPORT.email, SUPPORT.password);
  await page.goto(`${APP}/support/file-exchange`);
  const status = await page.getByTestId("registration-status").textContent();
  await useSession(ctx, []);
  await page.getByLabel("E-mail for the registration ids").fill("ops@evil.example");
  await page.getByRole("button", { name: "Start registration" }).click();
  await expect(alertOf(page)).toHaveText("Only the deployment's operator (support staff) can register the application.");
  await page.getByLabel("Developer id").fill("dev-x");
  await page.getByLabel("Application id").fill("app-x");
  await page.getByLabel("Application secret").fill("secret-xxxxxxxx");
  await page.getByRole("button", { name: "Save the registration" }).click();
  await expect(alertOf(page).last()).toHaveText("Only the deployment's operator (support staff) can register the application.");
  await signInWithPassword(page, SUPPORT.email, SUPPORT.password);
  await page.goto(`${APP}/support/file-exchange`);
  await expect(page.getByTestId("registration-status")).toHaveText(status!);
  await ctx.close();
});
