import type { SageTarget, SageTargetId } from "./target";
import { sageAccounting } from "./accounting";

/** Every Sage product the connect page offers. More targets (Active, 50 Cloud, One AUS) land here. */
export const SAGE_TARGETS: Record<SageTargetId, SageTarget> = {
  "sage-accounting": sageAccounting,
};

export function getSageTarget(id: string): SageTarget {
  const target = SAGE_TARGETS[id as SageTargetId];
  if (!target) throw new Error(`Unknown Sage target: ${id}`);
  return target;
}
