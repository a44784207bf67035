import NextAuth, { CredentialsSignin } from "next-auth";
import { authLogger } from "./auth-logger";
import Credentials from "next-auth/providers/credentials";
import { z } from "zod";
import { getDb } from "@/db/client";
import { trustsForwardedHeaders } from "@/lib/config";
import { authSecret } from "./auth-secret";
import { LaunchTokenError, signInWithLaunchToken } from "./launch-token";
import { clientAddress, signInWithPassword, SignInThrottledError } from "./password-sign-in";
import { safeAppPath } from "./redirects";
import { currentSessionVersion } from "./sessions";
import type { SessionUser } from "./session-user";

/** Thrown by the launch-token provider; `code` says why (expired, replayed, bad_signature…). */
export class LaunchSignInError extends CredentialsSignin {
  constructor(reason: string) {
    super(reason);
    this.code = reason;
  }
}

/** Thrown by the password provider while sign-ins for the e-mail or address are blocked. */
export class ThrottledSignInError extends CredentialsSignin {
  code = "rate_limited";
}

/**
 * Forwarded headers are not trusted unless configured (AUTH_TRUST_HOST): next-auth then builds every
 * URL from AUTH_URL, which defaults to APP_URL — never from a client-supplied X-Forwarded-Host.
 */
if (!trustsForwardedHeaders()) process.env.AUTH_URL ??= (process.env.APP_URL ?? "http://localhost:3000").replace(/\/$/, "");

/**
 * Cookies must work in the marketplace's cross-site iframe: SameSite=None; Secure; Partitioned (CHIPS).
 * No __Host-/__Secure- prefixes, so the same names work on http://localhost in development.
 * SameSite=None is why every write route refuses cross-site requests (proxy.ts, lib/http/write-guard.ts).
 */
const crossSiteCookie = { httpOnly: true, sameSite: "none" as const, secure: true, partitioned: true, path: "/" };

const passwordCredentials = z.object({ email: z.string().email().max(320), password: z.string().min(1).max(1024) });

export const { handlers, auth, signIn, signOut } = NextAuth({
  secret: authSecret(),
  // next-auth needs a trusted host; unless AUTH_TRUST_HOST is set, that host is AUTH_URL (= APP_URL), above
  trustHost: true,
  session: { strategy: "jwt", maxAge: 8 * 3600 },
  pages: { signIn: "/login", error: "/login" },
  logger: authLogger(),
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
      async authorize(raw, request) {
        const parsed = passwordCredentials.safeParse(raw);
        if (!parsed.success) return null;
        try {
          return await signInWithPassword(await getDb(), parsed.data.email, parsed.data.password, { address: clientAddress(request?.headers) });
        } catch (e) {
          if (e instanceof SignInThrottledError) throw new ThrottledSignInError(e.message);
          throw e;
        }
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
    async jwt({ token, user }) {
      if (user) {
        token.user = user as SessionUser;
        return token;
      }
      // every later use: the session ends once the user signed out (session_version raised) or is gone
      const current = token.user as SessionUser | undefined;
      if (!current?.id) return null;
      const version = await currentSessionVersion(await getDb(), current.id);
      if (version === null || version !== current.sessionVersion) return null;
      return token;
    },
    session({ session, token }) {
      return { ...session, user: token.user as SessionUser } as unknown as typeof session;
    },
    redirect({ url, baseUrl }) {
      return `${baseUrl}${safeAppPath(url, new URL(baseUrl).origin)}`;
    },
  },
});
