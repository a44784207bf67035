// Reply helpers shared by the Sage 50 routes: JSON errors ({ "error": code, "message"? }), JSON
// object bodies, HTML pages.
import { escapeHtml, html, isRecord, json, type Reply } from "../http";
import { jsonOf, type RequestContext } from "../router";

export function fail(status: number, error: string, message?: string, extra: Record<string, unknown> = {}): Reply {
  const r = json(status, message === undefined ? { error, ...extra } : { error, message, ...extra });
  r.log = { error };
  return r;
}

export type BodyResult = { ok: true; body: Record<string, unknown> } | { ok: false; reply: Reply };

/** The request's JSON object body, or the 400 to answer. */
export function objectBody(ctx: RequestContext): BodyResult {
  const parsed = jsonOf(ctx);
  if (!parsed.ok) return { ok: false, reply: fail(400, "invalid_json", `The body is not JSON: ${parsed.error}`) };
  if (!isRecord(parsed.value)) return { ok: false, reply: fail(400, "invalid_json", "The body must be a JSON object.") };
  return { ok: true, body: parsed.value };
}

export function optionalString(v: unknown): v is string | undefined {
  return v === undefined || typeof v === "string";
}

export function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}

const STYLE = `
  body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #f4f6f7; color: #1f2a30; }
  header { background: #00a65a; color: #fff; padding: 12px 24px; font-weight: 600; }
  main { max-width: 560px; margin: 32px auto; background: #fff; border-radius: 8px; padding: 24px 28px; box-shadow: 0 1px 8px rgba(0,0,0,.08); }
  h1 { font-size: 21px; margin: 0 0 14px; }
  label { display: block; font-weight: 600; margin: 14px 0 4px; }
  label.inline { display: inline; margin: 0 0 0 6px; }
  input[type=text], select { font: inherit; padding: 8px; width: 100%; box-sizing: border-box; }
  button { font: inherit; font-weight: 600; padding: 9px 20px; margin: 18px 12px 0 0; border-radius: 6px; border: 2px solid #00a65a; background: #00a65a; color: #fff; cursor: pointer; }
  button.secondary { background: #fff; color: #1f2a30; border-color: #9aa7ad; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; }
  dt { font-weight: 600; }
  dd { margin: 0; }
  code { background: #eef1f2; padding: 1px 5px; border-radius: 4px; word-break: break-all; }
  .error { border-left: 4px solid #d0021b; background: #fdecee; padding: 10px 14px; }
  .ok { border-left: 4px solid #00a65a; background: #eefbf1; padding: 10px 14px; }
  footer { text-align: center; color: #7b888e; font-size: 12px; margin-bottom: 24px; }
`;

export function page(status: number, product: string, title: string, body: string): Reply {
  return html(
    status,
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} – ${escapeHtml(product)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>${escapeHtml(product)}</header>
<main>
${body}
</main>
<footer>Sandbox simulation of Sage 50 Cloud (Connected Cloud). Not affiliated with Sage.</footer>
</body>
</html>`,
  );
}

export function errorPage(status: number, product: string, title: string, message: string): Reply {
  return page(status, product, title, `<h1>${escapeHtml(title)}</h1>\n<div class="error" role="alert"><p>${escapeHtml(message)}</p></div>`);
}
