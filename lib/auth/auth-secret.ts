import { devSecret } from "@/lib/config/dev-secrets";

/** The secret next-auth signs sessions with (AUTH_SECRET; a generated one in development). */
export function authSecret(): string {
  return process.env.AUTH_SECRET ?? devSecret("auth.secret");
}
