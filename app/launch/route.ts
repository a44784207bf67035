import { z } from "zod";
import { plainPage } from "@/components/plain-page";
import { LaunchSignInError, signIn } from "@/lib/auth/auth";

const query = z.object({ token: z.string().min(1).max(4096) });

/**
 * The marketplace portal opens the iframe at /launch?token=<JWT>. A valid, unused token signs the
 * user in (partitioned session cookie) and lands on the dashboard; anything else is a 401 page.
 */
export async function GET(request: Request) {
  const parsed = query.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!parsed.success) return plainPage(401, "Sign-in link not valid", "The marketplace did not send a launch token. Reopen Sage Integration from the marketplace.");
  try {
    await signIn("launch-token", { token: parsed.data.token, redirectTo: "/dashboard" });
  } catch (e) {
    if (e instanceof LaunchSignInError) {
      const reason = e.code;
      const message =
        reason === "expired"
          ? "This launch link has expired (they are valid for 5 minutes). Reopen Sage Integration from the marketplace."
          : reason === "replayed"
            ? "This launch link was already used. Reopen Sage Integration from the marketplace."
            : reason === "other_account"
              ? "This user belongs to another reseller account, or is not a reseller administrator. Ask your marketplace administrator for access."
            : "This launch link is not valid (its signature does not match). Reopen Sage Integration from the marketplace.";
      return plainPage(401, "Could not sign you in", message);
    }
    throw e; // NEXT_REDIRECT after a successful sign-in
  }
  return plainPage(401, "Could not sign you in", "Reopen Sage Integration from the marketplace.");
}
