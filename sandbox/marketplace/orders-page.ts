// GET/POST /marketplace/orders — where a human places orders in the simulated marketplace:
// new subscription, upgrade / downgrade / suspend / resume / cancel, usage, new customer.
// Every action sends its webhooks (order.created, customer.created) to the installation.
import { escapeHtml, html, redirect, type Reply } from "../http";
import { formOf, type RequestContext } from "../router";
import { FAMILIES } from "./catalog";
import { announceCustomer, announceOrder } from "./events";
import { MARKETPLACE_ACCOUNT, portalUser, resellerAccount } from "./identity";
import { marketplacePage } from "./layout";
import { OrderError, type AccountWorld, type OrderInput, type RequestRec, type Subscription } from "./world";

const MAX_SUBSCRIPTION_OPTIONS = 300;
const RECENT_REQUESTS = 50;

function pageUrl(accountId: string, extra: Record<string, string>): string {
  const q = new URLSearchParams();
  if (accountId !== MARKETPLACE_ACCOUNT.id) q.set("account", accountId);
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  const s = q.toString();
  return `/marketplace/orders${s ? `?${s}` : ""}`;
}

function itemsText(r: RequestRec): string {
  return r.api.asset.items
    .map((i) => (r.api.type === "change" || r.api.type === "cancel" ? `${i.mpn} ${i.old_quantity} → ${i.quantity}` : `${i.mpn} × ${i.quantity}`))
    .join(", ");
}

function subscriptionLabel(w: AccountWorld, s: Subscription): string {
  const customer = w.customersById.get(s.customerId)?.api.name ?? s.customerId;
  const items = [...s.items].map(([m, q]) => `${m} × ${q}`).join(", ");
  return `${s.id} · ${customer} · ${items || "no items"} (${s.status})`;
}

export function ordersPage(ctx: RequestContext): Reply {
  const account = resellerAccount(ctx.query.account, ctx.query.account_name);
  const user = portalUser(ctx.query.user);
  const w = ctx.sb.marketplace.account(account.id);
  const created = ctx.query.request ? w.requestsById.get(ctx.query.request) : undefined;
  const error = ctx.query.error;

  const live = [...w.subscriptions.values()].filter((s) => s.status !== "terminated").reverse().slice(0, MAX_SUBSCRIPTION_OPTIONS);
  const selectedSub = ctx.query.subscription && w.subscriptions.get(ctx.query.subscription)?.status !== "terminated" ? ctx.query.subscription : live[0]?.id;
  const orderable = w.products.filter((p) => p.api.type === "item" && !p.usage && p.family.id !== FAMILIES.generated.id);
  const usage = w.products.filter((p) => p.usage);
  const generatedCount = w.products.filter((p) => p.family.id === FAMILIES.generated.id).length;
  const recent = w.requests.slice(-RECENT_REQUESTS).reverse();
  const hidden = `<input type="hidden" name="account" value="${escapeHtml(account.id)}">${
    account.id !== MARKETPLACE_ACCOUNT.id ? `<input type="hidden" name="account_name" value="${escapeHtml(account.name)}">` : ""
  }`;

  const status = created
    ? `<p role="status" class="ok">Request <strong data-testid="created-request-id">${escapeHtml(created.api.id)}</strong> created: ${escapeHtml(created.api.type)} for ${escapeHtml(created.api.asset.tiers.customer.name)}, subscription <strong data-testid="created-subscription-id">${escapeHtml(created.api.asset.id)}</strong> (${escapeHtml(itemsText(created))}).</p>`
    : ctx.query.customer
      ? `<p role="status" class="ok">Customer <strong data-testid="created-customer-id">${escapeHtml(ctx.query.customer)}</strong> added.</p>`
      : "";
  const alert = error ? `<p role="alert" class="err">${escapeHtml(error)}</p>` : "";

  const customerOptions = w.customers
    .map((c) => `<option value="${escapeHtml(c.api.id)}">${escapeHtml(c.api.name)} (${escapeHtml(c.api.id)}, ${escapeHtml(c.api.currency)})</option>`)
    .join("");
  const productOptions = orderable
    .map((p) => `<option value="${escapeHtml(p.api.mpn)}">${escapeHtml(p.api.name)} — ${escapeHtml(p.api.mpn)} — ${escapeHtml(p.api.unit_price)} ${escapeHtml(p.api.currency)}</option>`)
    .join("");
  const subOptions = live
    .map((s) => `<option value="${escapeHtml(s.id)}"${s.id === selectedSub ? " selected" : ""}>${escapeHtml(subscriptionLabel(w, s))}</option>`)
    .join("");
  const usageOptions = usage.map((p) => `<option value="${escapeHtml(p.api.mpn)}">${escapeHtml(p.api.name)} — ${escapeHtml(p.api.mpn)}</option>`).join("");
  const fee = w.cancellationFee();

  const requestRows = recent
    .map(
      (r) => `<tr data-request-id="${escapeHtml(r.api.id)}"><td>${escapeHtml(r.api.id)}</td><td>${escapeHtml(r.api.type)}</td><td>${escapeHtml(r.api.asset.tiers.customer.name)}</td><td>${escapeHtml(r.api.asset.id)}</td><td>${escapeHtml(itemsText(r))}</td><td><time datetime="${escapeHtml(r.api.created)}">${escapeHtml(r.api.created)}</time></td></tr>`,
    )
    .join("");
  const subRows = live
    .slice(0, 100)
    .map((s) => `<tr data-subscription-id="${escapeHtml(s.id)}"><td>${escapeHtml(s.id)}</td><td>${escapeHtml(w.customersById.get(s.customerId)?.api.name ?? s.customerId)}</td><td>${escapeHtml([...s.items].map(([m, q]) => `${m} × ${q}`).join(", "))}</td><td>${escapeHtml(s.status)}</td><td>${escapeHtml(s.billingPeriod)}</td><td>${escapeHtml(s.currency)}</td></tr>`)
    .join("");

  const body = `<h1>Orders</h1>
<p class="muted">${escapeHtml(account.name)} (${escapeHtml(account.id)}) · ${w.installation ? `Sage Integration installed (${escapeHtml(w.installation.id)}); every order is sent to it as a webhook.` : "Sage Integration not installed yet: orders are only visible through the API."}</p>
${status}${alert}
<div class="cards">
<section class="card">
  <h2>Place a new subscription</h2>
  <form method="post" action="/marketplace/orders" class="form">
    ${hidden}
    <label for="f-customer">Customer</label>
    <select id="f-customer" name="customer_id" required>${customerOptions}</select>
    <label for="f-product">Product</label>
    <select id="f-product" name="mpn" required>${productOptions}</select>
    <label for="f-quantity">Quantity</label>
    <input id="f-quantity" name="quantity" type="number" min="1" step="1" value="1" required>
    <button type="submit" name="action" value="purchase">Place new subscription</button>
  </form>
  ${generatedCount ? `<p class="muted">${generatedCount} generated catalog products are not listed here.</p>` : ""}
</section>
<section class="card">
  <h2>Manage a subscription</h2>
  <form method="post" action="/marketplace/orders" class="form">
    ${hidden}
    <label for="f-subscription">Subscription</label>
    <select id="f-subscription" name="subscription_id">${subOptions || '<option value="">No subscriptions yet</option>'}</select>
    <fieldset>
      <legend>Change the number of units</legend>
      <label for="f-units">New number of units</label>
      <input id="f-units" name="units" type="number" min="0" step="1">
      <div class="buttons">
        <button type="submit" name="action" value="upgrade">Upgrade</button>
        <button type="submit" name="action" value="downgrade">Downgrade</button>
      </div>
    </fieldset>
    <fieldset>
      <legend>Suspend, resume or cancel</legend>
      ${fee ? `<label class="inline"><input type="checkbox" name="cancellation_fee" value="yes" checked> Charge cancellation fee (${escapeHtml(fee.api.mpn)}, ${escapeHtml(fee.api.unit_price)} ${escapeHtml(fee.api.currency)})</label>` : ""}
      <div class="buttons">
        <button type="submit" name="action" value="suspend">Suspend</button>
        <button type="submit" name="action" value="resume">Resume</button>
        <button type="submit" name="action" value="cancel">Cancel subscription</button>
      </div>
    </fieldset>
    <fieldset>
      <legend>Usage (billing request)</legend>
      <label for="f-usage-item">Usage item</label>
      <select id="f-usage-item" name="usage_mpn">${usageOptions}</select>
      <label for="f-usage-amount">Usage amount</label>
      <input id="f-usage-amount" name="usage_amount" type="number" min="0" step="any">
      <div class="buttons"><button type="submit" name="action" value="usage">Record usage</button></div>
    </fieldset>
  </form>
</section>
<section class="card">
  <h2>New customer</h2>
  <form method="post" action="/marketplace/orders" class="form">
    ${hidden}
    <label for="f-company">Company name</label>
    <input id="f-company" name="company_name" required maxlength="200">
    <label for="f-email">Billing e-mail</label>
    <input id="f-email" name="billing_email" type="email" required>
    <label for="f-currency">Currency</label>
    <select id="f-currency" name="currency"><option value="GBP">GBP</option><option value="EUR">EUR</option></select>
    <label for="f-country">Billing country</label>
    <select id="f-country" name="country"><option value="">(by currency: GB, or IE for EUR)</option>${COUNTRIES.map(([code, name]) => `<option value="${code}">${name} (${code})</option>`).join("")}</select>
    <label for="f-street">Street</label>
    <input id="f-street" name="line1" maxlength="200">
    <label for="f-city">City</label>
    <input id="f-city" name="city" maxlength="100">
    <label for="f-postcode">Postcode</label>
    <input id="f-postcode" name="postal_code" maxlength="20">
    <label for="f-vat">VAT number (optional)</label>
    <input id="f-vat" name="tax_id" maxlength="20">
    <button type="submit" name="action" value="customer">Add customer</button>
  </form>
</section>
</div>
<table class="grid">
<caption>Recent requests</caption>
<thead><tr><th>Request</th><th>Type</th><th>Customer</th><th>Subscription</th><th>Items</th><th>Created</th></tr></thead>
<tbody>${requestRows || '<tr><td colspan="6" class="muted">No requests yet.</td></tr>'}</tbody>
</table>
<table class="grid">
<caption>Subscriptions</caption>
<thead><tr><th>Subscription</th><th>Customer</th><th>Items</th><th>Status</th><th>Billing</th><th>Currency</th></tr></thead>
<tbody>${subRows || '<tr><td colspan="6" class="muted">No subscriptions yet.</td></tr>'}</tbody>
</table>`;
  return html(200, marketplacePage({ title: `Orders – ${account.name}`, current: "Orders", who: user.name, body, account: account.id }));
}

/** Billing countries the New customer form offers. */
const COUNTRIES: [string, string][] = [
  ["GB", "United Kingdom"],
  ["IE", "Ireland"],
  ["DE", "Germany"],
  ["FR", "France"],
  ["US", "United States"],
  ["CA", "Canada"],
];

export function submitOrder(ctx: RequestContext): Reply {
  const form = formOf(ctx);
  const account = resellerAccount(form.account, form.account_name);
  const w = ctx.sb.marketplace.account(account.id);
  const back = (extra: Record<string, string>): Reply => {
    if (form.account_name && account.id !== MARKETPLACE_ACCOUNT.id) extra = { account_name: form.account_name, ...extra };
    return redirect(pageUrl(account.id, extra), 303);
  };
  const action = form.action ?? "";
  const wholeNumber = (raw: string | undefined, what: string, min: number): number => {
    const v = (raw ?? "").trim();
    if (!/^\d+$/.test(v) || Number(v) < min) throw new OrderError(`${what} must be a whole number${min > 0 ? ` of at least ${min}` : ""}.`);
    return Number(v);
  };
  try {
    if (action === "customer") {
      const name = (form.company_name ?? "").trim();
      const email = (form.billing_email ?? "").trim();
      if (!name) throw new OrderError("Company name is required.");
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new OrderError("Billing e-mail is not a valid e-mail address.");
      const currency = form.currency === "EUR" ? "EUR" : "GBP";
      const country = COUNTRIES.some(([code]) => code === form.country) ? form.country! : currency === "EUR" ? "IE" : "GB";
      const address = { line1: (form.line1 ?? "").trim(), city: (form.city ?? "").trim(), postal_code: (form.postal_code ?? "").trim(), country };
      const c = w.addCustomer({ name, email, currency, contact_name: "", address, tax_id: (form.tax_id ?? "").trim() });
      announceCustomer(ctx.sb, w, c);
      return back({ customer: c.api.id });
    }
    let input: OrderInput;
    const subscriptionId = form.subscription_id || undefined;
    const sub = subscriptionId ? w.subscriptions.get(subscriptionId) : undefined;
    const needSub = (): Subscription => {
      if (!sub) throw new OrderError("Pick a subscription first.");
      return sub;
    };
    switch (action) {
      case "purchase":
        input = { type: "purchase", customer_id: form.customer_id, items: [{ mpn: form.mpn ?? "", quantity: wholeNumber(form.quantity, "Quantity", 1) }] };
        break;
      case "upgrade":
      case "downgrade": {
        const s = needSub();
        const units = wholeNumber(form.units, "New number of units", 1);
        const [mpn, current] = [...s.items][0] ?? ["", 0];
        if (!mpn) throw new OrderError(`Subscription ${s.id} has no items.`);
        if (action === "upgrade" && units <= current) throw new OrderError(`An upgrade needs more than the current ${current} units.`);
        if (action === "downgrade" && units >= current) throw new OrderError(`A downgrade needs fewer than the current ${current} units.`);
        input = { type: "change", subscription_id: s.id, items: [{ mpn, quantity: units }] };
        break;
      }
      case "suspend":
      case "resume":
        input = { type: action, subscription_id: needSub().id };
        break;
      case "cancel":
        input = { type: "cancel", subscription_id: needSub().id, cancellation_fee: form.cancellation_fee === "yes" };
        break;
      case "usage": {
        const amount = (form.usage_amount ?? "").trim();
        if (!/^\d+(\.\d+)?$/.test(amount) || Number(amount) <= 0) throw new OrderError("Usage amount must be a positive number.");
        input = { type: "billing", subscription_id: needSub().id, items: [{ mpn: form.usage_mpn ?? "", quantity: Number(amount) }] };
        break;
      }
      default:
        throw new OrderError(`Unknown action “${action}”.`);
    }
    const r = w.placeOrder(input);
    announceOrder(ctx.sb, w, r);
    return back({ request: r.api.id, subscription: r.api.asset.id });
  } catch (e) {
    if (e instanceof OrderError) return back(subscriptionIdOr(form.subscription_id, { error: e.message }));
    throw e;
  }
}

function subscriptionIdOr(id: string | undefined, extra: Record<string, string>): Record<string, string> {
  return id ? { ...extra, subscription: id } : extra;
}
