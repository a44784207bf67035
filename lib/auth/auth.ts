import NextAuth, { CredentialsSignin } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { z } from "zod";
import { getDb } from "@/db/client";
import { devSecret } from "@/lib/config/dev-secrets";
import { LaunchTokenError, signInWithLaunchToken } from "./launch-token";
import { signInWithPassword } from "./password-sign-in";
import type { SessionUser } from "./session-user";

/** Thrown by the launch-token provider; `code` says why (expired, replayed, bad_signature…). */
export class LaunchSignInError extends CredentialsSignin {
  constructor(reason: string) {
    super(reason);
    this.code = reason;
  }
}

/**
 * Cookies must work in the marketplace's cross-site iframe: SameSite=None; Secure; Partitioned (CHIPS).
 * No __Host-/__Secure- prefixes, so the same names work on http://localhost in development.
 */
const crossSiteCookie = { httpOnly: true, sameSite: "none" as const, secure: true, partitioned: true, path: "/" };

const passwordCredentials = z.object({ email: z.string().email(), password: z.string().min(1) });

export const { handlers, auth, signIn, signOut } = NextAuth({
  secret: process.env.AUTH_SECRET ?? devSecret("auth.secret"),
  trustHost: true,
  session: { strategy: "jwt", maxAge: 8 * 3600 },
  pages: { signIn: "/login", error: "/login" },
  cookies: {
    sessionToken: { name: "sc.session", options: crossSiteCookie },
    callbackUrl: { name: "sc.callback-url", options: crossSiteCookie },
    csrfToken: { name: "sc.csrf", options: crossSiteCookie },
  },
  providers: [
    Credentials({
      id: "password",
      name: "E-mail and password",
      credentials: { email: {}, password: {} },
      async authorize(raw) {
        const parsed = passwordCredentials.safeParse(raw);
        if (!parsed.success) return null;
        return signInWithPassword(await getDb(), parsed.data.email, parsed.data.password);
      },
    }),
    Credentials({
      id: "launch-token",
      name: "Marketplace launch",
      credentials: { token: {} },
      async authorize(raw) {
        const token = typeof raw?.token === "string" ? raw.token : "";
        try {
          return await signInWithLaunchToken(await getDb(), token);
        } catch (e) {
          if (e instanceof LaunchTokenError) throw new LaunchSignInError(e.reason);
          throw e;
        }
      },
    }),
  ],
  callbacks: {
    jwt({ token, user }) {
      if (user) token.user = user as SessionUser;
      return token;
    },
    session({ session, token }) {
      return { ...session, user: token.user as SessionUser } as unknown as typeof session;
    },
  },
});
