/**
 * Bodies of Sage calls as the order trace stores them: secrets and personal data dropped, the
 * accounting facts kept (amounts, ids, references, currency, tax rate ids, line descriptions), and
 * the result truncated to a bounded size.
 */

export const MAX_STORED_BODY_CHARS = 4096;

/** keys whose value is a secret or personal data, wherever they occur */
const SENSITIVE_KEY =
  /token|secret|password|passcode|authori[sz]ation|api_?key|^key$|credential|e_?mail|phone|telephone|mobile|fax|address|street|city|postal|post_?code|zip|region|county|tax_?number|vat_?number|registration_?number|tax_?id|^name$|first_?name|last_?name|contact_?name|contact_?person|main_contact_person|person|signature/i;
/** keys kept even though they match the above (ids of records, not the data) */
const KEEP_KEY = /(_id|Id|_ids|Ids)$|^id$|^displayed_as$|^description$|^reference$|^currency/;

const EMAIL = /[A-Z0-9._%+-]+@[A-Z0-9.-]+\.[A-Z]{2,}/gi;
const BEARER = /bearer\s+[A-Za-z0-9._~+/=-]+/gi;
/** international phone numbers in free text (`+44 20 7946 0958`); ids and references carry no `+` */
const PHONE = /\+\d[\d ()-]{7,}\d/g;

function scrubString(v: string): string {
  return v.replace(EMAIL, "[email]").replace(BEARER, "Bearer [redacted]").replace(PHONE, "[phone]");
}

export function redactValue(value: unknown, depth = 0): unknown {
  if (depth > 12) return "[…]";
  if (typeof value === "string") return scrubString(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (SENSITIVE_KEY.test(k) && !KEEP_KEY.test(k)) out[k] = "[redacted]";
      else out[k] = redactValue(v, depth + 1);
    }
    return out;
  }
  return value;
}

/** A body (JSON text or not) redacted and cut to `max` characters; null stays null. */
export function redactBody(text: string | null | undefined, max = MAX_STORED_BODY_CHARS): string | null {
  if (text === null || text === undefined || text === "") return null;
  let out: string;
  try {
    out = JSON.stringify(redactValue(JSON.parse(text)));
  } catch {
    out = scrubString(text);
  }
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}

/** A URL's path only (no query string: search terms there can be e-mail addresses or secrets). */
export function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url.split("?")[0]!;
  }
}
