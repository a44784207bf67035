import { assertEncryptionKeyConfigured, EncryptionKeyError } from "@/lib/crypto/envelope";

/**
 * Start-up checks, run once by instrumentation.ts before the app serves a request. A missing or
 * short APP_ENCRYPTION_KEY in production is fatal: credentials must never be stored unencrypted.
 */
export async function bootApp() {
  try {
    assertEncryptionKeyConfigured();
  } catch (e) {
    if (e instanceof EncryptionKeyError) {
      console.error(`\n[sage-connector] Refusing to start: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  if (process.env.SAGE_CONNECTOR_SEED_DEMO === "1") {
    const { getDb } = await import("@/db/client");
    const { seedDemo } = await import("@/lib/seed/demo");
    await seedDemo(await getDb());
  }
}
