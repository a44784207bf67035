import { z } from "zod";
import { parseStorableJson } from "./storable-json";

/** Bodies of the app's own JSON routes are small; anything bigger is refused before it is parsed. */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

/**
 * The JSON body of a route handler request, checked by a zod schema — and first checked to be JSON
 * that PostgreSQL can store (no U+0000, no lone surrogates, not absurdly nested: storable-json.ts),
 * so bad input is a 400 naming the problem, never a database error. Same result shape as
 * `schema.safeParse`; a problem before the schema is one issue with its message.
 * `empty`: the value an empty body stands for (e.g. `{}`); without it an empty body is refused.
 */
export async function parseJsonBody<T extends z.ZodType>(request: Request, schema: T, opts: { empty?: unknown } = {}): Promise<z.ZodSafeParseResult<z.infer<T>>> {
  const refuse = (message: string) => ({ success: false as const, error: new z.ZodError([{ code: "custom", message, path: [], input: undefined }]) as z.ZodError<z.infer<T>> });
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > MAX_JSON_BODY_BYTES) return refuse(`The body is larger than ${MAX_JSON_BODY_BYTES} bytes.`);
  let text: string;
  try {
    text = await request.text();
  } catch {
    return refuse("The request body could not be read.");
  }
  if (text.length > MAX_JSON_BODY_BYTES) return refuse(`The body is larger than ${MAX_JSON_BODY_BYTES} bytes.`);
  if (text.trim() === "") return opts.empty !== undefined ? (schema.safeParse(opts.empty) as z.ZodSafeParseResult<z.infer<T>>) : refuse("The request body is empty; send JSON.");
  const parsed = parseStorableJson(text);
  if (!parsed.ok) return refuse("malformed" in parsed ? "The request body is not JSON." : `The request body cannot be accepted: ${parsed.problem.message}.`);
  return schema.safeParse(parsed.value) as z.ZodSafeParseResult<z.infer<T>>;
}
