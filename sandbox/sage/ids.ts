import { createHash, randomBytes } from "node:crypto";

/** Deterministic 32-hex id (Sage's id shape) from a seed string — stable across restarts. */
export function seededId(seed: string): string {
  return createHash("sha256").update(`sage-sandbox:${seed}`).digest("hex").slice(0, 32);
}

/** Random 32-hex id for records created at run time. */
export function randomId(): string {
  return randomBytes(16).toString("hex");
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

export const HEX32 = /^[0-9a-f]{32}$/;
