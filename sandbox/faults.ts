// Fault injection per route name (glob with `*`), e.g. "sage.token", "sage.sales_invoices.create",
// "sage.sales_invoices.*", "sage.*".
import { z } from "zod";

export const FAULT_KINDS = ["status", "delay", "timeout", "drop", "commit-then-drop", "commit-then-truncate"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const faultInputSchema = z.object({
  route: z.string().min(1),
  kind: z.enum(FAULT_KINDS),
  status: z.number().int().min(100).max(599).optional(),
  probability: z.number().min(0).max(1).optional(),
  count: z.number().int().min(1).optional(),
  delayMs: z.number().int().min(0).max(600_000).optional(),
  /** Only for kind "status" with 429: override the global Retry-After switch for this fault. */
  retryAfterSeconds: z.number().int().min(0).optional(),
});
export type FaultInput = z.infer<typeof faultInputSchema>;

export interface Fault extends FaultInput {
  id: number;
  /** Remaining firings; undefined = unlimited. */
  remaining?: number;
  fired: number;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

export class FaultStore {
  private faults: Fault[] = [];
  private nextId = 1;
  constructor(private readonly random: () => number = Math.random) {}

  add(input: FaultInput): Fault {
    const fault: Fault = { ...input, id: this.nextId++, remaining: input.count, fired: 0 };
    this.faults.push(fault);
    return fault;
  }

  list(): Fault[] {
    return this.faults.slice();
  }

  clear(): void {
    this.faults = [];
  }

  /** Picks the first matching fault that fires for this route (consuming one of its count). */
  take(route: string): Fault | undefined {
    for (const f of this.faults) {
      if (!globToRegExp(f.route).test(route)) continue;
      if (f.remaining !== undefined && f.remaining <= 0) continue;
      const p = f.probability ?? 1;
      if (p < 1 && this.random() >= p) continue;
      if (f.remaining !== undefined) f.remaining -= 1;
      f.fired += 1;
      return f;
    }
    return undefined;
  }
}
