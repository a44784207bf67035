import type { InngestFunction } from "inngest";
import { inngest } from "./client";
import { validateTriggerEvent } from "./events";

/**
 * `defineFunction(options, handler)` is `inngest.createFunction(options, handler)` (same types,
 * same inference, same InngestFunction result for `serve()`), and it also keeps the options and
 * the handler on the function object so the inline runner can run the very same handler.
 *
 * Why: InngestFunction exposes its options (`fn.opts`) but keeps the handler private (`fn.fn`),
 * so there is no public, stable way to get the handler back from a created function.
 */

/** The handler as the inline runner calls it: one context argument, any result. */
export type InlineHandler = (ctx: never) => unknown;

export type InlineFunctionDefinition = {
  /** options exactly as given to createFunction */
  options: InngestFunction.Options;
  handler: InlineHandler;
  /** `options.onFailure`, if any (run as function `<id>-failure`, as Inngest does) */
  onFailure?: InlineHandler;
};

// Symbol.for: the same key even if this module is evaluated twice (Next.js dev bundles).
const INLINE_DEFINITION = Symbol.for("sage-connector.inngest.inline-definition");

type CreateFunction = typeof inngest.createFunction;

export const defineFunction = ((options: InngestFunction.Options, handler: InlineHandler) => {
  // The event is checked against its schema (inngest/events.ts) before the handler runs, in both
  // modes: an invalid payload fails the run at once with NonRetriableError (as Inngest's own trigger
  // validation does), never retried.
  const triggers = (options as { triggers?: readonly unknown[] }).triggers;
  const validating = ((ctx: { event: { name: string; data?: unknown } }) => {
    validateTriggerEvent(triggers, ctx.event);
    return (handler as (ctx: unknown) => unknown)(ctx);
  }) as unknown as InlineHandler;
  const fn = inngest.createFunction(options as Parameters<CreateFunction>[0], validating as Parameters<CreateFunction>[1]);
  const definition: InlineFunctionDefinition = {
    options,
    handler: validating,
    onFailure: typeof options.onFailure === "function" ? (options.onFailure as InlineHandler) : undefined,
  };
  Object.defineProperty(fn, INLINE_DEFINITION, { value: definition, enumerable: false });
  return fn;
}) as CreateFunction;

/** The options and handler of a function created with {@link defineFunction}. */
export function getInlineDefinition(fn: InngestFunction.Any): InlineFunctionDefinition | undefined {
  return (fn as unknown as Record<symbol, InlineFunctionDefinition | undefined>)[INLINE_DEFINITION];
}
