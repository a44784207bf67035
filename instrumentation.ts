/**
 * Runs once when the Next.js server starts (Node.js runtime only).
 * Shared by two owners: boot checks (lib/boot.ts) and the inline Inngest runner (inngest/).
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { bootApp } = await import("./lib/boot");
  await bootApp();
  // The inline Inngest runner is started here too (see inngest/send.ts) when no Inngest server is configured.
  const inngestSend = await import("./inngest/send").catch(() => null);
  await inngestSend?.startInlineRunnerIfNeeded?.();
}
