// The sandbox keeps its state in SANDBOX_DATA_DIR across restarts (even after SIGKILL), so a demo or
// a test can kill and restart it; without the variable it starts from the seeds. Runs the real
// sandbox as a child process (`node --import tsx sandbox/server.ts`), driven over HTTP only.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  APP_URL,
  CLIENT_ID,
  CLIENT_SECRET,
  MARKETPLACE_SECRET,
  api,
  body,
  control,
  createCustomer,
  refresh,
  sageSession,
  type Envelope,
  type Json,
  type TokenSet,
} from "./helpers";
import { ctl, mp, mpJson } from "./marketplace-helpers";

const root = path.resolve(__dirname, "../..");
let dir: string;
const started: ChildProcess[] = [];

interface Child {
  proc: ChildProcess;
  base: string;
  stdout: () => string;
}

async function startChild(dataDir: string | null): Promise<Child> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: "0",
    APP_URL,
    SAGE_CLIENT_ID: CLIENT_ID,
    SAGE_CLIENT_SECRET: CLIENT_SECRET,
    MARKETPLACE_SECRET,
  };
  delete env.SANDBOX_SAGE_REDIRECT_URIS;
  delete env.SANDBOX_HOST;
  if (dataDir) env.SANDBOX_DATA_DIR = dataDir;
  else delete env.SANDBOX_DATA_DIR;
  const proc = spawn(process.execPath, ["--import", "tsx", "sandbox/server.ts"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  started.push(proc);
  let out = "";
  let err = "";
  proc.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sandbox did not start: ${out}${err}`)), 30_000);
    const check = (): void => {
      const m = /listening on http:\/\/localhost:(\d+)/.exec(out);
      if (m && /\n {2}state {2,}.*\n/.test(out)) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    };
    proc.stdout?.on("data", check);
    proc.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`sandbox exited (${signal ?? code}) before listening: ${out}${err}`));
    });
  });
  return { proc, base, stdout: () => out };
}

function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once("exit", () => resolve()));
}

async function kill(c: Child, signal: NodeJS.Signals): Promise<void> {
  c.proc.kill(signal);
  await exited(c.proc);
}

async function contactIds(base: string, token: string, business: string): Promise<string[]> {
  const res = await api(base, token, "GET", "/contacts?items_per_page=200", { business });
  expect(res.status).toBe(200);
  return (await body<Envelope>(res)).$items.map((c) => String(c.id));
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-state-"));
});
afterEach(async () => {
  for (const p of started.splice(0)) {
    if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    await exited(p);
  }
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("SANDBOX_DATA_DIR", () => {
  it("keeps grants, Sage data and the marketplace across a SIGKILL; a start without it is empty", async () => {
    // ---- first run: consent, token, a contact, an installation and an order
    const first = await startChild(dir);
    expect(first.stdout()).toContain(path.join(dir, "sandbox-state.json"));
    const s = await sageSession(first.base);
    const tokens: TokenSet = s.tokens;
    const seedContacts = await contactIds(first.base, tokens.access_token, s.gb);
    const contact = await createCustomer(s, "Persistent Widgets Ltd", { reference: "PERSIST-1" });
    const inst = await mpJson(first.base, "/installations", {
      method: "POST",
      body: { account_id: "RES-1001", webhook_url: "http://127.0.0.1:9/hooks" },
    });
    const order = await ctl<Json>(first.base, "POST", "/marketplace/orders", {
      account_id: "RES-1001",
      webhooks: false,
      orders: [{ type: "purchase", customer_id: "TA-1001-0001", items: [{ mpn: "M365-BASIC-M", quantity: 3 }] }],
    });
    expect(order.status).toBe(201);
    const requestId = String((order.body.ids as string[])[0]);
    await new Promise((r) => setTimeout(r, 300));
    await kill(first, "SIGKILL");
    expect(first.proc.signalCode).toBe("SIGKILL");
    expect(fs.readdirSync(dir).sort()).toEqual(["sandbox-state.json"]);

    // ---- second run on the same directory
    const second = await startChild(dir);
    const res = await refresh(second.base, tokens.refresh_token);
    expect(res.status).toBe(200);
    const renewed = (await res.json()) as TokenSet;
    expect(renewed.access_token).toMatch(/.{16,}/);
    expect(renewed.access_token).not.toBe(tokens.access_token);
    expect(renewed.refresh_token).not.toBe(tokens.refresh_token);
    expect(renewed.requested_by_id).toBe(tokens.requested_by_id);
    // the rotated-away refresh token stays dead
    const again = await refresh(second.base, tokens.refresh_token);
    expect(again.status).toBe(400);
    expect(((await again.json()) as Json).error).toBe("invalid_grant");
    // the contact is there with the same id, for the old and the new access token
    expect(await contactIds(second.base, renewed.access_token, s.gb)).toEqual([...seedContacts, contact.id]);
    expect(await contactIds(second.base, tokens.access_token, s.gb)).toEqual([...seedContacts, contact.id]);
    const got = await body<Json>(await api(second.base, renewed.access_token, "GET", `/contacts/${String(contact.id)}`, { business: s.gb }));
    expect(got.reference).toBe("PERSIST-1");
    // the marketplace: same installation and secret, the order is listed
    const again2 = await mp(second.base, "/installations", { method: "POST", body: { account_id: "RES-1001", webhook_url: "http://127.0.0.1:9/hooks" } });
    expect(again2.status).toBe(200);
    const inst2 = (await again2.json()) as Json;
    expect([inst2.id, inst2.webhook_secret]).toEqual([inst.id, inst.webhook_secret]);
    const requests = (await mpJson<Json[]>(second.base, "/requests?account_id=RES-1001")).map((r) => r.id);
    expect(requests).toEqual([requestId]);
    // the request log keeps numbering from where it was
    const log = (await (await fetch(`${second.base}/__sandbox/requests`)).text()).trim().split("\n").map((l) => JSON.parse(l) as Json);
    const routes = log.map((e) => e.route);
    expect(routes.filter((r) => r === "sage.contacts.create")).toEqual(["sage.contacts.create"]);
    const seqs = log.map((e) => Number(e.seq));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);

    // ---- SIGTERM right after a change: the state is written on the way out
    const late = await createCustomer({ ...s, call: (m, p, o = {}) => api(second.base, renewed.access_token, m, p, { business: s.gb, ...o }) }, "Saved On Exit Ltd");
    await kill(second, "SIGTERM");
    expect(second.proc.exitCode).toBe(0);
    const third = await startChild(dir);
    expect(await contactIds(third.base, renewed.access_token, s.gb)).toEqual([...seedContacts, contact.id, late.id]);
    await kill(third, "SIGKILL");

    // ---- without the variable: the seeds, nothing from before
    const fresh = await startChild(null);
    expect(fresh.stdout()).toContain("in memory");
    const tokensNow = (await (await control(fresh.base, "GET", "/sage/tokens")).json()) as Json;
    expect(tokensNow).toEqual({ codes: { total: 0, unused: 0 }, accessTokens: { total: 0, live: 0 }, refreshTokens: { total: 0, live: 0 } });
    const dead = await refresh(fresh.base, renewed.refresh_token);
    expect(dead.status).toBe(400);
    expect(((await dead.json()) as Json).error).toBe("invalid_grant");
    expect((await api(fresh.base, renewed.access_token, "GET", "/contacts", { business: s.gb })).status).toBe(401);
    const state = (await (await control(fresh.base, "GET", `/state?business=${s.gb}`)).json()) as Json;
    expect((state.contacts as Json[]).map((c) => c.id)).toEqual(seedContacts);
    expect(await mpJson<Json[]>(fresh.base, "/requests?account_id=RES-1001")).toEqual([]);
    // and the state file was not touched by it
    const saved = JSON.parse(fs.readFileSync(path.join(dir, "sandbox-state.json"), "utf8")) as Json;
    expect(saved.version).toBe(1);
  });

  it("a reset is saved too: the next start begins from the seeds", async () => {
    const resetDir = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-state-reset-"));
    try {
      const a = await startChild(resetDir);
      const s = await sageSession(a.base);
      const seed = await contactIds(a.base, s.tokens.access_token, s.gb);
      await createCustomer(s, "Gone After Reset Ltd");
      expect((await control(a.base, "POST", "/reset")).status).toBe(200);
      await new Promise((r) => setTimeout(r, 300));
      await kill(a, "SIGKILL");
      const b = await startChild(resetDir);
      expect((await refresh(b.base, s.tokens.refresh_token)).status).toBe(400);
      const state = (await (await control(b.base, "GET", `/state?business=${s.gb}`)).json()) as Json;
      expect((state.contacts as Json[]).map((c) => c.id)).toEqual(seed);
    } finally {
      fs.rmSync(resetDir, { recursive: true, force: true });
    }
  });
});
