import type { Queryable } from "@/db/client";
import { actionLog, type ActorType, type LogCategory, type LogLevel } from "@/db/schema";

export type Actor = { type: ActorType; id?: string | null; label: string };

export const SYSTEM_ACTOR: Actor = { type: "system", label: "Sage Connector" };

export type ActionLogEntry = {
  tenantId: string | null;
  actor: Actor;
  level: LogLevel;
  category: LogCategory;
  message: string;
  details?: Record<string, unknown>;
  taskId?: string | null;
};

const SECRET_KEYS = /token|secret|password|code|authorization|key|passcode/i;

/** Removes anything that looks like a secret before it reaches the log. */
export function redact(details: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details)) {
    if (SECRET_KEYS.test(k) && !/^(has|is)[A-Z]/.test(k)) out[k] = "[redacted]";
    else if (v && typeof v === "object" && !Array.isArray(v)) out[k] = redact(v as Record<string, unknown>);
    else out[k] = v;
  }
  return out;
}

/** Append one Action Log row. Pass the transaction that performs the change being logged. */
export async function writeActionLog(tx: Queryable, entry: ActionLogEntry) {
  await tx.insert(actionLog).values({
    tenantId: entry.tenantId,
    actorType: entry.actor.type,
    actorId: entry.actor.id ?? null,
    actorLabel: entry.actor.label,
    level: entry.level,
    category: entry.category,
    message: entry.message,
    details: redact(entry.details ?? {}),
    taskId: entry.taskId ?? null,
  });
}
