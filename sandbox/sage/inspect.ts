// GET /sage/inspect — a human view of what exists "in Sage" per business (for the demo).
import { escapeHtml, html, type Reply } from "../http";
import type { RequestContext } from "../router";
import { outstanding } from "./api/artefacts";
import type { ArtefactRec } from "./data";
import { sagePage } from "./pages";
import { sageTimestamp } from "./world";

function money(n: number, currency: string): string {
  return `${n.toFixed(2)} ${currency}`;
}

function artefactTable(title: string, rows: ArtefactRec[], baseCurrency: string): string {
  if (rows.length === 0) return `<h3>${escapeHtml(title)}</h3><p>None.</p>`;
  const body = rows
    .map((a) => {
      const lines = a.lines.map((l) => `${l.quantity} × ${escapeHtml(l.description)}`).join("<br>");
      // each line's net amount, tax rate and tax, as an accountant reads an invoice
      const lineTax = a.lines.map((l) => `${money(l.net_amount, a.currency_id)} · ${escapeHtml(l.tax_rate_id ?? "no tax rate")} ${money(l.tax_amount, a.currency_id)}`).join("<br>");
      return `<tr id="doc-${escapeHtml(a.id)}" data-id="${escapeHtml(a.id)}"><td>${escapeHtml(a.number)}</td><td>${escapeHtml(a.date)}</td><td>${escapeHtml(
        `${a.contact_name} (${a.contact_reference})`,
      )}</td><td>${escapeHtml(a.reference ?? "")}</td><td>${lines}</td><td data-testid="line-tax">${lineTax}</td><td>${escapeHtml(a.status)}${
        a.void_reason ? `<br><small>${escapeHtml(a.void_reason)}</small>` : ""
      }</td><td style="text-align:right">${money(a.net_amount, a.currency_id)}</td><td style="text-align:right">${money(
        a.tax_amount,
        a.currency_id,
      )}</td><td style="text-align:right">${money(a.total_amount, a.currency_id)}${a.currency_id !== baseCurrency ? `<br><small>rate ${a.exchange_rate}</small>` : ""}</td><td style="text-align:right">${money(
        outstanding(a),
        a.currency_id,
      )}</td><td>${escapeHtml(sageTimestamp(a.updatedMs))}</td></tr>`;
    })
    .join("\n");
  return `<h3>${escapeHtml(title)} (${rows.length})</h3>
<table>
<thead><tr><th>Number</th><th>Date</th><th>Contact</th><th>Reference</th><th>Lines</th><th>Line net · tax rate · tax</th><th>Status</th><th>Net</th><th>Tax</th><th>Total</th><th>Outstanding</th><th>Updated</th></tr></thead>
<tbody>
${body}
</tbody>
</table>`;
}

export function inspectPage(ctx: RequestContext): Reply {
  const sections: string[] = [];
  for (const b of ctx.sb.sage.businesses.values()) {
    const data = ctx.sb.sage.data.get(b.id);
    if (!data) continue;
    const contacts = data.contacts.live();
    sections.push(`<section aria-labelledby="b-${b.id}">
<h2 id="b-${b.id}">${escapeHtml(b.name)} <small>(${b.country}, ${b.currency}${b.subscriptionActive ? "" : ", subscription lapsed"})</small></h2>
<p><small>id ${escapeHtml(b.id)}</small> · ${contacts.length} contacts · ${data.products.size()} products · ${data.services.size()} services</p>
<details><summary>Contacts</summary><ul>${contacts
      .map((c) => {
        const address = c.main_address ? [c.main_address.address_line_1, c.main_address.city, c.main_address.postal_code, c.main_address.country_id].filter(Boolean).join(", ") : "";
        const extra = [c.currency_id, address, c.main_contact_person?.name, c.main_contact_person?.telephone, c.tax_number ? `VAT ${c.tax_number}` : null].filter(Boolean) as string[];
        return `<li>${escapeHtml(c.name)} (${escapeHtml(c.reference)})${c.main_contact_person?.email ? ` – ${escapeHtml(c.main_contact_person.email)}` : ""}${extra.length ? ` <small>· ${escapeHtml(extra.join(" · "))}</small>` : ""}</li>`;
      })
      .join("")}</ul></details>
${artefactTable("Sales invoices", data.salesInvoices.live(), data.currency)}
${artefactTable("Sales credit notes", data.salesCreditNotes.live(), data.currency)}
</section>`);
  }
  const refresh = Number(ctx.query.refresh ?? "");
  const page = sagePage(
    "Inspect",
    `<style>main{max-width:1200px} table{border-collapse:collapse;width:100%;font-size:13px;margin-bottom:16px} th,td{border-bottom:1px solid #dde3e6;padding:6px 8px;text-align:left;vertical-align:top} section{margin-bottom:32px}</style>
<h1>What is in Sage (sandbox)</h1>
<p>Invoices and credit notes per business, as the simulated Sage stores them. Add <code>?refresh=5</code> to reload every 5 seconds.</p>
${sections.join("\n")}`,
  );
  const withRefresh = refresh > 0 ? page.replace("<head>", `<head>\n<meta http-equiv="refresh" content="${Math.floor(refresh)}">`) : page;
  return html(200, withRefresh);
}
