import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { SignJWT, decodeJwt } from "jose";
import { eq, like } from "drizzle-orm";
import { actionLog, connections, launchTokenUses, oauthStates, users } from "@/db/schema";
import { startSageAuthorization } from "@/lib/connections/authorize";
import { CONSENT_TICKET_TTL_SECONDS, ConsentTicketError, completeSageAuthorizationInPopup, redeemConsentTicket, resolveConsentBinding, startSageAuthorizationInPopup } from "@/lib/connections/consent-popup";
import { decideOAuthRedirect } from "@/lib/oauth/redirector";
import { answerSageConsent } from "../helpers/sage-consent";
import { startWorld, type World } from "../helpers/world";

/**
 * Consent in a popup (issue #11): the framed Connect page mints a single-use ticket; the popup redeems it
 * for Sage's consent URL and a binding cookie; the callback accepts the binding only for its own state.
 */
describe("consent popup: ticket and binding", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
    await world.install();
  });
  afterAll(async () => world?.close());
  afterEach(() => vi.useRealTimers());

  const start = () => startSageAuthorizationInPopup(world.db.db, { tenantId: world.tenantId, userId: world.adminId, product: "sage-accounting", country: "gb" });

  /** Everything a refused ticket or binding must leave as it was. */
  async function snapshot() {
    const db = world.db.db;
    return {
      connections: await db.select().from(connections),
      log: (await db.select({ id: actionLog.id }).from(actionLog)).length,
      ticketUses: (await db.select().from(launchTokenUses).where(like(launchTokenUses.jti, "consent-ticket:%"))).length,
      usedStates: (await db.select().from(oauthStates)).filter((s) => s.usedAt).length,
    };
  }

  async function refusal(p: Promise<unknown>) {
    try {
      await p;
    } catch (e) {
      if (e instanceof ConsentTicketError) return e.reason;
      throw e;
    }
    return "accepted";
  }

  it("round trip: ticket → consent URL + binding → Sage → redirector → callback with the binding (no session) → connected", async () => {
    const { ticket, expiresInSeconds } = await start();
    expect(expiresInSeconds).toBe(CONSENT_TICKET_TTL_SECONDS);
    const claims = decodeJwt(ticket);
    expect(claims.exp! - claims.iat!).toBe(120);
    expect(claims.aud).toBe("sage-connector/consent-ticket");

    const { consentUrl, binding } = await redeemConsentTicket(world.db.db, { ticket });
    const consent = new URL(consentUrl);
    expect(consent.pathname).toBe("/sage/oauth2/auth/central");
    expect(consent.searchParams.get("redirect_uri")).toBe("http://localhost:3000/oauth2redirect");
    // the binding lives as long as the state it binds
    const state = (await world.db.db.select().from(oauthStates).where(eq(oauthStates.nonce, claims.nonce as string)))[0]!;
    expect(binding.expiresAt.getTime()).toBe(state.expiresAt.getTime());

    const sage = await answerSageConsent(consentUrl, { userLabel: /\(1 business\)/, decision: "allow" });
    const forward = await decideOAuthRedirect(sage.searchParams);
    if (forward.kind !== "forward") throw new Error(forward.message);
    const params = new URL(forward.location).searchParams;
    const bound = await resolveConsentBinding(world.db.db, { binding: binding.value, state: params.get("state") });
    const [admin] = await world.db.db.select().from(users).where(eq(users.id, world.adminId));
    expect(bound).toEqual({ ok: true, tenantId: world.tenantId, actor: { type: "user", id: world.adminId, label: `${admin!.name} <${admin!.email}>` } });
    expect(await completeSageAuthorizationInPopup(world.db.db, { binding: binding.value, params })).toEqual({
      ok: true,
      next: "/settings?setup=1",
      tenantId: world.tenantId,
      outcome: { kind: "connected", connectionId: (await world.connection())!.id, needsBusiness: false, resyncReviewId: null },
    });
    // once: the state is spent, the same answer again goes to the problem page
    expect(await completeSageAuthorizationInPopup(world.db.db, { binding: binding.value, params })).toEqual({
      ok: true,
      next: "/connect/problem?reason=replayed",
      tenantId: world.tenantId,
      outcome: { kind: "state_error", reason: "replayed", message: "This sign-in answer was already used." },
    });
    expect((await world.connection())!.businessName).toBe("Morgan Digital Ltd");
    // the Action Log names the reseller admin who started it in the frame
    const rows = await world.db.db.select().from(actionLog).where(eq(actionLog.tenantId, world.tenantId));
    expect(rows.find((r) => r.message === "Sage Business Cloud Accounting reconnected" || r.message === "Sage Business Cloud Accounting authorized")).toMatchObject({ actorId: world.adminId });
  });

  it("a ticket used once is refused the second time: no second binding, nothing changed", async () => {
    const { ticket } = await start();
    await redeemConsentTicket(world.db.db, { ticket });
    const before = await snapshot();
    expect(await refusal(redeemConsentTicket(world.db.db, { ticket }))).toBe("used");
    expect(await snapshot()).toEqual(before);
  });

  it("an expired ticket (older than 2 minutes) is refused and not burned", async () => {
    const { ticket } = await start();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + (CONSENT_TICKET_TTL_SECONDS + 1) * 1000);
    const before = await snapshot();
    expect(await refusal(redeemConsentTicket(world.db.db, { ticket }))).toBe("expired");
    expect(await snapshot()).toEqual(before);
  });

  it("a ticket not signed by us, or changed on the way, is refused", async () => {
    const { ticket } = await start();
    const before = await snapshot();
    const [h, p, s] = ticket.split(".");
    const payload = JSON.parse(Buffer.from(p!, "base64url").toString());
    const changed = [h, Buffer.from(JSON.stringify({ ...payload, url: "https://evil.example/phish" })).toString("base64url"), s].join(".");
    expect(await refusal(redeemConsentTicket(world.db.db, { ticket: changed }))).toBe("invalid");
    const foreign = await new SignJWT(payload).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode("not-our-key-not-our-key-not-our-key"));
    expect(await refusal(redeemConsentTicket(world.db.db, { ticket: foreign }))).toBe("invalid");
    // an OAuth state is signed by us too, but it is not a ticket
    const state = new URL(await startSageAuthorization(world.db.db, { tenantId: world.tenantId, userId: world.adminId, product: "sage-accounting", country: "gb" })).searchParams.get("state")!;
    expect(await refusal(redeemConsentTicket(world.db.db, { ticket: state }))).toBe("invalid");
    expect(await snapshot()).toEqual(before);
  });

  it("a ticket whose OAuth state was already used is refused", async () => {
    const { ticket } = await start();
    const nonce = decodeJwt(ticket).nonce as string;
    await world.db.db.update(oauthStates).set({ usedAt: new Date() }).where(eq(oauthStates.nonce, nonce));
    const before = await snapshot();
    expect(await refusal(redeemConsentTicket(world.db.db, { ticket }))).toBe("expired");
    expect(await snapshot()).toEqual(before);
  });

  it("support staff cannot redeem a ticket", async () => {
    const { ticket } = await start();
    const before = await snapshot();
    expect(await refusal(redeemConsentTicket(world.db.db, { ticket, supportSession: true }))).toBe("support");
    expect(await snapshot()).toEqual(before);
  });

  it("a binding for one sign-in does not complete another (a stranger's consent URL in this browser): refused, the state not consumed, nothing changed", async () => {
    // this browser's own popup flow
    const { ticket } = await start();
    const { binding } = await redeemConsentTicket(world.db.db, { ticket });
    // someone else's consent URL (another flow of theirs), answered in this browser
    const strangers = await startSageAuthorization(world.db.db, { tenantId: world.tenantId, userId: world.adminId, product: "sage-accounting", country: "gb" });
    const sage = await answerSageConsent(strangers, { userLabel: /Sam Taylor/, decision: "allow" });
    const forward = await decideOAuthRedirect(sage.searchParams);
    if (forward.kind !== "forward") throw new Error(forward.message);
    const before = await snapshot();
    const state = new URL(forward.location).searchParams.get("state");
    expect(await resolveConsentBinding(world.db.db, { binding: binding.value, state })).toMatchObject({ ok: false, reason: "mismatch" });
    // a forged binding or a tampered state: refused as well
    expect(await resolveConsentBinding(world.db.db, { binding: binding.value.slice(0, -2) + "xx", state })).toMatchObject({ ok: false, reason: "invalid" });
    expect(await resolveConsentBinding(world.db.db, { binding: binding.value, state: "x.y.z" })).toMatchObject({ ok: false, reason: "mismatch" });
    expect(await resolveConsentBinding(world.db.db, { binding: binding.value, state: null })).toMatchObject({ ok: false, reason: "mismatch" });
    // the callback's popup path: refused before anything is exchanged or stored
    expect(await completeSageAuthorizationInPopup(world.db.db, { binding: binding.value, params: new URL(forward.location).searchParams })).toEqual({
      ok: false,
      message: expect.stringContaining("was not started in this browser window"),
    });
    expect(await snapshot()).toEqual(before);
    const strangerNonce = decodeJwt(state!).nonce as string;
    expect((await world.db.db.select().from(oauthStates).where(eq(oauthStates.nonce, strangerNonce)))[0]!.usedAt).toBeNull();
  });

  it("a binding outlives nothing: once its state's 10 minutes are up it is refused", async () => {
    const { ticket } = await start();
    const { binding, consentUrl } = await redeemConsentTicket(world.db.db, { ticket });
    const state = new URL(consentUrl).searchParams.get("state");
    expect(await resolveConsentBinding(world.db.db, { binding: binding.value, state })).toMatchObject({ ok: true });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 11 * 60 * 1000);
    expect(await resolveConsentBinding(world.db.db, { binding: binding.value, state })).toMatchObject({ ok: false, reason: "invalid" });
  });
});
