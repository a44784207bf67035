// Helpers for the Sage 50 Cloud sandbox tests: JSON calls, form posts, a developer with a connected
// application, and a tiny local HTTP server standing in for the application's approval and
// notification endpoints. HTTP only, like any client.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type Json = Record<string, any>;
export const GB = "SAGE50-GB-001";
export const ES = "SAGE50-ES-001";

export interface JsonReply<T = Json> {
  status: number;
  body: T;
}

export async function call<T = Json>(base: string, method: string, path: string, opts: { key?: string; body?: unknown } = {}): Promise<JsonReply<T>> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (opts.key !== undefined) headers["x-api-key"] = opts.key;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${base}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* HTML or empty */
  }
  return { status: res.status, body: body as T };
}

export async function postForm(base: string, path: string, fields: Record<string, string>): Promise<{ status: number; html: string }> {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
  });
  return { status: res.status, html: await res.text() };
}

export async function advanceClock(base: string, seconds: number): Promise<void> {
  const res = await fetch(`${base}/__sandbox/clock`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ advanceSeconds: seconds }) });
  if (res.status !== 200) throw new Error(`clock: ${res.status}`);
}

export interface ReceivedCall {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The application's endpoints: records every POST, answers `status` (settable). */
export interface Receiver {
  url: string;
  calls: ReceivedCall[];
  status: number;
  /** Resolves with the n-th call (1-based) once it has arrived. */
  nth(n: number, timeoutMs?: number): Promise<ReceivedCall>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const calls: ReceivedCall[] = [];
  /** Each returns true once it is satisfied (then it is dropped). */
  let waiters: Array<() => boolean> = [];
  const receiver: Receiver = {
    url: "",
    calls,
    status: 200,
    nth: (n, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const c = calls[n - 1];
          if (c) resolve(c);
          return c !== undefined;
        };
        if (check()) return;
        const timer = setTimeout(() => reject(new Error(`call ${n} did not arrive (${calls.length} so far)`)), timeoutMs);
        waiters.push(() => {
          if (!check()) return false;
          clearTimeout(timer);
          return true;
        });
      }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString("utf8")));
    req.on("end", () => {
      calls.push({ path: req.url ?? "/", headers: req.headers, body });
      res.writeHead(receiver.status, { "content-type": "text/plain" });
      res.end("ok");
      waiters = waiters.filter((w) => !w());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

export interface Developer {
  developerId: string;
  applicationId: string;
  secret: string;
}

/** POST /developers → captcha page → the ids from the sandbox mailbox. */
export async function registerDeveloper(base: string, email = "dev@acme.example", name = "Acme Connector"): Promise<Developer> {
  const reg = await call<{ registrationUrl: string }>(base, "POST", "/sage50/api/developers", { body: { name, email } });
  if (reg.status !== 201) throw new Error(`register: ${reg.status}`);
  const done = await postForm(base, new URL(reg.body.registrationUrl).pathname, { captcha: "solved" });
  if (done.status !== 200) throw new Error(`captcha: ${done.status}`);
  const mail = await call<Developer[]>(base, "GET", `/control/sage50/mailbox?email=${encodeURIComponent(email)}`);
  const dev = mail.body.at(-1);
  if (!dev) throw new Error("no mail");
  return dev;
}

export function appPath(dev: Developer): string {
  return `/sage50/api/developers/${dev.developerId}/applications/${dev.applicationId}`;
}

export async function newPasscode(base: string, dev: Developer): Promise<string> {
  const r = await call<{ passcode: string }>(base, "POST", `${appPath(dev)}/passcodes`, { body: { secret: dev.secret } });
  if (r.status !== 201) throw new Error(`passcode: ${r.status}`);
  return r.body.passcode;
}

/** Passcode → desktop grant; the apikey from the approval call the receiver got. */
export async function connect(base: string, dev: Developer, app: Receiver, company = GB): Promise<string> {
  const before = app.calls.length;
  const passcode = await newPasscode(base, dev);
  const page = await postForm(base, "/sage50/desktop/decision", { company, passcode, decision: "grant" });
  if (page.status !== 200) throw new Error(`grant: ${page.status}`);
  const approval = await app.nth(before + 1);
  return (JSON.parse(approval.body) as { apikey: string }).apikey;
}

/** A developer whose application's approval and notification URLs point at a receiver, connected to GB. */
export async function connectedApp(base: string): Promise<{ dev: Developer; app: Receiver; key: string }> {
  const app = await startReceiver();
  const dev = await registerDeveloper(base);
  const set = await call(base, "PATCH", appPath(dev), { body: { secret: dev.secret, approvalUrl: `${app.url}/approval`, notificationUrl: `${app.url}/notify` } });
  if (set.status !== 200) throw new Error(`patch: ${set.status}`);
  const key = await connect(base, dev, app);
  return { dev, app, key };
}
