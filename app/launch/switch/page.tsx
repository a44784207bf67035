import type { Metadata } from "next";
import Link from "next/link";
import { Button, linkButtonClass } from "@/components/ui/button";
import { Card, PageTitle } from "@/components/ui/card";
import { LaunchTokenError, verifyLaunchToken } from "@/lib/auth/launch-token";
import { getSessionUser } from "@/lib/auth/session";
import { continueAsLaunchUser } from "./actions";

export const metadata: Metadata = { title: "Switch user" };

/**
 * A marketplace launch arrived while someone else is signed in in this browser: say so and let the
 * person choose — a launch never replaces a different user's session silently (login CSRF).
 */
export default async function SwitchUserPage({ searchParams }: { searchParams: Promise<{ token?: string }> }) {
  const { token } = await searchParams;
  const launch = token ? await verifyLaunchToken(token).catch((e) => (e instanceof LaunchTokenError ? null : Promise.reject(e))) : null;
  const current = await getSessionUser();
  if (!launch) {
    return (
      <>
        <PageTitle>Sign-in link not valid</PageTitle>
        <Card>
          <p role="alert">This marketplace link cannot be used (it expired or is not valid). Reopen Sage Integration from the marketplace.</p>
        </Card>
      </>
    );
  }
  return (
    <>
      <PageTitle>Switch user?</PageTitle>
      <Card>
        <div role="alert" className="space-y-2">
          <p>
            You are signed in as <strong>{current ? current.email : "nobody"}</strong>.
          </p>
          <p>
            This link from <strong>{launch.marketplace.name}</strong> signs you in as <strong>{launch.email}</strong> (reseller account {launch.accountId}) instead.
            If you did not just open Sage Integration from your marketplace, do not continue.
          </p>
        </div>
        <div className="mt-4 flex gap-3">
          <form action={continueAsLaunchUser}>
            <input type="hidden" name="token" value={token} />
            <Button type="submit">Continue as {launch.email}</Button>
          </form>
          <Link className={linkButtonClass} href="/dashboard">
            Stay signed in as {current ? current.email : "the current user"}
          </Link>
        </div>
      </Card>
    </>
  );
}
