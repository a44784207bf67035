import { describe, expect, it } from "vitest";
import { SignJWT } from "jose";
import { getConfig } from "@/lib/config";
import { verifyOAuthState } from "@/lib/oauth/state";

const sign = (claims: Record<string, unknown>) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setAudience("sage-connector/oauth-state")
    .setExpirationTime("10m")
    .sign(new TextEncoder().encode(getConfig().oauthStateSecret));

describe("OAuth state: signed claims must be storable text", () => {
  it("accepts a well-formed state", async () => {
    await expect(verifyOAuthState(await sign({ brand: "demo", tenant: "t-1", installation: null, nonce: "n1", purpose: "connect" }))).resolves.toMatchObject({ brand: "demo", tenant: "t-1" });
  });

  it("refuses NUL and lone surrogates in any claim as tampered", async () => {
    for (const claims of [
      { brand: "demo", tenant: "t\u0000", nonce: "n" },
      { brand: "de\ud800mo", tenant: "t", nonce: "n" },
      { brand: "demo", tenant: "t", nonce: "\u0000" },
      { brand: "demo", tenant: "t", nonce: "n", installation: "i\u0000" },
    ]) {
      await expect(verifyOAuthState(await sign({ ...claims, purpose: "connect" }))).rejects.toMatchObject({ reason: "tampered" });
    }
  });
});
