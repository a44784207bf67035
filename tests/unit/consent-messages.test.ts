import { describe, expect, it } from "vitest";
import { CONSENT_FINISHED, CONSENT_READY, CONSENT_TICKET, consentPopupFeatures, isConsentReturnPath, readConsentMessage } from "@/lib/oauth/consent-messages";

const APP = "https://app.example";

describe("consent popup messages", () => {
  it("accepts only our namespaced, versioned messages from the app's exact origin", () => {
    expect(readConsentMessage({ origin: APP, data: { type: CONSENT_READY, v: 1 } }, APP)).toEqual({ type: CONSENT_READY, v: 1 });
    expect(readConsentMessage({ origin: APP, data: { type: CONSENT_FINISHED, v: 1, next: "/dashboard" } }, APP)).toEqual({ type: CONSENT_FINISHED, v: 1, next: "/dashboard" });
    const ticket = { type: CONSENT_TICKET, v: 1, ticket: "a".repeat(40) };
    expect(readConsentMessage({ origin: APP, data: ticket }, APP)).toEqual(ticket);
    // another origin, a look-alike origin, the portal's origin
    for (const origin of ["https://evil.example", "https://app.example.evil.example", "http://app.example", "null", "https://portal.example"]) {
      expect(readConsentMessage({ origin, data: { type: CONSENT_READY, v: 1 } }, APP)).toBeNull();
    }
    // wrong shape: other versions, extra fields, strings, the frame-height message
    for (const data of [{ type: CONSENT_READY, v: 2 }, { type: CONSENT_READY, v: 1, extra: 1 }, "sage-connector:consent-ready", null, { type: "sage-connector:frame-height", height: 10 }, { type: CONSENT_TICKET, v: 1 }]) {
      expect(readConsentMessage({ origin: APP, data }, APP)).toBeNull();
    }
  });

  it("the frame is sent only where today's callback would send it — never to another origin", () => {
    for (const p of ["/dashboard", "/connect/business", "/settings?setup=1", "/settings?validated=1", "/connect/problem?reason=denied_kept", "/connect/problem?reason=business_mismatch"]) {
      expect(isConsentReturnPath(p), p).toBe(true);
    }
    for (const p of ["https://evil.example", "//evil.example", "/\\evil.example", "/dashboard/../../x", "/connect/problem?reason=<script>", "/connect/problem?reason=unknown", "/mapping", "javascript:alert(1)", "", 42, null]) {
      expect(isConsentReturnPath(p), String(p)).toBe(false);
    }
    expect(readConsentMessage({ origin: APP, data: { type: CONSENT_FINISHED, v: 1, next: "//evil.example" } }, APP)).toBeNull();
  });

  it("the popup is sized for a sign-in page and centred on the window", () => {
    expect(consentPopupFeatures({ screenX: 100, screenY: 50, outerWidth: 1200, outerHeight: 900 })).toBe("popup=yes,width=520,height=720,left=440,top=140");
  });
});
