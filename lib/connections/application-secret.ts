import { eq } from "drizzle-orm";
import type { Queryable } from "@/db/client";
import { fileExchangeApplications } from "@/db/schema";
import { decryptSecret } from "@/lib/crypto/envelope";
import type { SageApplicationRegistration } from "@/lib/sage/target";

/** The deployment's file-exchange registration with its secret, for calls to the platform (null until the operator set it up). */
export async function readyApplication(db: Queryable, targetId: string): Promise<SageApplicationRegistration | null> {
  const [row] = await db.select().from(fileExchangeApplications).where(eq(fileExchangeApplications.target, targetId));
  if (!row || row.status !== "ready" || !row.developerId || !row.applicationId || !row.secretEncrypted) return null;
  return { developerId: row.developerId, applicationId: row.applicationId, secret: decryptSecret(row.secretEncrypted) };
}
