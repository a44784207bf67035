#!/usr/bin/env node
// `npm run demo`: the product on its embedded defaults — sandbox (Sage + marketplace) on :4010,
// the app on :3000 over embedded PGlite in .data/, demo users seeded. No configuration needed.
//
// Options (env): APP_PORT (3000), SANDBOX_PORT (4010), DATA_DIR (.data), DEMO_FRESH=1 (wipe DATA_DIR/pglite and DATA_DIR/sandbox-state.json first),
// DEMO_RESTART_BASE_MS / DEMO_RESTART_MAX_MS / DEMO_MAX_FAST_CRASHES / DEMO_FAST_CRASH_MS (supervision: a crashed
// app or sandbox is restarted; the sandbox keeps its state in DATA_DIR/sandbox-state.json),
// DEMO_SKIP_BUILD=1 (use the existing .next build), DEMO_DATABASE_URL (PostgreSQL instead of PGlite),
// FILE_UPLOAD_FIRST_WAIT_MS (300: the app's first wait before reading a Sage 50 upload's tracking) and
// SANDBOX_SAGE50_TRACKING_STEP_MS (300: the sandbox's time per tracking stage) — brisk for the demo and e2e.
//
// The app runs with NODE_ENV=production, so it refuses public defaults (lib/config/production-check.ts):
// every secret below is generated once into DATA_DIR (development secrets, never for production), the
// Sage client id/secret are shared with the sandbox this script starts, the Sage URLs point at it, and
// PGlite is allowed explicitly (SAGE_CONNECTOR_ALLOW_PGLITE=1).
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { supervise } from "./supervise.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const appPort = Number(process.env.APP_PORT ?? 3000);
const sandboxPort = Number(process.env.SANDBOX_PORT ?? 4010);
const dataDir = path.resolve(root, process.env.DATA_DIR ?? ".data");
const appUrl = `http://localhost:${appPort}`;
const sandboxUrl = `http://localhost:${sandboxPort}`;
const portalOrigin = `http://127.0.0.1:${sandboxPort}`;

fs.mkdirSync(dataDir, { recursive: true });
if (process.env.DEMO_FRESH === "1") {
  fs.rmSync(path.join(dataDir, "pglite"), { recursive: true, force: true });
  fs.rmSync(path.join(dataDir, "sandbox-state.json"), { force: true });
}

/** A secret generated once into the data dir (development/demo only). */
const devSecretFiles = [];
function demoSecret(name, generate = () => randomBytes(32).toString("base64")) {
  const file = path.join(dataDir, name);
  devSecretFiles.push(name);
  if (!fs.existsSync(file)) {
    fs.writeFileSync(file, generate(), { mode: 0o600 });
    console.log(`[demo] generated ${path.relative(root, file)} (development only — set real secrets in production)`);
  }
  return fs.readFileSync(file, "utf8").trim();
}

const env = {
  ...process.env,
  NEXT_TELEMETRY_DISABLED: "1",
  APP_URL: appUrl,
  SANDBOX_URL: sandboxUrl,
  MARKETPLACE_ORIGIN: portalOrigin,
  APP_ENCRYPTION_KEY: process.env.APP_ENCRYPTION_KEY ?? demoSecret("encryption.key"),
  AUTH_SECRET: process.env.AUTH_SECRET ?? demoSecret("auth.secret"),
  OAUTH_STATE_SECRET: process.env.OAUTH_STATE_SECRET ?? demoSecret("oauth-state.secret"),
  MARKETPLACE_SECRET: process.env.MARKETPLACE_SECRET ?? demoSecret("marketplace.secret"),
  // The sandbox plays Sage: it reads the same client id and secret (sandbox/README.md), and the app's Sage URLs point at it.
  SAGE_CLIENT_ID: demoSecret("sage-client.id", () => `sage-connector-demo-${randomBytes(6).toString("hex")}`),
  SAGE_CLIENT_SECRET: demoSecret("sage-client.secret"),
  SAGE_AUTHORIZE_URL: `${sandboxUrl}/sage/oauth2/auth/central?filter=apiv3.1`,
  SAGE_TOKEN_URL: `${sandboxUrl}/sage/oauth/token`,
  SAGE_API_URL: `${sandboxUrl}/sage/v3.1`,
  PGLITE_DIR: path.join(dataDir, "pglite"),
  SAGE_CONNECTOR_SEED_DEMO: "1",
  // Sage 50 Cloud uploads: the app's first tracking wait (the sandbox's stage time is set for it below)
  FILE_UPLOAD_FIRST_WAIT_MS: process.env.FILE_UPLOAD_FIRST_WAIT_MS ?? "300",
};
delete env.SAGE_CONNECTOR_ALLOW_PGLITE;
// The demo runs on embedded PGlite (allowed explicitly) unless DATABASE_URL is given explicitly for it.
if (!process.env.DEMO_DATABASE_URL) {
  delete env.DATABASE_URL;
  env.SAGE_CONNECTOR_ALLOW_PGLITE = "1";
} else env.DATABASE_URL = process.env.DEMO_DATABASE_URL;
console.log(
  `[demo] DEVELOPMENT secrets from ${path.relative(root, dataDir) || "."}/ (${devSecretFiles.join(", ")}): ` +
    `generated for this demo and its sandbox only — never use them in production.`,
);

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (["node_modules", ".next", process.env.NEXT_DIST_DIR ?? ".next", ".data", ".git", "tests", "e2e", "bench", "sandbox", "test-results"].includes(entry.name)) continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

const buildId = path.join(root, process.env.NEXT_DIST_DIR ?? ".next", "BUILD_ID");
const stale = !fs.existsSync(buildId) || newestMtime(root) > fs.statSync(buildId).mtimeMs;
if (process.env.DEMO_SKIP_BUILD !== "1" && stale) {
  console.log("[demo] building the app (next build)…");
  const build = spawnSync("npx", ["next", "build"], { cwd: root, env: { ...env, NODE_ENV: "production" }, stdio: "inherit" });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

// Supervision (scripts/supervise.mjs): a child that exits while the demo is not stopping is restarted
// after a backoff (DEMO_RESTART_BASE_MS, default 1 s, doubling per consecutive fast crash, capped at
// DEMO_RESTART_MAX_MS, default 10 s). A run shorter than DEMO_FAST_CRASH_MS (30 s) is a fast crash; after
// DEMO_MAX_FAST_CRASHES (5) fast crashes in a row the demo gives up with a clear message. The sandbox keeps
// its state in DATA_DIR/sandbox-state.json (SANDBOX_DATA_DIR), so a restarted sandbox still knows the
// app's refresh tokens and the Sage data. Ctrl-C / SIGTERM stop every child (whole process groups).
const supervision = {
  baseDelayMs: Number(process.env.DEMO_RESTART_BASE_MS ?? 1000),
  maxDelayMs: Number(process.env.DEMO_RESTART_MAX_MS ?? 10_000),
  maxFastCrashes: Number(process.env.DEMO_MAX_FAST_CRASHES ?? 5),
  fastCrashMs: Number(process.env.DEMO_FAST_CRASH_MS ?? 30_000),
};

const supervised = [];
function run(name, command, args, extraEnv = {}) {
  supervised.push(
    supervise({ name, command, args, cwd: root, env: { ...env, ...extraEnv }, ...supervision, onGiveUp: () => shutdown(1) }),
  );
}

let shuttingDown = false;
function shutdown(code = 0) {
  if (shuttingDown) return;
  shuttingDown = true;
  Promise.all(supervised.map((s) => s.stop())).then(() => {
    console.log("[demo] stopped.");
    process.exit(code);
  });
}
process.on("SIGINT", () => shutdown(0));
process.on("SIGTERM", () => shutdown(0));

async function waitFor(url, name) {
  for (let i = 0; i < 240; i++) {
    if (shuttingDown) return;
    try {
      const res = await fetch(url, { redirect: "manual" });
      if (res.status < 500) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  console.error(`[demo] ${name} did not start at ${url} within 60 s; stopping the demo.`);
  shutdown(1);
}

run("sandbox", process.execPath, ["--import", "tsx", "sandbox/server.ts"], { PORT: String(sandboxPort), SANDBOX_DATA_DIR: dataDir, SANDBOX_SAGE50_TRACKING_STEP_MS: process.env.SANDBOX_SAGE50_TRACKING_STEP_MS ?? "300" });
run("app", "npx", ["next", "start", "-p", String(appPort)], { NODE_ENV: "production" });

await waitFor(`${sandboxUrl}/__sandbox/health`, "sandbox");
await waitFor(`${appUrl}/login`, "app");
// (a failed start has called shutdown(), which exits once the children are gone)
if (!shuttingDown) console.log(`
┌──────────────────────────────────────────────────────────────────────────────
│ Sage Connector demo is running
│
│   App                     ${appUrl}
│   Marketplace store       ${portalOrigin}/marketplace/store     (click “Install now”)
│   Marketplace portal      ${portalOrigin}/marketplace/portal    (the app inside a cross-site iframe)
│   Sage sandbox            ${sandboxUrl}/
│
│   Reseller admin          admin@northwind.test / northwind-demo
│   Support user            support@sage-connector.test / support-demo
│   Sage consent page       pick “Alex Morgan (1 business)” or “Sam Taylor (2 businesses)”
│
│   Data: ${path.relative(root, dataDir)}/ (${env.DATABASE_URL ? "database: DEMO_DATABASE_URL" : "embedded PGlite; delete it to start over"}). Ctrl+C stops.
│   Secrets: development only, generated into ${path.relative(root, dataDir)}/ — never use them in production.
└──────────────────────────────────────────────────────────────────────────────`);
