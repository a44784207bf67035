import { and, desc, eq } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client";
import { connectionPasscodes, connections, fileExchangeApplications } from "@/db/schema";
import { getConfig } from "@/lib/config";
import { encryptSecret } from "@/lib/crypto/envelope";
import { findInstallation, getMainBranch } from "@/lib/install/install";
import { SYSTEM_ACTOR, writeActionLog, type Actor } from "@/lib/log/action-log";
import { SageError } from "@/lib/sage/errors";
import type { SageApplicationRegistration, SageFileExchangeTarget } from "@/lib/sage/target";

export { readyApplication };
import { getFileExchangeTarget } from "@/lib/sage/targets";
import { readyApplication } from "./application-secret";
import { reusableConnection } from "./authorize";
import { sealCredentials } from "./credentials";
import { releaseTasksHaltedByReconnect } from "@/lib/sync/reconnect-halt";
import { forgetAccessToken } from "./tokens";

/**
 * Connecting a file-exchange target (Sage 50 Cloud, DESIGN.md flow 8):
 *   1. the operator registers the deployment's application once (developer and application ids,
 *      the secret — stored encrypted; the platform is told our approval and notification URLs);
 *   2. a reseller is shown a passcode with its expiry, enters it in Sage 50 desktop and grants access;
 *   3. the platform calls our approval URL with the API key: the connection is live.
 */

export class FileExchangeError extends Error {
  constructor(
    readonly reason: "not_registered" | "not_installed" | "support_cannot_connect" | "unknown_country" | "invalid" | "sage",
    message: string,
  ) {
    super(message);
  }
}

/** Where the platform calls us: one approval and one notification URL per target, for every tenant. */
export function fileExchangeUrls(target: string) {
  const base = getConfig().appUrl;
  return { approvalUrl: `${base}/api/file-exchange/${target}/approval`, notificationUrl: `${base}/api/file-exchange/${target}/notifications` };
}

// ─── 1. the operator's registration ──────────────────────────────────────────────────────────

export const registrationInputSchema = z.object({
  developerId: z.string().trim().min(1, "Enter the developer id from the registration e-mail.").max(200),
  applicationId: z.string().trim().min(1, "Enter the application id from the registration e-mail.").max(200),
  secret: z.string().trim().min(8, "Enter the application secret from the registration e-mail.").max(500),
});

/** The registration as the operator's page shows it (never the secret). */
export async function applicationRegistration(db: Database, targetId: string) {
  const [row] = await db.select().from(fileExchangeApplications).where(eq(fileExchangeApplications.target, targetId));
  return row ? { status: row.status, registrationUrl: row.registrationUrl, developerId: row.developerId, applicationId: row.applicationId, approvalUrl: row.approvalUrl, notificationUrl: row.notificationUrl, updatedAt: row.updatedAt } : null;
}

/** Step 1a: ask the platform for a registration page (a captcha the operator solves in a browser). */
export async function startApplicationRegistration(db: Database, input: { targetId: string; name: string; email: string; actor: Actor }): Promise<{ registrationUrl: string }> {
  const target = getFileExchangeTarget(input.targetId);
  let answer: { registrationUrl: string };
  try {
    answer = await target.onboarding.registerDeveloper({ name: input.name, email: input.email });
  } catch (e) {
    if (e instanceof SageError) throw new FileExchangeError("sage", `${target.label} refused the registration: ${e.message}`);
    throw e;
  }
  await db.transaction(async (tx) => {
    await tx
      .insert(fileExchangeApplications)
      .values({ target: target.id, status: "registering", registrationUrl: answer.registrationUrl })
      .onConflictDoUpdate({ target: fileExchangeApplications.target, set: { registrationUrl: answer.registrationUrl, updatedAt: new Date() } });
    await writeActionLog(tx, { tenantId: null, actor: input.actor, level: "info", category: "auth", message: `${target.label}: developer registration started; complete it on the registration page`, details: { target: target.id } });
  });
  return answer;
}

/** Step 1b: the ids and secret from the registration e-mail; the platform learns our URLs; stored encrypted. */
export async function completeApplicationRegistration(db: Database, input: { targetId: string; actor: Actor } & z.infer<typeof registrationInputSchema>) {
  const target = getFileExchangeTarget(input.targetId);
  const app: SageApplicationRegistration = { developerId: input.developerId, applicationId: input.applicationId, secret: input.secret };
  const urls = fileExchangeUrls(target.id);
  try {
    await target.onboarding.configureApplication(app, urls);
  } catch (e) {
    if (e instanceof SageError) throw new FileExchangeError("sage", `${target.label} did not accept these ids and secret (${e.message}). Check them against the registration e-mail; nothing was saved.`);
    throw e;
  }
  await db.transaction(async (tx) => {
    const values = { status: "ready" as const, developerId: app.developerId, applicationId: app.applicationId, secretEncrypted: encryptSecret(app.secret), ...urls, updatedAt: new Date() };
    await tx.insert(fileExchangeApplications).values({ target: target.id, ...values }).onConflictDoUpdate({ target: fileExchangeApplications.target, set: values });
    await writeActionLog(tx, { tenantId: null, actor: input.actor, level: "success", category: "auth", message: `${target.label}: application ${app.applicationId} registered; approval and notification URLs set`, details: { target: target.id, developerId: app.developerId, applicationId: app.applicationId, ...urls } });
  });
}

// ─── 2. passcodes ────────────────────────────────────────────────────────────────────────────

export type PasscodeView = { id: string; passcode: string; expiresAt: string; status: "waiting" | "granted" | "denied" | "expired"; connectionId: string | null };

function viewOf(row: typeof connectionPasscodes.$inferSelect, now = Date.now()): PasscodeView {
  const status = row.status === "waiting" && row.expiresAt.getTime() <= now ? "expired" : row.status;
  return { id: row.id, passcode: row.passcode, expiresAt: row.expiresAt.toISOString(), status, connectionId: row.connectionId };
}

/** A fresh passcode for the reseller to enter in Sage 50 desktop (each click a new one; older ones stay valid until they expire). */
export async function issuePasscode(db: Database, input: { tenantId: string; targetId: string; country: string; actor: Actor; isSupport?: boolean }): Promise<PasscodeView> {
  if (input.isSupport) throw new FileExchangeError("support_cannot_connect", "Support staff cannot connect Sage for a reseller or see its passcode; the reseller must do it.");
  const target = getFileExchangeTarget(input.targetId);
  if (!target.countries.some((c) => c.code === input.country)) throw new FileExchangeError("unknown_country", "Choose the country of your Sage 50 company.");
  if (!(await findInstallation(db, input.tenantId))) throw new FileExchangeError("not_installed", "Install Sage Integration from the marketplace first.");
  const app = await readyApplication(db, target.id);
  if (!app) throw new FileExchangeError("not_registered", `${target.label} is not set up on this deployment yet: the operator must register the application first (Operator › ${target.label}).`);
  let issued: { passcode: string; expiresAt: Date };
  try {
    issued = await target.onboarding.createPasscode(app);
  } catch (e) {
    if (e instanceof SageError) throw new FileExchangeError("sage", `${target.label} did not give a passcode (${e.message}). Try again in a moment.`);
    throw e;
  }
  return db.transaction(async (tx) => {
    const [row] = await tx.insert(connectionPasscodes).values({ tenantId: input.tenantId, target: target.id, country: input.country, passcode: issued.passcode, expiresAt: issued.expiresAt }).returning();
    await writeActionLog(tx, {
      tenantId: input.tenantId,
      actor: input.actor,
      level: "info",
      category: "auth",
      message: `${target.label} passcode issued; it expires at ${issued.expiresAt.toISOString().slice(11, 16)} UTC`,
      details: { target: target.id, passcodeId: row!.id, expiresAt: issued.expiresAt.toISOString() },
    });
    return viewOf(row!);
  });
}

/** The reseller's passcode as the connect page polls it. */
export async function passcodeOf(db: Database, input: { tenantId: string; passcodeId: string }): Promise<PasscodeView | null> {
  const [row] = await db.select().from(connectionPasscodes).where(and(eq(connectionPasscodes.id, input.passcodeId), eq(connectionPasscodes.tenantId, input.tenantId)));
  return row ? viewOf(row) : null;
}

/**
 * The passcode the connect page shows: the newest one — unless an older one (still valid after
 * "New passcode") was granted since the newest was issued: then that one, so the page goes on.
 */
export async function latestPasscode(db: Database, input: { tenantId: string; targetId: string }): Promise<PasscodeView | null> {
  const mine = and(eq(connectionPasscodes.tenantId, input.tenantId), eq(connectionPasscodes.target, input.targetId));
  const [newest] = await db.select().from(connectionPasscodes).where(mine).orderBy(desc(connectionPasscodes.createdAt)).limit(1);
  if (!newest) return null;
  const [granted] = await db.select().from(connectionPasscodes).where(and(mine, eq(connectionPasscodes.status, "granted"))).orderBy(desc(connectionPasscodes.decidedAt)).limit(1);
  return viewOf(granted?.decidedAt && granted.decidedAt >= newest.createdAt ? granted : newest);
}

// ─── 3. the platform's approval call ─────────────────────────────────────────────────────────

/**
 * A call the platform made to one of our URLs: its target, the deployment's registration, the
 * signature (the application secret) and the body's shape checked — or the answer refusing it.
 */
async function verifiedPlatformCall<S extends z.ZodType>(
  db: Database,
  input: { targetId: string; headers: Headers; body: string },
  schema: S,
  what: string,
): Promise<{ target: SageFileExchangeTarget; payload: z.infer<S> } | { status: 400 | 401 | 404; message: string }> {
  let target: SageFileExchangeTarget;
  try {
    target = getFileExchangeTarget(input.targetId);
  } catch {
    return { status: 404, message: "Unknown target" };
  }
  const app = await readyApplication(db, target.id);
  if (!app) return { status: 404, message: `${target.label} is not registered on this deployment` };
  let payload: unknown;
  try {
    payload = target.onboarding.verifyCall(app, input.headers, input.body);
  } catch {
    return { status: 401, message: "The call does not carry a valid signature" };
  }
  const parsed = schema.safeParse(payload);
  if (!parsed.success) return { status: 400, message: `The ${what} is not understood: ${parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ")}` };
  return { target, payload: parsed.data };
}

const approvalSchema = z.union([
  z.object({ passcode: z.string().min(1), apikey: z.string().min(8), expires: z.string().refine((s) => Number.isFinite(Date.parse(s)), "expires must be a date"), companyId: z.string().min(1), companyName: z.string().min(1), domain: z.string().optional() }),
  z.object({ passcode: z.string().min(1), denied: z.literal(true), companyId: z.string().optional(), companyName: z.string().optional() }),
]);

export type ApprovalOutcome = { status: 200 | 400 | 401 | 404 | 409 | 410; message: string; connectionId?: string };

/**
 * The platform calls our approval URL when a person granted (or denied) access in Sage 50 desktop:
 * verified with the application secret, matched to its passcode, and — granted — the tenant's
 * connection is created (or renewed: a reconnect keeps its mappings) with the API key sealed, in one
 * transaction with its Action Log rows. Anything else is refused and changes nothing.
 */
export async function receiveApproval(db: Database, input: { targetId: string; headers: Headers; body: string }): Promise<ApprovalOutcome> {
  const call = await verifiedPlatformCall(db, input, approvalSchema, "approval");
  if ("status" in call) return call;
  const { target, payload: a } = call;
  return db.transaction(async (tx): Promise<ApprovalOutcome> => {
    const [code] = await tx.select().from(connectionPasscodes).where(and(eq(connectionPasscodes.passcode, a.passcode), eq(connectionPasscodes.target, target.id))).for("update");
    if (!code) return { status: 404, message: "No passcode of ours has this value" };
    if (code.status !== "waiting") return { status: 409, message: `This passcode was already ${code.status}` };
    if ("denied" in a) {
      await tx.update(connectionPasscodes).set({ status: "denied", decidedAt: new Date() }).where(eq(connectionPasscodes.id, code.id));
      await writeActionLog(tx, { tenantId: code.tenantId, actor: SYSTEM_ACTOR, level: "warning", category: "auth", message: `Access was denied in ${target.label}${a.companyName ? ` for ${a.companyName}` : ""}; nothing was connected. Ask for a new passcode to try again.`, details: { target: target.id, passcodeId: code.id } });
      return { status: 200, message: "denied recorded" };
    }
    const branch = await getMainBranch(tx, code.tenantId);
    const installation = await findInstallation(tx, code.tenantId);
    if (!branch || !installation) return { status: 410, message: "The tenant is no longer installed" };
    const now = new Date();
    const expiresAt = new Date(a.expires);
    const values = {
      status: "connected" as const,
      country: code.country,
      installationId: installation.id,
      availableBusinesses: [{ id: a.companyId, name: a.companyName }],
      businessId: a.companyId,
      businessName: a.companyName,
      scope: a.domain ?? "ecommerce",
      credentialsEncrypted: sealCredentials({ accessToken: a.apikey, refreshToken: a.apikey }),
      tokensIssuedAt: now,
      accessTokenExpiresAt: expiresAt,
      refreshTokenIssuedAt: now,
      refreshTokenExpiresAt: expiresAt,
      lastError: null,
      updatedAt: now,
    };
    const existing = await reusableConnection(tx, branch.id, target.id);
    let connectionId: string;
    if (existing) {
      await tx.update(connections).set(values).where(eq(connections.id, existing.id));
      connectionId = existing.id;
      forgetAccessToken(existing.id);
    } else {
      const [created] = await tx.insert(connections).values({ ...values, tenantId: code.tenantId, branchId: branch.id, name: target.label, target: target.id }).returning({ id: connections.id });
      connectionId = created!.id;
    }
    await tx.update(connectionPasscodes).set({ status: "granted", decidedAt: now, connectionId }).where(eq(connectionPasscodes.id, code.id));
    await writeActionLog(tx, {
      tenantId: code.tenantId,
      actor: SYSTEM_ACTOR,
      level: "success",
      category: "auth",
      message: `${target.label} ${existing ? "reconnected" : "connected"}: access granted for ${a.companyName}; the API key was received and stored encrypted`,
      details: { connectionId, companyId: a.companyId, passcodeId: code.id, keyExpiresAt: expiresAt.toISOString() },
    });
    if (!existing || existing.status === "reconnect_required" || existing.status === "disconnected") {
      await releaseTasksHaltedByReconnect(tx, { tenantId: code.tenantId, connectionId, actor: SYSTEM_ACTOR });
    }
    return { status: 200, message: "connected", connectionId };
  });
}

// ─── 4. the platform's notifications ─────────────────────────────────────────────────────────

const notificationSchema = z.object({ type: z.literal("file.updated"), scope: z.enum(["Products", "Customers"]), fileId: z.string().min(1).max(200), updatedAt: z.string().optional(), companyId: z.string().min(1) });

export type NotificationOutcome =
  | { status: 200; message: string; downloads: { tenantId: string; connectionId: string; scope: "Products" | "Customers"; fileId: string }[] }
  | { status: 400 | 401 | 404; message: string };

/**
 * "A file was updated" from the platform (signed with the application secret): which connections
 * must download it. Nothing is downloaded here — the caller starts the download flow per connection.
 */
export async function receiveFileNotification(db: Database, input: { targetId: string; headers: Headers; body: string }): Promise<NotificationOutcome> {
  const call = await verifiedPlatformCall(db, input, notificationSchema, "notification");
  if ("status" in call) return call;
  const { target, payload: n } = call;
  const rows = await db
    .select({ id: connections.id, tenantId: connections.tenantId })
    .from(connections)
    .where(and(eq(connections.target, target.id), eq(connections.businessId, n.companyId), eq(connections.status, "connected")));
  return { status: 200, message: `${rows.length} connection(s) to update`, downloads: rows.map((r) => ({ tenantId: r.tenantId, connectionId: r.id, scope: n.scope, fileId: n.fileId })) };
}
