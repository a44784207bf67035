"use server";

import { redirect } from "next/navigation";
import { z } from "zod";
import { getDb } from "@/db/client";
import { LaunchSignInError, signIn } from "@/lib/auth/auth";
import { getSessionUser } from "@/lib/auth/session";
import { endSessions } from "@/lib/auth/sessions";

const form = z.object({ token: z.string().min(1).max(4096) });

/** "Continue as <the launch's user>": end the current session, then sign in with the launch token. */
export async function continueAsLaunchUser(data: FormData) {
  const parsed = form.safeParse(Object.fromEntries(data));
  if (!parsed.success) redirect("/launch/switch");
  const current = await getSessionUser();
  if (current) await endSessions(await getDb(), current);
  try {
    await signIn("launch-token", { token: parsed.data.token, redirectTo: "/dashboard" });
  } catch (e) {
    // /launch explains why the token cannot be used (expired, already used …)
    if (e instanceof LaunchSignInError) redirect(`/launch?token=${encodeURIComponent(parsed.data.token)}`);
    throw e; // NEXT_REDIRECT after a successful sign-in
  }
}
