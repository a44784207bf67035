import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, findUnstorable, isStorableText, parseStorableJson, printable, scanJsonDepth, storableText } from "./storable-json";

describe("storable JSON (lib/http/storable-json.ts)", () => {
  it("names the path of a U+0000, in values and in keys", () => {
    const r = parseStorableJson(JSON.stringify({ data: { customer: { name: "Null\u0000Byte Ltd" } } }));
    expect(r).toMatchObject({ ok: false, problem: { kind: "nul", path: "$.data.customer.name", message: "$.data.customer.name contains U+0000 (a NUL character)" } });
    const key = parseStorableJson('{"items":[{"ok":1},{"a\\u0000b":1}]}');
    expect(key).toMatchObject({ ok: false, problem: { kind: "nul", path: "$.items[1]" } });
    expect((key as { problem: { message: string } }).problem.message).toBe("a key in $.items[1] contains U+0000 (a NUL character)");
  });

  it("names lone surrogates (high or low, escaped in the JSON text); a proper pair is fine", () => {
    expect(parseStorableJson('{"n":"x\\ud800y"}')).toMatchObject({ ok: false, problem: { kind: "lone_surrogate", path: "$.n", message: expect.stringContaining("(U+D800)") } });
    expect(parseStorableJson('{"n":"\\udc00"}')).toMatchObject({ ok: false, problem: { kind: "lone_surrogate" } });
    expect(parseStorableJson('{"n":"\\ud83d\\ude00 😀"}')).toEqual({ ok: true, value: { n: "😀 😀" } });
  });

  it("odd keys are quoted in the path (printable: bad characters as escapes)", () => {
    const r = parseStorableJson('{"a b":{"x.y":["\\u0000"]}}');
    expect(r).toMatchObject({ problem: { path: '$["a b"]["x.y"][0]' } });
  });

  it("refuses nesting deeper than 64 levels from the raw text, before parsing — 100,000 levels quickly, without recursion", () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const started = performance.now();
    const r = parseStorableJson(deep);
    expect(r).toMatchObject({ ok: false, problem: { kind: "too_deep", path: "$" } });
    expect((r as { problem: { message: string } }).problem.message).toContain(`nested deeper than ${MAX_JSON_DEPTH} levels (at character 64)`);
    expect(performance.now() - started).toBeLessThan(500);
    expect(parseStorableJson(`${"[".repeat(64)}${"]".repeat(64)}`).ok).toBe(true);
    expect(parseStorableJson(`${"[".repeat(65)}${"]".repeat(65)}`).ok).toBe(false);
  });

  it("brackets and escaped quotes inside strings do not count as nesting", () => {
    expect(scanJsonDepth(JSON.stringify({ s: "[[[[{{{{\\\"[[[[" }))).toEqual({ depth: 1 });
    expect(scanJsonDepth('["\\\\", [1]]')).toEqual({ depth: 2 });
  });

  it("findUnstorable walks any depth iteratively (V8's JSON.parse is iterative too) and reports nesting below the limit", () => {
    const value = JSON.parse(`${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`);
    expect(findUnstorable(value)).toMatchObject({ kind: "too_deep" });
    expect(findUnstorable({ a: { b: "ok" } })).toBeNull();
    expect(findUnstorable(["ok", "bad\u0000"], { basePath: "$.page" })).toMatchObject({ path: "$.page[1]" });
  });

  it("drops own __proto__ keys (never the prototype), keeps constructor as plain data", () => {
    const r = parseStorableJson('{"__proto__":{"polluted":true},"constructor":{"prototype":1},"a":{"__proto__":[]}}');
    expect(r.ok).toBe(true);
    const v = (r as { value: Record<string, unknown> }).value;
    expect(Object.keys(v)).toEqual(["constructor", "a"]);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("malformed JSON is reported as such", () => {
    expect(parseStorableJson('{"a":')).toMatchObject({ ok: false, malformed: expect.any(String) });
  });

  it("text helpers: storable, printable, made storable", () => {
    expect(isStorableText("ok 😀")).toBe(true);
    expect(isStorableText("a\u0000")).toBe(false);
    expect(isStorableText("\ud800")).toBe(false);
    expect(printable("a\u0000b\ud800c😀")).toBe("a\\u0000b\\uD800c😀");
    expect(storableText("a\u0000b\udfff")).toBe("a\uFFFDb\uFFFD");
    expect(isStorableText(storableText("x\u0000\ud800"))).toBe(true);
  });
});
