import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseJsonBody } from "@/lib/http/json-body";

const schema = z.object({ ids: z.array(z.string()).min(1), reason: z.string().optional() });
const post = (body: string) => new Request("http://localhost/api/x", { method: "POST", headers: { "content-type": "application/json" }, body });

describe("route JSON bodies: storable text only, then the schema", () => {
  it("passes good bodies to the schema", async () => {
    expect(await parseJsonBody(post(`{"ids":["a"],"reason":"ok"}`), schema)).toMatchObject({ success: true, data: { ids: ["a"], reason: "ok" } });
    expect((await parseJsonBody(post(`{"ids":[]}`), schema)).success).toBe(false);
  });

  it("refuses NUL, lone surrogates, deep nesting, non-JSON and empty bodies with a message, before the schema", async () => {
    const cases: [string, RegExp][] = [
      [`{"ids":["a"],"reason":"x\\u0000y"}`, /\$\.reason contains U\+0000/],
      [`{"ids":["a"],"reason":"\\ud800"}`, /\$\.reason/],
      [`${"[".repeat(100_000)}${"]".repeat(100_000)}`, /nested deeper than 64/],
      [`{not json`, /not JSON/],
      [``, /empty/],
    ];
    for (const [body, message] of cases) {
      const result = await parseJsonBody(post(body), schema);
      expect(result.success, body.slice(0, 30)).toBe(false);
      expect(result.error!.issues[0]!.message).toMatch(message);
    }
  });

  it("an empty body may stand for a default value", async () => {
    const all = z.object({ taskIds: z.array(z.string()).optional() });
    expect(await parseJsonBody(post(""), all, { empty: {} })).toMatchObject({ success: true, data: {} });
  });
});
