"use server";

import { getDb } from "@/db/client";
import { signOut } from "@/lib/auth/auth";
import { getSessionUser } from "@/lib/auth/session";
import { endSessions } from "@/lib/auth/sessions";

/** Sign out: the session cookie is cleared and the session itself ends server-side (session_version). */
export async function signOutAction() {
  const user = await getSessionUser();
  if (user) await endSessions(await getDb(), user);
  await signOut({ redirectTo: "/login" });
}
