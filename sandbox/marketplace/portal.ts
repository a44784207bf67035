// GET /marketplace/portal — reseller portal embedding the app in an iframe with a fresh launch JWT.
import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import type { Sandbox } from "../context";
import { escapeHtml, html, type Reply } from "../http";
import type { RequestContext } from "../router";
import { LAUNCH_AUDIENCE, MARKETPLACE_ID, portalUser, resellerAccount, type PortalUser, type ResellerAccount } from "./identity";
import { marketplacePage } from "./layout";

export const LAUNCH_TOKEN_TTL_SECONDS = 300;

/** HS256 launch token: iss demo-marketplace, aud sage-connector, exp = iat + 300. */
export async function mintLaunchToken(sb: Sandbox, user: PortalUser, account: ResellerAccount = resellerAccount(undefined, undefined)): Promise<string> {
  const iat = Math.floor(sb.now() / 1000);
  return new SignJWT({
    email: user.email,
    name: user.name,
    account_id: account.id,
    account_name: account.name,
    role: user.role,
  })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(MARKETPLACE_ID)
    .setAudience(LAUNCH_AUDIENCE)
    .setSubject(user.email)
    .setJti(randomUUID())
    .setIssuedAt(iat)
    .setExpirationTime(iat + LAUNCH_TOKEN_TTL_SECONDS)
    .sign(new TextEncoder().encode(sb.opts.marketplaceSecret));
}

export async function portalPage(ctx: RequestContext): Promise<Reply> {
  const user = portalUser(ctx.query.user);
  const account = resellerAccount(ctx.query.account, ctx.query.account_name);
  const view = ctx.query.view;
  if (view && view !== "integrations") {
    const label = view.charAt(0).toUpperCase() + view.slice(1);
    return html(
      200,
      marketplacePage({
        title: `${label} – Reseller Portal`,
        current: label,
        who: user.name,
        account: account.id,
        body: `<h1>${escapeHtml(label)}</h1><p class="muted">This part of the reseller portal is not simulated.</p>`,
      }),
    );
  }
  const token = await mintLaunchToken(ctx.sb, user, account);
  const src = `${ctx.sb.opts.appUrl}/launch?token=${encodeURIComponent(token)}`;
  const body = `<h1>Integrations › Sage Integration</h1>
<p class="muted">${escapeHtml(account.name)} (${escapeHtml(account.id)}) · the integration runs on its own site and is shown here in a frame.</p>
<iframe class="app" title="Sage Integration" src="${escapeHtml(src)}" width="100%" height="900"></iframe>
<script>
// As a CloudBlue-style portal does: the plugin tells its height (postMessage); the frame follows it.
// Only messages from the plugin's own origin, from this frame, are believed.
(function () {
  var frame = document.querySelector("iframe.app");
  var appOrigin = ${JSON.stringify(new URL(ctx.sb.opts.appUrl).origin).replace(/</g, "\\u003c")};
  window.addEventListener("message", function (e) {
    if (e.origin !== appOrigin || e.source !== frame.contentWindow) return;
    var d = e.data;
    if (!d || d.type !== "sage-connector:frame-height" || typeof d.height !== "number" || !(d.height > 0)) return;
    // the height is the content's; the frame's border comes on top of it
    frame.style.boxSizing = "content-box";
    frame.style.height = Math.min(Math.ceil(d.height), 20000) + "px";
    frame.setAttribute("data-resized", "true");
  });
})();
</script>`;
  return html(200, marketplacePage({ title: `Reseller Portal – ${account.name}`, current: "Integrations", who: user.name, body, account: account.id }));
}
