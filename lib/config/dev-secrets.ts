import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * A secret generated once into `.data/<name>` for development and tests. In production the
 * matching environment variable is required instead — with no exception for the demo
 * (`SAGE_CONNECTOR_DEMO`): scripts/demo.mjs generates its secrets and passes them explicitly, and
 * lib/boot.ts refuses to start in production without them (lib/config/production-check.ts).
 */
export function devSecret(name: string): string {
  // `next build` evaluates modules to collect page data; no secret is used then.
  if (process.env.NEXT_PHASE === "phase-production-build") return "build-time-placeholder-never-used";
  if (process.env.NODE_ENV === "production") {
    throw new Error(`Missing secret ${name}: set it in the environment for production.`);
  }
  const file = path.join(process.cwd(), ".data", name);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, randomBytes(32).toString("base64url"), { mode: 0o600 });
  }
  return fs.readFileSync(file, "utf8").trim();
}
