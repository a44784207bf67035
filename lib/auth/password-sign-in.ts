import { eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { users } from "@/db/schema";
import { verifyPassword } from "./passwords";
import type { SessionUser } from "./session-user";

export async function signInWithPassword(db: Database, email: string, password: string): Promise<SessionUser | null> {
  const [user] = await db.select().from(users).where(eq(users.email, email.trim().toLowerCase()));
  if (!user || !verifyPassword(password, user.passwordHash)) return null;
  return { id: user.id, email: user.email, name: user.name, role: user.role, tenantId: user.tenantId, via: "password" };
}
