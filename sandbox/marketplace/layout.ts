// Shared HTML chrome for the simulated CloudBlue-style reseller marketplace.
import { escapeHtml } from "../http";
import { MARKETPLACE_ACCOUNT } from "./identity";

const STYLE = `
  * { box-sizing: border-box; }
  body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #eef2f7; color: #1b2533; }
  .topbar { background: #0b2e5f; color: #fff; display: flex; align-items: center; gap: 16px; padding: 10px 24px; }
  .topbar .brand { font-weight: 700; font-size: 17px; }
  .topbar .who { margin-left: auto; font-size: 14px; opacity: .9; }
  nav.side { background: #fff; border-bottom: 1px solid #d8e0ea; padding: 0 24px; }
  nav.side ul { list-style: none; display: flex; gap: 4px; margin: 0; padding: 0; }
  nav.side a { display: block; padding: 12px 14px; color: #1b2533; text-decoration: none; border-bottom: 3px solid transparent; }
  nav.side a[aria-current="page"] { border-bottom-color: #1a73e8; font-weight: 600; }
  main { padding: 20px 24px; }
  h1 { font-size: 22px; margin: 6px 0 16px; }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 16px; }
  .card { background: #fff; border-radius: 10px; padding: 18px; box-shadow: 0 1px 4px rgba(0,0,0,.08); display: flex; flex-direction: column; gap: 8px; }
  .card h2 { font-size: 18px; margin: 0; }
  .card p { margin: 0; color: #4a5868; font-size: 14px; }
  .card .cta { margin-top: auto; }
  a.button { display: inline-block; background: #1a73e8; color: #fff; text-decoration: none; padding: 9px 18px; border-radius: 6px; font-weight: 600; }
  .muted { color: #7a8796; font-size: 13px; }
  .form { display: flex; flex-direction: column; gap: 6px; }
  .form label { font-size: 14px; font-weight: 600; margin-top: 4px; }
  .form label.inline { font-weight: 400; }
  .form select, .form input[type=number], .form input[type=email], .form input:not([type]) { padding: 7px 8px; border: 1px solid #b9c4d2; border-radius: 6px; font: inherit; }
  .form fieldset { border: 1px solid #d8e0ea; border-radius: 8px; padding: 8px 12px 12px; display: flex; flex-direction: column; gap: 6px; }
  .form legend { font-size: 13px; color: #4a5868; }
  .buttons { display: flex; gap: 8px; flex-wrap: wrap; }
  button { background: #1a73e8; color: #fff; border: 0; padding: 8px 14px; border-radius: 6px; font: inherit; font-weight: 600; cursor: pointer; }
  p.ok { background: #e6f4ea; border: 1px solid #a8dab5; padding: 10px 14px; border-radius: 8px; }
  p.err { background: #fce8e6; border: 1px solid #f4b4ad; padding: 10px 14px; border-radius: 8px; }
  table.grid { width: 100%; border-collapse: collapse; background: #fff; border-radius: 8px; overflow: hidden; font-size: 14px; margin-bottom: 20px; }
  table.grid th, table.grid td { text-align: left; padding: 7px 10px; border-bottom: 1px solid #e3e8ef; }
  table.grid th { background: #f5f7fa; }
  table.grid caption { text-align: left; font-size: 18px; font-weight: 700; padding: 14px 0 8px; background: #eef2f7; }
  iframe.app { width: 100%; height: 900px; border: 1px solid #d8e0ea; border-radius: 8px; background: #fff; display: block; }
`;

export function marketplacePage(opts: { title: string; current: string; who?: string; body: string; account?: string }): string {
  // Links keep a non-default reseller account (?account=) across pages.
  const acct = opts.account && opts.account !== MARKETPLACE_ACCOUNT.id ? opts.account : undefined;
  const withAccount = (href: string): string => (acct ? `${href}${href.includes("?") ? "&" : "?"}account=${encodeURIComponent(acct)}` : href);
  const links: Array<[string, string]> = [
    ["Dashboard", withAccount("/marketplace/portal?view=dashboard")],
    ["Customers", withAccount("/marketplace/portal?view=customers")],
    ["Subscriptions", withAccount("/marketplace/portal?view=subscriptions")],
    ["Orders", withAccount("/marketplace/orders")],
    ["Integrations", withAccount("/marketplace/portal")],
    ["Store", withAccount("/marketplace/store")],
  ];
  const nav = links
    .map(([label, href]) => `<li><a href="${escapeHtml(href)}"${label === opts.current ? ' aria-current="page"' : ""}>${escapeHtml(label)}</a></li>`)
    .join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(opts.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header class="topbar"><span class="brand">Northwind Cloud Reseller · CloudBlue Commerce</span>${
    opts.who ? `<span class="who">Signed in as ${escapeHtml(opts.who)}</span>` : ""
  }</header>
<nav class="side" aria-label="Reseller portal"><ul>${nav}</ul></nav>
<main>
${opts.body}
</main>
</body>
</html>`;
}
