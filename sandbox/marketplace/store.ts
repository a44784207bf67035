// GET /marketplace/store — "CloudBlue Store for Resellers" with the Sage Integration card.
import { escapeHtml, html, redirect, type Reply } from "../http";
import { formOf, type RequestContext } from "../router";
import { MARKETPLACE_ID, resellerAccount } from "./identity";
import { marketplacePage } from "./layout";

export function storePage(ctx: RequestContext): Reply {
  const account = resellerAccount(ctx.query.account, ctx.query.account_name);
  const installUrl = `${ctx.sb.opts.appUrl}/install?marketplace=${encodeURIComponent(MARKETPLACE_ID)}&account=${encodeURIComponent(account.id)}`;
  const inst = ctx.sb.marketplace.accounts.get(account.id)?.installation;
  const installed = Boolean(inst && !inst.uninstalledMs);
  const notice = ctx.query.uninstalled ? `<p class="notice" role="status">Sage Integration was uninstalled; the plugin was told (installation.uninstalled).</p>` : "";
  const cta = installed
    ? `<p><strong>Installed</strong> · <a href="${escapeHtml(installUrl)}">Open</a></p>
    <form method="post" action="/marketplace/store/uninstall"><input type="hidden" name="account" value="${escapeHtml(account.id)}"><button type="submit" class="button secondary">Uninstall</button></form>`
    : `<div class="cta"><a class="button" href="${escapeHtml(installUrl)}">Install now</a></div>`;
  const body = `<h1>CloudBlue Store for Resellers</h1>${notice}
<p class="muted">Native integrations available to ${escapeHtml(account.name)} (${escapeHtml(account.id)}).</p>
<section class="cards" aria-label="Integrations">
  <article class="card" aria-labelledby="card-sage">
    <h2 id="card-sage">Sage Integration</h2>
    <p>Sync marketplace customers, orders, upgrades, downgrades and cancellations to Sage Business Cloud Accounting as contacts, sales invoices and credit notes.</p>
    <p class="muted">Publisher: Sage Connector (open source) · Free</p>
    ${cta}
  </article>
  <article class="card" aria-labelledby="card-xero">
    <h2 id="card-xero">Xero Integration</h2>
    <p>Sync invoices to Xero.</p>
    <p class="muted">Not available in this demo marketplace.</p>
  </article>
  <article class="card" aria-labelledby="card-qb">
    <h2 id="card-qb">QuickBooks Integration</h2>
    <p>Sync invoices to QuickBooks Online.</p>
    <p class="muted">Not available in this demo marketplace.</p>
  </article>
</section>`;
  return html(200, marketplacePage({ title: "CloudBlue Store for Resellers", current: "Store", body, account: account.id }));
}

/** POST /marketplace/store/uninstall — the reseller removes the plugin: `installation.uninstalled` is sent (signed) to it. */
export function uninstallFromStore(ctx: RequestContext): Reply {
  const form = formOf(ctx);
  const account = resellerAccount(form.account, form.account_name);
  const inst = ctx.sb.marketplace.uninstall(account.id);
  if (inst) ctx.sb.webhooks.emit(account.id, "installation.uninstalled", {});
  return redirect(`/marketplace/store?${new URLSearchParams({ account: account.id, ...(inst ? { uninstalled: "1" } : {}) })}`, 303);
}
