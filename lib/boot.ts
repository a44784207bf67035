import { assertEncryptionKeyConfigured, EncryptionKeyError } from "@/lib/crypto/envelope";
import { formatProductionConfigProblems, productionConfigProblems, type ConfigProblem } from "@/lib/config/production-check";

/**
 * Start-up checks, run once by instrumentation.ts before the app serves a request.
 *
 * In production (`NODE_ENV=production`) the app refuses to start — one message naming every
 * offending variable, exit code 1 — while a secret is missing or still has its public default, a
 * Sage URL or APP_URL is unset, or the database would be PGlite without SAGE_CONNECTOR_ALLOW_PGLITE=1
 * (lib/config/production-check.ts). A missing or unusable APP_ENCRYPTION_KEY is fatal too:
 * credentials must never be stored unencrypted.
 */
export async function bootApp() {
  // `next build` evaluates server code too; the checks are for the running server.
  if (process.env.NEXT_PHASE === "phase-production-build") return;
  const problems: ConfigProblem[] = process.env.NODE_ENV === "production" ? productionConfigProblems(process.env) : [];
  if (!problems.some((p) => p.variable === "APP_ENCRYPTION_KEY")) {
    try {
      assertEncryptionKeyConfigured();
    } catch (e) {
      if (!(e instanceof EncryptionKeyError)) throw e;
      if (process.env.NODE_ENV !== "production") {
        console.error(`\n[sage-connector] Refusing to start: ${e.message}\n`);
        process.exit(1);
      }
      problems.push({ variable: "APP_ENCRYPTION_KEY", problem: e.message.replace(/^APP_ENCRYPTION_KEY\s*/, "") });
    }
  }
  if (problems.length > 0) {
    console.error(`\n[sage-connector] ${formatProductionConfigProblems(problems)}\n`);
    process.exit(1);
  }
  if (process.env.SAGE_CONNECTOR_SEED_DEMO === "1") {
    const { getDb } = await import("@/db/client");
    const { seedDemo } = await import("@/lib/seed/demo");
    await seedDemo(await getDb());
  }
}
