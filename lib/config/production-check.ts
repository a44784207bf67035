import { PUBLIC_DEFAULTS } from "@/lib/config";

/**
 * What production refuses to start with: a secret that is missing or still has its public default
 * (the defaults are in this repository), a URL that would silently point at the local sandbox, and
 * the embedded PGlite database unless it is chosen explicitly. Pure: reads only the env object given.
 *
 * `SAGE_CONNECTOR_DEMO` does not bypass any of this: the demo passes its own generated values.
 */
export type ConfigProblem = { variable: string; problem: string };

type Env = Record<string, string | undefined>;

const PUBLIC_DEFAULT = "still has its public default";

function isSet(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== "";
}

/** Same rule as lib/crypto/envelope.ts: 32 bytes as 64 hex characters or base64. */
function isUsableEncryptionKey(raw: string): boolean {
  const trimmed = raw.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return true;
  return Buffer.from(trimmed, "base64").length === 32;
}

function marketplacesProblems(raw: string): ConfigProblem[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return [{ variable: "MARKETPLACES", problem: "is not valid JSON" }];
  }
  if (!Array.isArray(parsed)) return [{ variable: "MARKETPLACES", problem: "must be a JSON array of marketplaces" }];
  const problems: ConfigProblem[] = [];
  parsed.forEach((entry: unknown, i) => {
    const m = (entry ?? {}) as { id?: unknown; secret?: unknown; previousSecrets?: unknown };
    const label = typeof m.id === "string" && m.id ? `"${m.id}"` : `#${i}`;
    if (m.secret === PUBLIC_DEFAULTS.MARKETPLACE_SECRET) {
      problems.push({ variable: "MARKETPLACES", problem: `entry ${label}: secret ${PUBLIC_DEFAULT}` });
    }
    if (Array.isArray(m.previousSecrets) && m.previousSecrets.includes(PUBLIC_DEFAULTS.MARKETPLACE_SECRET)) {
      problems.push({ variable: "MARKETPLACES", problem: `entry ${label}: previousSecrets contains the public default secret` });
    }
  });
  return problems;
}

export function productionConfigProblems(env: Env): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (variable: string, problem: string) => problems.push({ variable, problem });

  if (!isSet(env.APP_URL)) add("APP_URL", "is not set (it defaults to http://localhost:3000)");

  // Marketplaces: MARKETPLACES (JSON) wins; MARKETPLACE_SECRET is the single-marketplace shortcut.
  if (isSet(env.MARKETPLACES)) {
    problems.push(...marketplacesProblems(env.MARKETPLACES));
  } else if (!isSet(env.MARKETPLACE_SECRET)) {
    add("MARKETPLACE_SECRET", `is not set (it defaults to a public value, or configure MARKETPLACES)`);
  }
  if (env.MARKETPLACE_SECRET === PUBLIC_DEFAULTS.MARKETPLACE_SECRET) add("MARKETPLACE_SECRET", PUBLIC_DEFAULT);
  if (env.MARKETPLACE_PREVIOUS_SECRET === PUBLIC_DEFAULTS.MARKETPLACE_SECRET) add("MARKETPLACE_PREVIOUS_SECRET", "is the public default marketplace secret");

  // Sage client credentials.
  for (const name of ["SAGE_CLIENT_ID", "SAGE_CLIENT_SECRET"] as const) {
    if (!isSet(env[name])) add(name, "is not set (it defaults to the sandbox's public value)");
    else if (env[name] === PUBLIC_DEFAULTS[name]) add(name, PUBLIC_DEFAULT);
  }
  // Sage endpoints default to the local sandbox.
  for (const name of ["SAGE_AUTHORIZE_URL", "SAGE_TOKEN_URL", "SAGE_API_URL"] as const) {
    if (!isSet(env[name])) add(name, "is not set (it defaults to the local sandbox)");
  }

  // OAuth state: must be explicit in production (no fallback to the session secret or the dev string).
  if (!isSet(env.OAUTH_STATE_SECRET)) add("OAUTH_STATE_SECRET", "is not set (production needs its own value, at least 32 characters)");
  else if (env.OAUTH_STATE_SECRET === PUBLIC_DEFAULTS.OAUTH_STATE_SECRET) add("OAUTH_STATE_SECRET", PUBLIC_DEFAULT);
  else if (env.OAUTH_STATE_SECRET.length < 32) add("OAUTH_STATE_SECRET", "is shorter than 32 characters");

  if (!isSet(env.AUTH_SECRET)) add("AUTH_SECRET", "is not set (it signs the session cookies)");

  if (!isSet(env.APP_ENCRYPTION_KEY)) {
    add("APP_ENCRYPTION_KEY", "is not set (a 32-byte key encrypts the Sage credentials, generate one with `openssl rand -base64 32`)");
  } else if (!isUsableEncryptionKey(env.APP_ENCRYPTION_KEY)) {
    add("APP_ENCRYPTION_KEY", "must be 32 random bytes, as 64 hex characters or base64 (e.g. `openssl rand -base64 32`)");
  }

  if (!isSet(env.DATABASE_URL) && env.SAGE_CONNECTOR_ALLOW_PGLITE !== "1") {
    add("DATABASE_URL", "is not set, so the database would be embedded PGlite (set a postgres:// URL, or SAGE_CONNECTOR_ALLOW_PGLITE=1 to run on PGlite on purpose)");
  }
  return problems;
}

/** The one start-up message: every offending variable, in order. */
export function formatProductionConfigProblems(problems: ConfigProblem[]): string {
  return `Refusing to start in production: ${problems.map((p) => `${p.variable} ${p.problem}`).join("; ")}`;
}
