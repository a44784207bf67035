// GET /marketplace/store — "CloudBlue Store for Resellers" with the Sage Integration card.
import { escapeHtml, html, type Reply } from "../http";
import type { RequestContext } from "../router";
import { MARKETPLACE_ID, resellerAccount } from "./identity";
import { marketplacePage } from "./layout";

export function storePage(ctx: RequestContext): Reply {
  const account = resellerAccount(ctx.query.account, ctx.query.account_name);
  const installUrl = `${ctx.sb.opts.appUrl}/install?marketplace=${encodeURIComponent(MARKETPLACE_ID)}&account=${encodeURIComponent(account.id)}`;
  const body = `<h1>CloudBlue Store for Resellers</h1>
<p class="muted">Native integrations available to ${escapeHtml(account.name)} (${escapeHtml(account.id)}).</p>
<section class="cards" aria-label="Integrations">
  <article class="card" aria-labelledby="card-sage">
    <h2 id="card-sage">Sage Integration</h2>
    <p>Sync marketplace customers, orders, upgrades, downgrades and cancellations to Sage Business Cloud Accounting as contacts, sales invoices and credit notes.</p>
    <p class="muted">Publisher: Sage Connector (open source) · Free</p>
    <div class="cta"><a class="button" href="${escapeHtml(installUrl)}">Install now</a></div>
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
