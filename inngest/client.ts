import { Inngest } from "inngest";

/**
 * The Inngest client (SDK v4).
 *
 * Two ways to run the functions in `inngest/functions`:
 * - **server mode** (production): a real Inngest server runs them through `app/api/inngest`.
 *   Inngest Cloud: set `INNGEST_EVENT_KEY` + `INNGEST_SIGNING_KEY`. Self-hosted (`inngest start`)
 *   or the dev server (`inngest dev`): set `INNGEST_BASE_URL` (+ keys) or `INNGEST_DEV=1` /
 *   `INNGEST_DEV=<url>`. The SDK reads these variables itself.
 * - **inline mode** (development and tests, none of the variables above set): the inline runner
 *   (`inngest/inline-runner.ts`) runs the same handlers in-process, durably in the database.
 */
export const INNGEST_APP_ID = "sage-connector";

const SERVER_ENV_VARS = ["INNGEST_EVENT_KEY", "INNGEST_SIGNING_KEY", "INNGEST_BASE_URL", "INNGEST_DEV"] as const;

function isSet(name: string, env: Readonly<Record<string, string | undefined>>): boolean {
  const value = env[name]?.trim();
  if (!value) return false;
  // `INNGEST_DEV=0` / `false` means "not the dev server" to the SDK, so it does not select a server.
  if (name === "INNGEST_DEV" && /^(0|false|no|off)$/i.test(value)) return false;
  return true;
}

/** True when no Inngest server is configured: events are run by the in-process inline runner. */
export function isInlineMode(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return !SERVER_ENV_VARS.some((name) => isSet(name, env));
}

/**
 * Configured from the environment by the SDK. In inline mode this client is only used to define
 * functions (never to send): `sendEvent` in `inngest/send.ts` routes events to the inline runner.
 */
/**
 * Checkpointing (on by default in SDK v4) runs steps back to back inside one request; on a
 * serverless host the request must hand back to Inngest before the host's limit: `maxRuntime` stays
 * below the route's `maxDuration` (app/api/inngest/route.ts, 300 s). INNGEST_CHECKPOINT_MAX_RUNTIME
 * overrides it (e.g. "50s" on a host that allows 60 s).
 */
export const CHECKPOINT_MAX_RUNTIME = process.env.INNGEST_CHECKPOINT_MAX_RUNTIME?.trim() || "240s";

export const inngest = new Inngest({ id: INNGEST_APP_ID, checkpointing: { maxRuntime: CHECKPOINT_MAX_RUNTIME } });
