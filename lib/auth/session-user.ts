import type { UserRole } from "@/db/schema";

/** What a signed-in session carries (JWT session strategy). */
export type SessionUser = {
  id: string;
  email: string;
  name: string;
  role: UserRole;
  tenantId: string | null;
  /** how the session began */
  via: "password" | "marketplace";
  /** users.session_version when the session began; a later sign-out raises it and ends the session */
  sessionVersion: number;
};

export function actorFor(user: SessionUser) {
  return { type: user.role === "support" ? ("support" as const) : ("user" as const), id: user.id, label: `${user.name} <${user.email}>` };
}
