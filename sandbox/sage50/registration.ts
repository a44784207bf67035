// Operator side of Connected Cloud: developer registration (registrationUrl → captcha page → ids by
// e-mail), more applications, application settings, passcodes. SAGE-FACTS.md §3 "Developer
// onboarding" and "Consent / API key"; field names beyond those are the contract's.
import { escapeHtml, json, type Reply } from "../http";
import { formOf, route, type RequestContext, type Route } from "../router";
import { errorPage, fail, isHttpUrl, objectBody, optionalString, page } from "./replies";
import { iso, newId, newPasscode, newSecret, newToken, type Application, type Developer } from "./state";

const PORTAL = "Sage 50 Cloud developer portal (sandbox)";
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function createDeveloper(ctx: RequestContext): Reply {
  const parsed = objectBody(ctx);
  if (!parsed.ok) return parsed.reply;
  const { name, email } = parsed.body;
  if (typeof name !== "string" || name.trim() === "") return fail(400, "invalid_request", "name is required");
  if (typeof email !== "string" || !EMAIL.test(email)) return fail(400, "invalid_request", "email must be an e-mail address");
  const w = ctx.sb.sage50;
  const token = newToken();
  w.registrations.set(token, { token, name: name.trim(), email: email.trim(), createdMs: w.now(), completed: false });
  return json(201, { registrationUrl: `${ctx.origin}/sage50/register/${token}` });
}

function captchaForm(token: string, problem?: string): string {
  return `<h1>Complete your developer registration</h1>
${problem ? `<div class="error" role="alert"><p>${escapeHtml(problem)}</p></div>` : ""}
<form method="post" action="/sage50/register/${escapeHtml(encodeURIComponent(token))}">
<p><input type="checkbox" id="captcha" name="captcha" value="solved"><label class="inline" for="captcha">I am not a robot</label></p>
<button type="submit">Complete registration</button>
</form>`;
}

function registrationPage(ctx: RequestContext): Reply {
  const reg = ctx.sb.sage50.registrations.get(ctx.params.token ?? "");
  if (!reg) return errorPage(404, PORTAL, "Unknown registration link", "This registration link is not known.");
  if (reg.completed) return errorPage(400, PORTAL, "Registration already completed", "This registration link has been used; the ids were sent by e-mail.");
  return page(200, PORTAL, "Developer registration", captchaForm(reg.token));
}

function completeRegistration(ctx: RequestContext): Reply {
  const w = ctx.sb.sage50;
  const reg = w.registrations.get(ctx.params.token ?? "");
  if (!reg) return errorPage(404, PORTAL, "Unknown registration link", "This registration link is not known.");
  if (reg.completed) return errorPage(400, PORTAL, "Registration already completed", "This registration link has been used; the ids were sent by e-mail.");
  if (formOf(ctx).captcha !== "solved") {
    return page(400, PORTAL, "Developer registration", captchaForm(reg.token, "Please confirm that you are not a robot."));
  }
  const now = w.now();
  const dev: Developer = { id: newId(), name: reg.name, email: reg.email, createdMs: now };
  const app: Application = { id: newId(), developerId: dev.id, name: reg.name, secret: newSecret(), approvalUrl: null, notificationUrl: null, createdMs: now };
  reg.completed = true;
  w.developers.set(dev.id, dev);
  w.applications.set(app.id, app);
  w.mailbox.push({ email: dev.email, developerId: dev.id, applicationId: app.id, secret: app.secret, sentAt: iso(now) });
  return page(
    200,
    PORTAL,
    "Registration complete",
    `<h1>Registration complete</h1>
<p class="ok">We have also sent these details to <strong>${escapeHtml(dev.email)}</strong>.</p>
<dl>
<dt>Developer id</dt><dd><code>${escapeHtml(dev.id)}</code></dd>
<dt>Application id</dt><dd><code>${escapeHtml(app.id)}</code></dd>
<dt>Application secret</dt><dd><code>${escapeHtml(app.secret)}</code></dd>
</dl>`,
  );
}

/** Checks optional approvalUrl / notificationUrl fields (string URL, or null to clear). */
function urlFields(body: Record<string, unknown>): { ok: true; value: Partial<Pick<Application, "approvalUrl" | "notificationUrl">> } | { ok: false; reply: Reply } {
  const value: Partial<Pick<Application, "approvalUrl" | "notificationUrl">> = {};
  for (const field of ["approvalUrl", "notificationUrl"] as const) {
    const v = body[field];
    if (v === undefined) continue;
    if (v !== null && (typeof v !== "string" || !isHttpUrl(v))) return { ok: false, reply: fail(400, "invalid_request", `${field} must be an http(s) URL or null`) };
    value[field] = v;
  }
  return { ok: true, value };
}

function appView(app: Application): Record<string, unknown> {
  return { applicationId: app.id, name: app.name, approvalUrl: app.approvalUrl, notificationUrl: app.notificationUrl };
}

function createApplication(ctx: RequestContext): Reply {
  const w = ctx.sb.sage50;
  const dev = w.developers.get(ctx.params.developerId ?? "");
  if (!dev) return fail(404, "unknown_developer");
  const parsed = objectBody(ctx);
  if (!parsed.ok) return parsed.reply;
  const { name } = parsed.body;
  if (typeof name !== "string" || name.trim() === "") return fail(400, "invalid_request", "name is required");
  const urls = urlFields(parsed.body);
  if (!urls.ok) return urls.reply;
  const app: Application = { id: newId(), developerId: dev.id, name: name.trim(), secret: newSecret(), approvalUrl: null, notificationUrl: null, createdMs: w.now(), ...urls.value };
  w.applications.set(app.id, app);
  return json(201, { applicationId: app.id, secret: app.secret });
}

/** The application of a developer, or the 404 to answer. */
export function applicationOf(ctx: RequestContext): { ok: true; app: Application } | { ok: false; reply: Reply } {
  const w = ctx.sb.sage50;
  if (!w.developers.has(ctx.params.developerId ?? "")) return { ok: false, reply: fail(404, "unknown_developer") };
  const app = w.applications.get(ctx.params.applicationId ?? "");
  if (!app || app.developerId !== ctx.params.developerId) return { ok: false, reply: fail(404, "unknown_application") };
  return { ok: true, app };
}

function updateApplication(ctx: RequestContext): Reply {
  const found = applicationOf(ctx);
  if (!found.ok) return found.reply;
  const parsed = objectBody(ctx);
  if (!parsed.ok) return parsed.reply;
  const { secret, name } = parsed.body;
  if (secret !== found.app.secret) return fail(401, "invalid_secret");
  if (!optionalString(name) || (name !== undefined && name.trim() === "")) return fail(400, "invalid_request", "name must be a non-empty string");
  const urls = urlFields(parsed.body);
  if (!urls.ok) return urls.reply;
  Object.assign(found.app, urls.value, name === undefined ? {} : { name: name.trim() });
  return json(200, appView(found.app));
}

function createPasscode(ctx: RequestContext): Reply {
  const found = applicationOf(ctx);
  if (!found.ok) return found.reply;
  const parsed = objectBody(ctx);
  if (!parsed.ok) return parsed.reply;
  if (parsed.body.secret !== found.app.secret) return fail(401, "invalid_secret");
  const w = ctx.sb.sage50;
  const now = w.now();
  let code = newPasscode();
  while (w.passcodes.has(code)) code = newPasscode();
  const expiresMs = now + w.config.passcodeTtlS * 1000;
  w.passcodes.set(code, { code, developerId: found.app.developerId, applicationId: found.app.id, createdMs: now, expiresMs, used: false });
  return json(201, { passcode: code, expires: iso(expiresMs) });
}

const APPS = "/sage50/api/developers/:developerId/applications";
export const registrationRoutes: Route[] = [
  route("POST", "/sage50/api/developers", "sage50.developers.create", createDeveloper),
  route("GET", "/sage50/register/:token", "sage50.register.page", registrationPage),
  route("POST", "/sage50/register/:token", "sage50.register.complete", completeRegistration),
  route("POST", APPS, "sage50.applications.create", createApplication),
  route("PATCH", `${APPS}/:applicationId`, "sage50.applications.update", updateApplication),
  route("POST", `${APPS}/:applicationId/passcodes`, "sage50.passcodes.create", createPasscode),
];
