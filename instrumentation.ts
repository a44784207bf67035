/**
 * Runs once when the Next.js server starts (Node.js runtime only).
 * Shared by two owners: boot checks (lib/boot.ts) and the inline Inngest runner (inngest/).
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { bootApp } = await import("./lib/boot");
  await bootApp();
  // The inline Inngest runner is started here too (see inngest/send.ts) when no Inngest server is
  // configured. A module that fails to load (a bad configuration, a function that cannot be defined)
  // stops the start loudly: never a server that silently runs without its functions.
  const { startInlineRunnerIfNeeded } = await import("./inngest/send");
  const { functions } = await import("./inngest/functions");
  if (functions.length === 0) throw new Error("No Inngest functions are defined (inngest/functions/index.ts)");
  await startInlineRunnerIfNeeded();
}
