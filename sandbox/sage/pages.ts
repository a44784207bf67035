// HTML for the simulated Sage sign-in/consent screens.
import { escapeHtml } from "../http";

const STYLE = `
  :root { color-scheme: light; }
  * { box-sizing: border-box; }
  body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #f2f5f6; color: #1f2a30; }
  header.brand { background: #000; color: #fff; padding: 14px 28px; display: flex; align-items: center; gap: 12px; }
  header.brand .logo { background: #00d639; color: #000; font-weight: 800; border-radius: 6px; padding: 4px 10px; letter-spacing: .5px; }
  header.brand .product { font-size: 18px; font-weight: 600; }
  main { max-width: 560px; margin: 40px auto; background: #fff; border-radius: 10px; box-shadow: 0 2px 12px rgba(0,0,0,.08); padding: 28px 32px; }
  h1 { font-size: 22px; margin: 0 0 12px; }
  fieldset { border: 1px solid #d6dde0; border-radius: 8px; padding: 12px 16px; margin: 18px 0; }
  legend { font-weight: 600; padding: 0 6px; }
  .user { display: flex; align-items: flex-start; gap: 10px; padding: 8px 0; }
  .user label { font-weight: 600; cursor: pointer; }
  .user .hint { display: block; color: #5c6b73; font-size: 13px; font-weight: 400; }
  .scope { background: #eefbf1; border-left: 4px solid #00d639; padding: 10px 14px; border-radius: 4px; }
  .actions { display: flex; gap: 12px; margin-top: 22px; }
  button { font: inherit; font-weight: 600; border-radius: 6px; padding: 10px 22px; cursor: pointer; border: 2px solid #00d639; }
  button.allow { background: #00d639; color: #000; }
  button.deny { background: #fff; color: #1f2a30; border-color: #9aa7ad; }
  .error { border-left: 4px solid #d0021b; background: #fdecee; padding: 12px 14px; border-radius: 4px; }
  code { background: #eef1f2; padding: 1px 5px; border-radius: 4px; word-break: break-all; }
  footer { text-align: center; color: #7b888e; font-size: 12px; margin-bottom: 30px; }
`;

export function sagePage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} – Sage Business Cloud Accounting</title>
<style>${STYLE}</style>
</head>
<body>
<header class="brand"><span class="logo" aria-hidden="true">sage</span><span class="product">Sage Business Cloud Accounting</span></header>
<main>
${body}
</main>
<footer>Sandbox simulation of Sage Business Cloud Accounting (API v3.1). Not affiliated with Sage.</footer>
</body>
</html>`;
}

export function sageErrorPage(title: string, message: string, detail?: string): string {
  return sagePage(
    title,
    `<h1>${escapeHtml(title)}</h1>
<div class="error" role="alert"><p>${escapeHtml(message)}</p>${detail ? `<p><code>${escapeHtml(detail)}</code></p>` : ""}</div>
<p>The application that sent you here is not set up correctly. You have not been redirected.</p>`,
  );
}

export interface ConsentUser {
  id: string;
  label: string;
  hint: string;
}

export function consentPage(opts: {
  appName: string;
  scope: string;
  requestId: string;
  users: ConsentUser[];
  action: string;
}): string {
  const scopeText =
    opts.scope === "readonly"
      ? "Read only access to your accounting data"
      : "Full access to your accounting data (read and write)";
  const users = opts.users
    .map(
      (u, i) => `<div class="user">
  <input type="radio" name="user" id="user-${escapeHtml(u.id)}" value="${escapeHtml(u.id)}"${i === 0 ? " checked" : ""} aria-describedby="user-${escapeHtml(u.id)}-hint">
  <label for="user-${escapeHtml(u.id)}">${escapeHtml(u.label)}</label>
  <span class="hint" id="user-${escapeHtml(u.id)}-hint">${escapeHtml(u.hint)}</span>
</div>`,
    )
    .join("\n");
  return sagePage(
    "Allow access",
    `<h1><strong>${escapeHtml(opts.appName)}</strong> would like to connect to your Sage account</h1>
<p>It is asking for:</p>
<p class="scope" data-scope="${escapeHtml(opts.scope)}">${escapeHtml(scopeText)} <code>${escapeHtml(opts.scope)}</code></p>
<form method="post" action="${escapeHtml(opts.action)}">
<input type="hidden" name="request_id" value="${escapeHtml(opts.requestId)}">
<fieldset>
<legend>Sign in as</legend>
${users}
</fieldset>
<p>You can revoke access at any time in Settings › Connected Apps.</p>
<div class="actions">
<button type="submit" class="allow" name="decision" value="allow">Allow</button>
<button type="submit" class="deny" name="decision" value="deny">Deny</button>
</div>
</form>`,
  );
}
