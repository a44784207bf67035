import { describe, expect, it } from "vitest";
import { PUBLIC_DEFAULTS } from "@/lib/config";
import { formatProductionConfigProblems, productionConfigProblems } from "@/lib/config/production-check";

/** A production environment with nothing to refuse. */
const validProductionEnv = (): Record<string, string | undefined> => ({
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
  DATABASE_URL: "postgres://app@db.example.com:5432/connector",
});

const variables = (env: Record<string, string | undefined>) => productionConfigProblems(env).map((p) => p.variable);
const marketplace = (extra: Record<string, unknown>) => ({ id: "acme", name: "Acme", origins: ["https://acme.example"], brandId: "demo", apiUrl: "https://acme.example/api", secret: "acme-marketplace-secret-123456", ...extra });

describe("productionConfigProblems (pure)", () => {
  it("accepts a fully configured production environment", () => {
    expect(productionConfigProblems(validProductionEnv())).toEqual([]);
  });

  it("the public defaults are the ones lib/config falls back to", () => {
    expect(PUBLIC_DEFAULTS).toEqual({
      MARKETPLACE_SECRET: "demo-marketplace-shared-secret-change-me",
      SAGE_CLIENT_ID: "sage-connector-demo",
      SAGE_CLIENT_SECRET: "sandbox-client-secret",
      OAUTH_STATE_SECRET: "dev-only-oauth-state-secret-0123456789abcdef",
    });
  });

  it.each([
    ["MARKETPLACE_SECRET", PUBLIC_DEFAULTS.MARKETPLACE_SECRET, /public default/],
    ["MARKETPLACE_SECRET", undefined, /not set/],
    ["SAGE_CLIENT_ID", PUBLIC_DEFAULTS.SAGE_CLIENT_ID, /public default/],
    ["SAGE_CLIENT_ID", undefined, /not set/],
    ["SAGE_CLIENT_SECRET", PUBLIC_DEFAULTS.SAGE_CLIENT_SECRET, /public default/],
    ["SAGE_CLIENT_SECRET", "", /not set/],
    ["OAUTH_STATE_SECRET", undefined, /not set/],
    ["OAUTH_STATE_SECRET", PUBLIC_DEFAULTS.OAUTH_STATE_SECRET, /public default/],
    ["OAUTH_STATE_SECRET", "short", /32 characters/],
    ["AUTH_SECRET", undefined, /not set/],
    ["APP_ENCRYPTION_KEY", undefined, /is not set/],
    ["APP_ENCRYPTION_KEY", "too-short", /must be 32 random bytes/],
    ["SAGE_AUTHORIZE_URL", undefined, /local sandbox/],
    ["SAGE_TOKEN_URL", undefined, /local sandbox/],
    ["SAGE_API_URL", undefined, /local sandbox/],
    ["APP_URL", undefined, /not set/],
    ["DATABASE_URL", undefined, /PGlite/],
    ["MARKETPLACE_PREVIOUS_SECRET", PUBLIC_DEFAULTS.MARKETPLACE_SECRET, /public default/],
  ])("%s = %j is refused, and only it", (variable, value, reason) => {
    const problems = productionConfigProblems({ ...validProductionEnv(), [variable]: value });
    expect(problems.map((p) => p.variable)).toEqual([variable]);
    expect(problems[0]!.problem).toMatch(reason);
  });

  it("PGlite is allowed only with SAGE_CONNECTOR_ALLOW_PGLITE=1", () => {
    expect(variables({ ...validProductionEnv(), DATABASE_URL: undefined, SAGE_CONNECTOR_ALLOW_PGLITE: "1" })).toEqual([]);
    expect(variables({ ...validProductionEnv(), DATABASE_URL: undefined, SAGE_CONNECTOR_ALLOW_PGLITE: "true" })).toEqual(["DATABASE_URL"]);
  });

  it("SAGE_CONNECTOR_DEMO=1 does not excuse public defaults", () => {
    expect(variables({ ...validProductionEnv(), SAGE_CONNECTOR_DEMO: "1", SAGE_CLIENT_SECRET: PUBLIC_DEFAULTS.SAGE_CLIENT_SECRET })).toEqual(["SAGE_CLIENT_SECRET"]);
  });

  it("MARKETPLACES: an entry whose secret or previous secret is the public default is refused; MARKETPLACE_SECRET is then not needed", () => {
    const base = { ...validProductionEnv(), MARKETPLACE_SECRET: undefined };
    expect(variables({ ...base, MARKETPLACES: JSON.stringify([marketplace({})]) })).toEqual([]);
    const bad = productionConfigProblems({ ...base, MARKETPLACES: JSON.stringify([marketplace({}), marketplace({ id: "demo", secret: PUBLIC_DEFAULTS.MARKETPLACE_SECRET })]) });
    expect(bad).toEqual([{ variable: "MARKETPLACES", problem: 'entry "demo": secret still has its public default' }]);
    const previous = productionConfigProblems({ ...base, MARKETPLACES: JSON.stringify([marketplace({ previousSecrets: ["old-secret-0123456789", PUBLIC_DEFAULTS.MARKETPLACE_SECRET] })]) });
    expect(previous).toEqual([{ variable: "MARKETPLACES", problem: 'entry "acme": previousSecrets contains the public default secret' }]);
    expect(variables({ ...base, MARKETPLACES: "[not json" })).toEqual(["MARKETPLACES"]);
  });

  it("names every offending variable in one message", () => {
    const env = { NODE_ENV: "production", MARKETPLACE_SECRET: PUBLIC_DEFAULTS.MARKETPLACE_SECRET, SAGE_CLIENT_SECRET: PUBLIC_DEFAULTS.SAGE_CLIENT_SECRET };
    const problems = productionConfigProblems(env);
    expect(problems.map((p) => p.variable).sort()).toEqual(
      ["APP_ENCRYPTION_KEY", "APP_URL", "AUTH_SECRET", "DATABASE_URL", "MARKETPLACE_SECRET", "OAUTH_STATE_SECRET", "SAGE_API_URL", "SAGE_AUTHORIZE_URL", "SAGE_CLIENT_ID", "SAGE_CLIENT_SECRET", "SAGE_TOKEN_URL"].sort(),
    );
    const message = formatProductionConfigProblems(problems);
    expect(message).toMatch(/^Refusing to start in production: /);
    expect(message).toContain("MARKETPLACE_SECRET still has its public default; ");
    expect(message).toContain("SAGE_CLIENT_SECRET still has its public default");
    expect(message.split("; ")).toHaveLength(problems.length);
  });
});
