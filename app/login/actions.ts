"use server";

import { AuthError } from "next-auth";
import { z } from "zod";
import { signIn, ThrottledSignInError } from "@/lib/auth/auth";
import { safeAppPath } from "@/lib/auth/redirects";
import { getConfig } from "@/lib/config";

const loginSchema = z.object({
  email: z.string().trim().email("Enter your e-mail address."),
  password: z.string().min(1, "Enter your password."),
  callbackUrl: z.string().optional(),
});

export type LoginState = { error?: string; fieldErrors?: Partial<Record<"email" | "password", string>> };


export async function loginAction(_prev: LoginState, form: FormData): Promise<LoginState> {
  const parsed = loginSchema.safeParse(Object.fromEntries(form));
  if (!parsed.success) {
    const fieldErrors: LoginState["fieldErrors"] = {};
    for (const issue of parsed.error.issues) fieldErrors[issue.path[0] as "email" | "password"] = issue.message;
    return { fieldErrors };
  }
  try {
    await signIn("password", { email: parsed.data.email, password: parsed.data.password, redirectTo: safeAppPath(parsed.data.callbackUrl, new URL(getConfig().appUrl).origin) });
  } catch (e) {
    if (e instanceof ThrottledSignInError || (e instanceof AuthError && (e as { code?: string }).code === "rate_limited")) {
      return { error: "Too many failed sign-ins for this e-mail address or network. Wait 15 minutes, then try again." };
    }
    if (e instanceof AuthError) return { error: "The e-mail address or password is not right." };
    throw e; // the redirect after a successful sign-in
  }
  return {};
}
