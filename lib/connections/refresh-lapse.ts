const DAY_MS = 24 * 3600 * 1000;

/**
 * Sage refresh tokens lapse 31 days after they were issued unless they are used (SAGE-FACTS.md). The
 * daily keep-alive refreshes them at 20 days; a token this close to its end means the keep-alive has
 * not run (no Inngest server, repeated failures), so the reseller is warned and can refresh it.
 */
export const REFRESH_LAPSE_WARNING_DAYS = 7;

export type RefreshLapse = { at: string; daysLeft: number };

/** The warning to show, or null while the refresh token has more than a week left (or there is none). */
export function refreshLapseWarning(refreshTokenExpiresAt: Date | null | undefined, now: Date = new Date()): RefreshLapse | null {
  if (!refreshTokenExpiresAt) return null;
  const left = refreshTokenExpiresAt.getTime() - now.getTime();
  if (left > REFRESH_LAPSE_WARNING_DAYS * DAY_MS) return null;
  return { at: refreshTokenExpiresAt.toISOString(), daysLeft: Math.max(0, Math.floor(left / DAY_MS)) };
}
