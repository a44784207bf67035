import { eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { connections } from "@/db/schema";
import type { SageConnectionApi, SageFileExchangeApi, SageRetryPolicy, SageSession, SageTarget } from "@/lib/sage/target";
import { getSageTarget } from "@/lib/sage/targets";
import { sageCallRecorder } from "@/lib/trace/sage-call-recorder";
import { connectionBudget } from "./rate-budget";
import { getAccessToken } from "./tokens";

/**
 * The bridge between a stored connection and its Sage target: credentials (decrypted, refreshed
 * through the single-flight refresh), the shared rate budget of its business, and retries — handed
 * to the target as a `SageSession`, so lib/sage/ never touches the database.
 */
export type SageSessionOptions = {
  /** draw every attempt from the business's shared rate budget (default true) */
  paced?: boolean;
  policy?: Partial<SageRetryPolicy>;
  /** see SageSession.retryUnknownWrites */
  retryUnknownWrites?: boolean;
  /** record every attempt in sage_calls for the order trace (default true) */
  recorded?: boolean;
};

export function sageSession(db: Database, connectionId: string, opts: SageSessionOptions = {}): SageSession {
  return {
    credentials: {
      current: () => getAccessToken(db, connectionId),
      afterRejection: (rejectedToken) => getAccessToken(db, connectionId, { rejectedToken }),
    },
    beforeAttempt: opts.paced === false ? undefined : connectionBudget(db, connectionId),
    policy: opts.policy,
    retryUnknownWrites: opts.retryUnknownWrites,
    onAttempt: opts.recorded === false ? undefined : sageCallRecorder(db, connectionId),
  };
}

/** A connection's target never changes (a new target is a new connection row): remembered per process. */
const targetOf = new Map<string, Promise<SageTarget>>();

/** The Sage product a connection writes to. */
export function connectionTarget(db: Database, connectionId: string): Promise<SageTarget> {
  let hit = targetOf.get(connectionId);
  if (!hit) {
    hit = (async () => {
      const [row] = await db.select({ target: connections.target }).from(connections).where(eq(connections.id, connectionId));
      if (!row) throw new Error(`Connection ${connectionId} does not exist`);
      return getSageTarget(row.target);
    })();
    targetOf.set(connectionId, hit);
    hit.catch(() => targetOf.delete(connectionId));
  }
  return hit;
}

/**
 * The operations on a connection's Sage business (lib/sage/target.ts), whichever target it is.
 * Usable at once: the target is looked up on the first call.
 */
export function sageConnection(db: Database, connectionId: string, opts: SageSessionOptions = {}): SageConnectionApi {
  let api: Promise<SageConnectionApi> | undefined;
  const resolved = () => (api ??= connectionTarget(db, connectionId).then((t) => {
    if (t.exchange !== "api") throw new Error(`${t.label} works by file exchange: use its file operations (lib/connections/sage-session.ts sageFiles)`);
    return t.connect(sageSession(db, connectionId, opts));
  }));
  return new Proxy({} as SageConnectionApi, {
    get(_, name: string | symbol) {
      if (typeof name !== "string" || name === "then") return undefined;
      return async (...args: unknown[]) => {
        const target = (await resolved()) as unknown as Record<string, (...a: unknown[]) => unknown>;
        const fn = target[name];
        if (typeof fn !== "function") throw new Error(`Sage target operation ${name} does not exist`);
        return fn.apply(target, args);
      };
    },
  });
}

/** The file operations on a file-exchange connection's company (Sage 50 Cloud). */
export async function sageFiles(db: Database, connectionId: string, opts: SageSessionOptions = {}): Promise<SageFileExchangeApi> {
  const target = await connectionTarget(db, connectionId);
  if (target.exchange !== "file_exchange") throw new Error(`${target.label} does not work by file exchange`);
  return target.files(sageSession(db, connectionId, opts));
}
