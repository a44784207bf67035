/**
 * JSON from outside (marketplace webhooks, marketplace API answers) that PostgreSQL can store.
 *
 * PostgreSQL refuses some text that JavaScript and JSON accept:
 * - U+0000 (NUL): `jsonb` answers 22P05 "unsupported Unicode escape sequence", `text` 22021;
 * - a lone UTF-16 surrogate (`"\ud800"` without its pair): `jsonb` answers 22P02;
 * and absurd nesting overflows the stack wherever the value is walked recursively
 * (`JSON.stringify` on the way into a `jsonb` column, a reviver, a deep equality check).
 *
 * So text is checked at the edge, before anything is written: the nesting depth by a scan of the raw
 * text (no recursion, no parse of a body we refuse), then `JSON.parse` (iterative in V8), then every
 * string and key by an iterative walk. A problem names the JSON path of the first offending value,
 * e.g. `$.data.customer.name contains U+0000 (a NUL character)`. Own `__proto__` keys are dropped
 * (no marketplace sends one; kept, they would set the prototype of objects copied from the value).
 */

export const MAX_JSON_DEPTH = 64;

export type StorableProblemKind = "nul" | "lone_surrogate" | "too_deep";

export type StorableProblem = {
  kind: StorableProblemKind;
  /** JSONPath of the offending value (`$` is the whole document) */
  path: string;
  /** one sentence, storable itself (the offending characters are written as escapes) */
  message: string;
};

/** `value` comes with a problem found after parsing (to name the record in a report); never store it. */
export type ParseResult = { ok: true; value: unknown } | { ok: false; malformed: string } | { ok: false; problem: StorableProblem; value?: unknown };

/**
 * The deepest nesting of `[`/`{` in raw JSON text, scanning once without recursion; stops early and
 * returns the character offset as soon as `maxDepth` is exceeded. Strings (and escapes in them) are
 * skipped, so brackets inside text do not count. Works on any text; JSON validity is JSON.parse's job.
 */
export function scanJsonDepth(text: string, maxDepth = MAX_JSON_DEPTH): { depth: number; exceededAt?: number } {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (depth > maxDepth) return { depth, exceededAt: i };
      }
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth = Math.max(0, depth - 1);
  }
  return { depth: deepest };
}

/** A string PostgreSQL can store as `text` and inside `jsonb`. */
export function isStorableText(s: string): boolean {
  return !s.includes("\u0000") && s.isWellFormed();
}

/** Make any text storable (for our own messages and error texts): NUL and lone surrogates → U+FFFD. */
export function storableText(s: string): string {
  return s.replaceAll("\u0000", "\uFFFD").toWellFormed();
}

/** Text for a message about a value that may itself be unstorable: NUL and lone surrogates as `\uXXXX`. */
export function printable(s: string, max = 120): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return cut.replace(/\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0").toUpperCase()}`);
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

type Frame = { value: unknown; depth: number; parent: Frame | null; key: string | number | null };

function pathOf(frame: Frame, base: string): string {
  const parts: string[] = [];
  for (let f: Frame | null = frame; f && f.key !== null; f = f.parent) {
    parts.push(typeof f.key === "number" ? `[${f.key}]` : IDENTIFIER.test(f.key) ? `.${f.key}` : `[${JSON.stringify(printable(f.key, 60))}]`);
  }
  const path = base + parts.reverse().join("");
  return path.length > 300 ? `${path.slice(0, 300)}…` : path;
}

function textProblem(s: string): "nul" | "lone_surrogate" | null {
  if (s.includes("\u0000")) return "nul";
  if (!s.isWellFormed()) return "lone_surrogate";
  return null;
}

function describe(kind: StorableProblemKind, where: string, s?: string): string {
  if (kind === "too_deep") return `${where} is nested deeper than ${MAX_JSON_DEPTH} levels`;
  if (kind === "nul") return `${where} contains U+0000 (a NUL character)`;
  const lone = s ? /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.exec(s)?.[0] : undefined;
  return `${where} contains a lone UTF-16 surrogate${lone ? ` (U+${lone.charCodeAt(0).toString(16).toUpperCase()})` : ""}, which is not valid Unicode text`;
}

/**
 * The first value in an already parsed JSON value that PostgreSQL cannot store, or null. Iterative
 * (an explicit stack), so any depth is safe to walk; nesting beyond `maxDepth` below `value` is a
 * problem itself. Own `__proto__` keys are removed from objects on the way (the value is mutated).
 */
export function findUnstorable(value: unknown, opts: { basePath?: string; maxDepth?: number } = {}): StorableProblem | null {
  const base = opts.basePath ?? "$";
  const maxDepth = opts.maxDepth ?? MAX_JSON_DEPTH;
  const stack: Frame[] = [{ value, depth: 0, parent: null, key: null }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const v = frame.value;
    if (typeof v === "string") {
      const kind = textProblem(v);
      if (kind) {
        const path = pathOf(frame, base);
        return { kind, path, message: describe(kind, path, v) };
      }
      continue;
    }
    if (v === null || typeof v !== "object") continue;
    const depth = frame.depth + 1;
    if (depth > maxDepth) {
      const path = pathOf(frame, base);
      return { kind: "too_deep", path, message: describe("too_deep", path) };
    }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], depth, parent: frame, key: i });
      continue;
    }
    const obj = v as Record<string, unknown>;
    if (Object.hasOwn(obj, "__proto__")) delete obj["__proto__"];
    const keys = Object.keys(obj);
    for (const key of keys) {
      const kind = textProblem(key);
      if (kind) {
        const path = pathOf(frame, base);
        return { kind, path, message: describe(kind, `a key in ${path}`, key) };
      }
    }
    for (let i = keys.length - 1; i >= 0; i--) stack.push({ value: obj[keys[i]!], depth, parent: frame, key: keys[i]! });
  }
  return null;
}

/**
 * Raw JSON text → a value PostgreSQL can store, or why not: `malformed` (not JSON; JSON.parse's
 * message) or a `problem` (too deep — found by the raw scan before parsing —, NUL, lone surrogate).
 */
export function parseStorableJson(text: string, opts: { maxDepth?: number } = {}): ParseResult {
  const maxDepth = opts.maxDepth ?? MAX_JSON_DEPTH;
  const scan = scanJsonDepth(text, maxDepth);
  if (scan.exceededAt !== undefined) {
    return { ok: false, problem: { kind: "too_deep", path: "$", message: `$ is nested deeper than ${maxDepth} levels (at character ${scan.exceededAt})` } };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, malformed: storableText((e as Error).message).slice(0, 300) };
  }
  const problem = findUnstorable(value, { maxDepth });
  return problem ? { ok: false, problem, value } : { ok: true, value };
}
