import { defineConfig } from "@playwright/test";
import fs from "node:fs";

/**
 * Browser tests drive Debian's Chromium (Playwright's own browser download cannot run offline).
 * The app and the sandbox are started by scripts/demo.mjs on their own ports with a fresh PGlite.
 */
const chromiumPath = process.env.CHROMIUM_PATH ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find((p) => fs.existsSync(p));
if (!chromiumPath) {
  throw new Error(
    "No Chromium found for the browser tests. Install one with `sudo apt-get install -y chromium` (Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium/Chrome binary.",
  );
}

/** Ports and data dir can be moved (E2E_APP_PORT, E2E_SANDBOX_PORT, E2E_DATA_DIR) so two runs can share a machine. */
export const E2E_APP_PORT = Number(process.env.E2E_APP_PORT ?? 3100);
export const E2E_SANDBOX_PORT = Number(process.env.E2E_SANDBOX_PORT ?? 4110);
const E2E_DATA_DIR = process.env.E2E_DATA_DIR ?? ".data/e2e";

export default defineConfig({
  testDir: "e2e",
  // the fuzz leaves thousands of webhook events behind for the app to work through: it runs after every other spec
  projects: [
    { name: "app", testIgnore: /fuzz\.spec\.ts$/ },
    { name: "fuzz", testMatch: /fuzz\.spec\.ts$/, dependencies: ["app"] },
  ],
  timeout: 90_000,
  expect: { timeout: 15_000 },
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: true,
  reporter: [["list"], ["json", { outputFile: process.env.E2E_RESULTS_FILE ?? ".data/e2e-results.json" }]],
  use: {
    baseURL: `http://localhost:${E2E_APP_PORT}`,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: chromiumPath,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    },
  },
  webServer: {
    command: "node scripts/demo.mjs",
    url: `http://localhost:${E2E_APP_PORT}/login`,
    timeout: 300_000,
    reuseExistingServer: false,
    // demo.mjs runs the app and the sandbox in their own process groups and stops them on SIGTERM;
    // Playwright's default (SIGKILL to demo.mjs's group) would leave both running, holding the ports
    gracefulShutdown: { signal: "SIGTERM", timeout: 15_000 },
    stdout: "ignore",
    stderr: "pipe",
    env: { APP_PORT: String(E2E_APP_PORT), SANDBOX_PORT: String(E2E_SANDBOX_PORT), DATA_DIR: E2E_DATA_DIR, DEMO_FRESH: "1" },
  },
});
