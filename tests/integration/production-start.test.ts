import { spawn } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";

/**
 * The real start-up (lib/boot.ts `bootApp`, as instrumentation.ts runs it) in a child process with
 * NODE_ENV=production: a fully valid environment boots; each public default or missing value makes
 * it exit 1 with one message naming exactly that variable. The valid environment points at a
 * PostgreSQL URL that is never opened (bootApp only touches the database to seed the demo, and
 * SAGE_CONNECTOR_SEED_DEMO is unset), so no database is needed.
 */
const PUBLIC_MARKETPLACE_SECRET = "demo-marketplace-shared-secret-change-me";

const validEnv: Record<string, string> = {
  NODE_ENV: "production",
  APP_URL: "https://connector.example.com",
  AUTH_SECRET: "a-real-session-secret-of-enough-length",
  OAUTH_STATE_SECRET: "a-real-oauth-state-secret-0123456789abcdef",
  APP_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64"),
  MARKETPLACE_SECRET: "a-real-marketplace-shared-secret",
  SAGE_CLIENT_ID: "real-sage-client-id",
  SAGE_CLIENT_SECRET: "real-sage-client-secret",
  SAGE_AUTHORIZE_URL: "https://www.sageone.com/oauth2/auth/central?filter=apiv3.1",
  SAGE_TOKEN_URL: "https://oauth.accounting.sage.com/token",
  SAGE_API_URL: "https://api.accounting.sage.com/v3.1",
  DATABASE_URL: "postgres://app@127.0.0.1:1/never-opened",
};

const marketplacesWithDefault = JSON.stringify([
  { id: "demo-marketplace", name: "Demo", origins: ["https://portal.example"], secret: PUBLIC_MARKETPLACE_SECRET, brandId: "demo", apiUrl: "https://portal.example/api" },
]);

/** case name → the one variable the refusal must name, and how the valid env is spoiled */
const cases: Array<{ name: string; variable: string; env: Record<string, string | undefined> }> = [
  { name: "MARKETPLACE_SECRET is the public default", variable: "MARKETPLACE_SECRET", env: { MARKETPLACE_SECRET: PUBLIC_MARKETPLACE_SECRET } },
  { name: "a MARKETPLACES entry has the public default secret", variable: "MARKETPLACES", env: { MARKETPLACES: marketplacesWithDefault } },
  { name: "SAGE_CLIENT_ID is the public default", variable: "SAGE_CLIENT_ID", env: { SAGE_CLIENT_ID: "sage-connector-demo" } },
  { name: "SAGE_CLIENT_SECRET is the public default", variable: "SAGE_CLIENT_SECRET", env: { SAGE_CLIENT_SECRET: "sandbox-client-secret" } },
  { name: "OAUTH_STATE_SECRET is missing", variable: "OAUTH_STATE_SECRET", env: { OAUTH_STATE_SECRET: undefined } },
  { name: "AUTH_SECRET is missing", variable: "AUTH_SECRET", env: { AUTH_SECRET: undefined } },
  { name: "APP_ENCRYPTION_KEY is missing", variable: "APP_ENCRYPTION_KEY", env: { APP_ENCRYPTION_KEY: undefined } },
  { name: "SAGE_AUTHORIZE_URL is missing", variable: "SAGE_AUTHORIZE_URL", env: { SAGE_AUTHORIZE_URL: undefined } },
  { name: "SAGE_TOKEN_URL is missing", variable: "SAGE_TOKEN_URL", env: { SAGE_TOKEN_URL: undefined } },
  { name: "SAGE_API_URL is missing", variable: "SAGE_API_URL", env: { SAGE_API_URL: undefined } },
  { name: "APP_URL is missing", variable: "APP_URL", env: { APP_URL: undefined } },
  { name: "the database is PGlite without SAGE_CONNECTOR_ALLOW_PGLITE=1", variable: "DATABASE_URL", env: { DATABASE_URL: undefined } },
];

type Run = { status: number | null; stdout: string; stderr: string };

function boot(env: Record<string, string | undefined>): Promise<Run> {
  const script = "import('./lib/boot.ts').then(m => (m.bootApp ?? m.default.bootApp)()).then(() => console.log('BOOTED'))";
  const childEnv = Object.fromEntries(Object.entries({ PATH: process.env.PATH, ...env }).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "-e", script], { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 45_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** The variables named in the one refusal message (`Refusing to start in production: A …; B …`). */
function refusedVariables(stderr: string): string[] | undefined {
  const line = stderr.split("\n").find((l) => l.includes("Refusing to start in production: "));
  if (!line) return undefined;
  return line
    .slice(line.indexOf("Refusing to start in production: ") + "Refusing to start in production: ".length)
    .split("; ")
    .map((part) => part.split(" ")[0]!);
}

describe("production start-up refuses public defaults (real bootApp in a child process)", () => {
  const runs = new Map<string, Run>();
  beforeAll(async () => {
    // every child in parallel: one tsx start-up time for the whole file
    const all = await Promise.all([boot(validEnv), ...cases.map((c) => boot({ ...validEnv, ...c.env }))]);
    runs.set("valid", all[0]!);
    cases.forEach((c, i) => runs.set(c.name, all[i + 1]!));
  }, 90_000);

  it("boots with a fully valid production environment", () => {
    const run = runs.get("valid")!;
    expect(run.stderr).not.toContain("Refusing to start");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("BOOTED");
  });

  it.each(cases)("exits 1 naming only $variable when $name", ({ name, variable }) => {
    const run = runs.get(name)!;
    expect(run.status).toBe(1);
    expect(run.stdout).not.toContain("BOOTED");
    expect(refusedVariables(run.stderr)).toEqual([variable]);
  });

  it("SAGE_CONNECTOR_DEMO=1 does not bypass the refusal", async () => {
    const run = await boot({ ...validEnv, SAGE_CONNECTOR_DEMO: "1", SAGE_CLIENT_SECRET: "sandbox-client-secret", MARKETPLACE_SECRET: PUBLIC_MARKETPLACE_SECRET });
    expect(run.status).toBe(1);
    expect(refusedVariables(run.stderr)?.sort()).toEqual(["MARKETPLACE_SECRET", "SAGE_CLIENT_SECRET"]);
    expect(run.stderr).toMatch(/Refusing to start in production: MARKETPLACE_SECRET still has its public default; SAGE_CLIENT_SECRET still has its public default/);
  });
});
