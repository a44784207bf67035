import type { SageApiTarget, SageFileExchangeTarget, SageTarget, SageTargetId } from "./target";
import { sageAccounting } from "./accounting";
import { sage50Cloud } from "./sage50";

/** Every Sage product the connect page offers. More targets (Active, One AUS) land here. */
export const SAGE_TARGETS: Record<SageTargetId, SageTarget> = {
  "sage-accounting": sageAccounting,
  "sage-50-cloud": sage50Cloud,
};

export function getSageTarget(id: string): SageTarget {
  const target = Object.hasOwn(SAGE_TARGETS, id) ? SAGE_TARGETS[id as SageTargetId] : undefined;
  if (!target) throw new Error(`Unknown Sage target: ${id}`);
  return target;
}

/** A target that connects with OAuth 2.0 and works record by record (the sync's API path). */
export function getApiTarget(id: string): SageApiTarget {
  const target = getSageTarget(id);
  if (target.exchange !== "api") throw new Error(`${target.label} works by file exchange, not by API calls per record`);
  return target;
}

/** A target that connects with a passcode and works by files (Sage 50 Cloud). */
export function getFileExchangeTarget(id: string): SageFileExchangeTarget {
  const target = getSageTarget(id);
  if (target.exchange !== "file_exchange") throw new Error(`${target.label} does not work by file exchange`);
  return target;
}
