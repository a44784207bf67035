/** A small standalone HTML page for route handlers that must answer with a status code (401, 400). */
function escapeHtml(s: string) {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

export function plainPage(status: number, title: string, message: string, link?: { href: string; label: string }): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} — Sage Connector</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;background:#f8fafc;color:#1f2933;margin:0;padding:3rem 1.5rem}
main{max-width:36rem;margin:auto;background:#fff;border:1px solid #e2e8f0;border-radius:.5rem;padding:1.5rem}
h1{font-size:1.4rem;margin-top:0}a{color:#00815d}</style></head>
<body><main role="main"><h1>${escapeHtml(title)}</h1><p role="alert">${escapeHtml(message)}</p>
${link ? `<p><a href="${escapeHtml(link.href)}">${escapeHtml(link.label)}</a></p>` : ""}</main></body></html>`;
  return new Response(html, { status, headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" } });
}
