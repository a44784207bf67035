import { z } from "zod";

/**
 * The window messages of the consent popup (framework-free, used by the framed Connect page and by
 * the popup's own pages). The framed page and the popup are both on the app's origin, so every
 * message is sent with `targetOrigin` = that exact origin and accepted only when `event.origin` is it;
 * each side also checks `event.source` is the window it expects (the popup it opened / its opener).
 *
 *   popup → opener   { type: "sage-connector:consent-ready", v: 1 }             popup loaded, wants its ticket
 *   opener → popup   { type: "sage-connector:consent-ticket", v: 1, ticket }    the single-use ticket
 *   popup → opener   { type: "sage-connector:consent-finished", v: 1, next }    consent done: where the frame goes
 *
 * The ticket travels only this way — never in a URL — so a link to the popup page that someone else
 * sends cannot carry their ticket into a victim's browser.
 */
export const CONSENT_READY = "sage-connector:consent-ready";
export const CONSENT_TICKET = "sage-connector:consent-ticket";
export const CONSENT_FINISHED = "sage-connector:consent-finished";

/** The app page the popup opens (same origin as the framed page). */
export const CONSENT_POPUP_PATH = "/connect/popup";
export const CONSENT_POPUP_DONE_PATH = "/connect/popup/done";
/** `window.open` name and features: a window sized for a sign-in page. */
export const CONSENT_POPUP_NAME = "sage-connector-consent";
export const CONSENT_POPUP_SIZE = { width: 520, height: 720 };

const PROBLEM_REASONS = ["denied", "denied_kept", "business_mismatch", "tampered", "expired", "replayed", "wrong_tenant", "missing", "sage_error"] as const;

/**
 * Where the framed page may be sent after consent: exactly the places today's top-level callback
 * redirects to (business picker, settings wizard, dashboard, problem page). Anything else — another
 * origin, `//host`, a path we never send — is refused, so the message cannot be an open redirect.
 */
export function isConsentReturnPath(value: unknown): value is string {
  if (typeof value !== "string") return false;
  if (value === "/dashboard" || value === "/connect/business" || value === "/settings?setup=1" || value === "/settings?validated=1") return true;
  const m = /^\/connect\/problem\?reason=([a-z_]+)$/.exec(value);
  return !!m && (PROBLEM_REASONS as readonly string[]).includes(m[1]!);
}

const returnPath = z.string().max(100).refine(isConsentReturnPath);

export const consentMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal(CONSENT_READY), v: z.literal(1) }).strict(),
  z.object({ type: z.literal(CONSENT_TICKET), v: z.literal(1), ticket: z.string().min(20).max(4000) }).strict(),
  z.object({ type: z.literal(CONSENT_FINISHED), v: z.literal(1), next: returnPath }).strict(),
]);
export type ConsentMessage = z.infer<typeof consentMessageSchema>;

/** The message, if `event` is one of ours from `expectedOrigin`; otherwise null (ignored). */
export function readConsentMessage(event: { origin: string; data: unknown }, expectedOrigin: string): ConsentMessage | null {
  if (event.origin !== expectedOrigin) return null;
  const parsed = consentMessageSchema.safeParse(event.data);
  return parsed.success ? parsed.data : null;
}

/** `window.open` features centred on the current window. */
export function consentPopupFeatures(screenLike: { screenX: number; screenY: number; outerWidth: number; outerHeight: number }): string {
  const { width, height } = CONSENT_POPUP_SIZE;
  const left = Math.max(0, Math.round(screenLike.screenX + (screenLike.outerWidth - width) / 2));
  const top = Math.max(0, Math.round(screenLike.screenY + (screenLike.outerHeight - height) / 2));
  return `popup=yes,width=${width},height=${height},left=${left},top=${top}`;
}
