// Test helpers: drive the sandbox over HTTP only (plain fetch), like any other client would.
import { startSandbox, type RunningSandbox } from "../../sandbox/server";

export const CLIENT_ID = "test-client";
export const CLIENT_SECRET = "test-client-secret";
export const APP_URL = "http://localhost:3999";
export const REDIRECT_URI = `${APP_URL}/oauth2redirect`;
export const MARKETPLACE_SECRET = "test-marketplace-secret";

export async function start(): Promise<RunningSandbox> {
  return startSandbox({
    port: 0,
    appUrl: APP_URL,
    sageClientId: CLIENT_ID,
    sageClientSecret: CLIENT_SECRET,
    marketplaceSecret: MARKETPLACE_SECRET,
    redirectUris: [REDIRECT_URI],
  });
}

export function authorizeUrl(base: string, params: Record<string, string | undefined> = {}): string {
  const u = new URL(`${base}/sage/oauth2/auth/central`);
  const all: Record<string, string | undefined> = {
    filter: "apiv3.1",
    client_id: CLIENT_ID,
    response_type: "code",
    redirect_uri: REDIRECT_URI,
    scope: "full_access",
    state: "st-123",
    ...params,
  };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}

export interface ConsentPage {
  status: number;
  html: string;
  requestId: string;
  /** label text → radio value */
  users: Map<string, string>;
}

export async function openConsent(base: string, params: Record<string, string | undefined> = {}): Promise<ConsentPage> {
  const res = await fetch(authorizeUrl(base, params), { redirect: "manual" });
  const html = await res.text();
  const requestId = /name="request_id" value="([^"]+)"/.exec(html)?.[1] ?? "";
  const users = new Map<string, string>();
  for (const m of html.matchAll(/<input type="radio" name="user" id="([^"]+)" value="([^"]+)"[^>]*>\s*<label for="\1">([^<]+)<\/label>/g)) {
    users.set(m[3] ?? "", m[2] ?? "");
  }
  return { status: res.status, html, requestId, users };
}

export async function decide(
  base: string,
  page: ConsentPage,
  decision: "allow" | "deny",
  userLabel = "Alex Morgan (1 business)",
): Promise<Response> {
  const body = new URLSearchParams({ request_id: page.requestId, decision });
  const user = page.users.get(userLabel);
  if (user) body.set("user", user);
  return fetch(`${base}/sage/oauth2/auth/central/decision`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
    redirect: "manual",
  });
}

/** Consent → Allow → code from the redirect. */
export async function getCode(
  base: string,
  userLabel = "Alex Morgan (1 business)",
  params: Record<string, string | undefined> = {},
): Promise<string> {
  const page = await openConsent(base, params);
  const res = await decide(base, page, "allow", userLabel);
  const loc = res.headers.get("location");
  if (!loc) throw new Error(`no redirect (status ${res.status})`);
  const code = new URL(loc).searchParams.get("code");
  if (!code) throw new Error(`no code in ${loc}`);
  return code;
}

export async function tokenRequest(base: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/sage/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json", ...headers },
    body: new URLSearchParams(form),
  });
}

export interface TokenSet {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  refresh_token_expires_in: number;
  token_type: string;
  scope: string;
  requested_by_id: string;
}

export async function exchangeCode(base: string, code: string): Promise<TokenSet> {
  const res = await tokenRequest(base, {
    grant_type: "authorization_code",
    code,
    redirect_uri: REDIRECT_URI,
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
  });
  if (res.status !== 200) throw new Error(`token exchange failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as TokenSet;
}

export async function login(
  base: string,
  userLabel = "Alex Morgan (1 business)",
  params: Record<string, string | undefined> = {},
): Promise<TokenSet> {
  return exchangeCode(base, await getCode(base, userLabel, params));
}

export function refresh(base: string, refreshToken: string): Promise<Response> {
  return tokenRequest(base, {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
  });
}

export async function control(base: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${base}/__sandbox${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export async function api(
  base: string,
  token: string,
  method: string,
  path: string,
  opts: { business?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: "application/json", ...(opts.headers ?? {}) };
  if (opts.business) headers["x-business"] = opts.business;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  return fetch(`${base}/sage/v3.1${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
}

export interface LoggedRequest {
  route: string;
  method: string;
  path: string;
  status: number | null;
  grant_type?: string;
  spec_violation?: boolean;
  outcome: string;
  headers: Record<string, string>;
  form?: Record<string, string>;
  body?: unknown;
  business?: string;
  [k: string]: unknown;
}

export async function requestLog(base: string): Promise<LoggedRequest[]> {
  const res = await fetch(`${base}/__sandbox/requests`);
  const txt = await res.text();
  return txt
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as LoggedRequest);
}

export interface SageErrorItem {
  $severity: string;
  $dataCode: string;
  $message: string;
  $source: string;
}

export async function sageErrorsOf(res: Response): Promise<SageErrorItem[]> {
  const body = (await res.json()) as unknown;
  if (!Array.isArray(body)) throw new Error(`expected an error array, got ${JSON.stringify(body)}`);
  return body as SageErrorItem[];
}

export interface SageWorldInfo {
  users: Array<{ id: string; key: string; name: string; lead_business_id: string; business_ids: string[] }>;
  businesses: Array<{ id: string; key: string; name: string; country: string }>;
}

export async function world(base: string): Promise<SageWorldInfo> {
  return (await (await control(base, "GET", "/sage")).json()) as SageWorldInfo;
}

export async function businessIdByKey(base: string, key: string): Promise<string> {
  const w = await world(base);
  const b = w.businesses.find((x) => x.key === key);
  if (!b) throw new Error(`no business ${key}`);
  return b.id;
}

export interface Envelope<T = Record<string, unknown>> {
  $total: number;
  $page: number;
  $next: string | null;
  $back: string | null;
  $itemsPerPage: number;
  $items: T[];
}

// Loose JSON for assertions on response bodies.
export type Json = Record<string, any>;

/** JSON body of a response (throws on non-JSON). */
export async function body<T = Json>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** A signed-in Sam Taylor (GB lead business + IE business) with helpers for the accounting API. */
export async function sageSession(base: string, userLabel = "Sam Taylor (2 businesses)", scope = "full_access") {
  const tokens = await login(base, userLabel, { scope });
  const w = await world(base);
  const me = w.users.find((u) => u.id === tokens.requested_by_id);
  if (!me) throw new Error("user not found");
  const gb = me.business_ids.find((id) => w.businesses.find((b) => b.id === id)?.country === "GB") ?? "";
  const ie = me.business_ids.find((id) => w.businesses.find((b) => b.id === id)?.country === "IE") ?? "";
  const call = (method: string, path: string, opts: { business?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    api(base, tokens.access_token, method, path, { business: gb, ...opts });
  const ledgerId = async (nominal: number, business = gb): Promise<string> => {
    const env = await body<Envelope>(await call("GET", "/ledger_accounts?attributes=nominal_code&items_per_page=200", { business }));
    const l = env.$items.find((x) => x.nominal_code === nominal);
    if (!l) throw new Error(`no ledger ${nominal}`);
    return String(l.id);
  };
  return { tokens, gb, ie, call, ledgerId };
}

export type SageSession = Awaited<ReturnType<typeof sageSession>>;

export async function createCustomer(s: SageSession, name: string, extra: Json = {}, business?: string): Promise<Json> {
  const res = await s.call("POST", "/contacts", {
    business: business ?? s.gb,
    body: { contact: { name, contact_type_ids: ["CUSTOMER"], ...extra } },
  });
  if (res.status !== 201) throw new Error(`create contact failed: ${res.status} ${await res.text()}`);
  return body(res);
}

/** A valid one-line GB invoice body (20 % VAT). */
export function invoiceBody(contactId: string, ledgerId: string, extra: Json = {}, line: Json = {}): Json {
  return {
    sales_invoice: {
      contact_id: contactId,
      date: "2026-01-15",
      reference: "ORD-1001",
      invoice_lines: [
        {
          description: "Microsoft 365 Business Basic",
          ledger_account_id: ledgerId,
          quantity: 3,
          unit_price: 10,
          tax_rate_id: "GB_STANDARD",
          tax_amount: 6,
          ...line,
        },
      ],
      ...extra,
    },
  };
}

export function creditNoteBody(contactId: string, ledgerId: string, extra: Json = {}, line: Json = {}): Json {
  return {
    sales_credit_note: {
      contact_id: contactId,
      date: "2026-01-20",
      reference: "REFUND-1001",
      credit_note_lines: [
        {
          description: "Microsoft 365 Business Basic (downgrade)",
          ledger_account_id: ledgerId,
          quantity: 1,
          unit_price: 10,
          tax_rate_id: "GB_STANDARD",
          tax_amount: 2,
          ...line,
        },
      ],
      ...extra,
    },
  };
}

export async function sageState(base: string, business: string): Promise<Json> {
  return body(await control(base, "GET", `/state?business=${business}`));
}
