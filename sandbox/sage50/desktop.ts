// The Sage 50 desktop side of consent: the person picks a company, enters the passcode, and grants
// or denies the application access to the e-Commerce domain; Sage then calls the application's
// approvalUrl (SAGE-FACTS.md §3 "Consent / API key"; payload and signing are the contract's).
import { escapeHtml, type Reply } from "../http";
import { formOf, route, type RequestContext, type Route } from "../router";
import { errorPage, page } from "./replies";
import { DOMAIN, DOMAIN_LABEL, iso, type Application, type Company, type Passcode } from "./state";

const DESKTOP = "Sage 50 desktop (sandbox)";

function desktopForm(ctx: RequestContext): Reply {
  const options = [...ctx.sb.sage50.companies.values()]
    .map((c) => `<option value="${escapeHtml(c.id)}">${escapeHtml(c.name)}</option>`)
    .join("\n");
  return page(
    200,
    DESKTOP,
    "Connect an application",
    `<h1>Sage 50 desktop (sandbox)</h1>
<p>Connect an application to one of your companies with the passcode the application gave you.</p>
<form method="post" action="/sage50/desktop">
<label for="company">Company</label>
<select id="company" name="company">
${options}
</select>
<label for="passcode">Passcode</label>
<input type="text" id="passcode" name="passcode" autocomplete="off" required>
<button type="submit">Continue</button>
</form>`,
  );
}

type Checked = { ok: true; company: Company; passcode: Passcode; app: Application } | { ok: false; reply: Reply };

/** The company, the usable passcode and its application named by the form, or the error page. */
function checkForm(ctx: RequestContext, form: Record<string, string>): Checked {
  const w = ctx.sb.sage50;
  const company = w.companies.get(form.company ?? "");
  if (!company) return { ok: false, reply: errorPage(400, DESKTOP, "Unknown company", "Choose one of the companies in the list.") };
  const code = (form.passcode ?? "").trim().toUpperCase();
  const passcode = w.passcodes.get(code);
  const app = passcode ? w.applications.get(passcode.applicationId) : undefined;
  if (!passcode || !app) return { ok: false, reply: errorPage(400, DESKTOP, "Unknown passcode", "Unknown passcode") };
  if (passcode.used || passcode.expiresMs <= w.now()) {
    return { ok: false, reply: errorPage(400, DESKTOP, "Passcode expired", "This passcode has expired") };
  }
  return { ok: true, company, passcode, app };
}

function confirmPage(ctx: RequestContext): Reply {
  const form = formOf(ctx);
  const checked = checkForm(ctx, form);
  if (!checked.ok) return checked.reply;
  const { company, passcode, app } = checked;
  return page(
    200,
    DESKTOP,
    "Grant access?",
    `<h1>Grant access?</h1>
<p>The application <strong>${escapeHtml(app.name)}</strong> asks for access to the <strong>${escapeHtml(DOMAIN_LABEL)}</strong> domain of <strong>${escapeHtml(company.name)}</strong>.</p>
<form method="post" action="/sage50/desktop/decision">
<input type="hidden" name="company" value="${escapeHtml(company.id)}">
<input type="hidden" name="passcode" value="${escapeHtml(passcode.code)}">
<button type="submit" name="decision" value="grant">Grant access</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>`,
  );
}

async function decide(ctx: RequestContext): Promise<Reply> {
  const form = formOf(ctx);
  const decision = form.decision;
  if (decision !== "grant" && decision !== "deny") return errorPage(400, DESKTOP, "No decision", "Choose Grant access or Deny.");
  const checked = checkForm(ctx, form);
  if (!checked.ok) return checked.reply;
  const { company, passcode, app } = checked;
  const w = ctx.sb.sage50;
  passcode.used = true;
  const common = { companyId: company.id, companyName: company.name, domain: DOMAIN };
  let payload: Record<string, unknown>;
  if (decision === "grant") {
    const key = w.issueKey(company.id, app.id);
    payload = { passcode: passcode.code, apikey: key.key, expires: iso(key.expiresMs), ...common };
  } else {
    payload = { passcode: passcode.code, denied: true, ...common };
  }
  const outcome = await ctx.sb.sage50Calls.approval(app, payload);
  ctx.entry.approval_status = outcome.status;
  const title = decision === "grant" ? "Access granted" : "Access denied";
  const what = decision === "grant" ? `${app.name} can now use the ${DOMAIN_LABEL} data of ${company.name}.` : `${app.name} was not given access to ${company.name}.`;
  const call = outcome.status !== null && outcome.status >= 200 && outcome.status < 300
    ? `<p class="ok" data-approval-status="${outcome.status}">The application was told: its approval URL answered HTTP ${outcome.status}.</p>`
    : `<div class="error" role="alert" data-approval-status="${outcome.status ?? ""}"><p>The application could not be told: ${escapeHtml(outcome.status !== null ? `its approval URL answered HTTP ${outcome.status}` : (outcome.error ?? "no answer"))}. The passcode is used up; ask the application for a new one.</p></div>`;
  return page(200, DESKTOP, title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(what)}</p>\n${call}`);
}

export const desktopRoutes: Route[] = [
  route("GET", "/sage50/desktop", "sage50.desktop", desktopForm),
  route("POST", "/sage50/desktop", "sage50.desktop.passcode", confirmPage),
  route("POST", "/sage50/desktop/decision", "sage50.desktop.decision", decide),
];
