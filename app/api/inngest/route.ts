import { serve } from "inngest/next";
import { inngest, isInlineMode } from "@/inngest/client";
import { functions } from "@/inngest/functions";

/**
 * A serverless host may run one request this long (Vercel: up to 300 s on Pro; self-hosted Node has
 * no limit). Every step is bounded far below it (≤ 100 tasks, ~30 s of Sage work), and the client's
 * checkpointing `maxRuntime` (240 s) hands back to Inngest before it.
 */
export const maxDuration = 300;

/** The endpoint an Inngest server (Cloud or self-hosted) calls to sync and run our functions. */
const handler = serve({ client: inngest, functions });

type RouteHandler = typeof handler.GET;

/** Inline mode has no Inngest server: say so instead of failing for lack of a signing key. */
function unlessInline(route: RouteHandler): RouteHandler {
  return ((...args: Parameters<RouteHandler>) => {
    if (isInlineMode()) {
      return Promise.resolve(
        Response.json(
          { error: "inline_mode", message: "No Inngest server is configured; functions run in-process (see inngest/README.md)." },
          { status: 404 },
        ),
      );
    }
    return route(...args);
  }) as RouteHandler;
}

export const GET = unlessInline(handler.GET);
export const POST = unlessInline(handler.POST);
export const PUT = unlessInline(handler.PUT);
