"use server";

import { AuthError } from "next-auth";
import { z } from "zod";
import { signIn } from "@/lib/auth/auth";

const loginSchema = z.object({
  email: z.string().trim().email("Enter your e-mail address."),
  password: z.string().min(1, "Enter your password."),
  callbackUrl: z.string().optional(),
});

export type LoginState = { error?: string; fieldErrors?: Partial<Record<"email" | "password", string>> };

/** Only same-site paths are accepted as a destination (no open redirect). */
function safeDestination(raw: string | undefined) {
  return raw && raw.startsWith("/") && !raw.startsWith("//") ? raw : "/dashboard";
}

export async function loginAction(_prev: LoginState, form: FormData): Promise<LoginState> {
  const parsed = loginSchema.safeParse(Object.fromEntries(form));
  if (!parsed.success) {
    const fieldErrors: LoginState["fieldErrors"] = {};
    for (const issue of parsed.error.issues) fieldErrors[issue.path[0] as "email" | "password"] = issue.message;
    return { fieldErrors };
  }
  try {
    await signIn("password", { email: parsed.data.email, password: parsed.data.password, redirectTo: safeDestination(parsed.data.callbackUrl) });
  } catch (e) {
    if (e instanceof AuthError) return { error: "The e-mail address or password is not right." };
    throw e; // the redirect after a successful sign-in
  }
  return {};
}
