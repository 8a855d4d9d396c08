// UTC time windows of drift statistics. A scored batch counts in the hour and the day (UTC) in
// which it was scored; windows are identified by their start (epoch milliseconds). Pure.

export type WindowWidth = 'hour' | 'day';
export const WINDOW_MS: Readonly<Record<WindowWidth, number>> = { hour: 3_600_000, day: 86_400_000 };

/** Hour windows older than this many days are dropped (day windows stay); see pruneHourWindows. */
export const HOUR_RETENTION_DAYS = 31;

/** Start of the window of `width` holding instant `t` (epoch ms; JS time has no leap seconds). */
export const windowStart = (width: WindowWidth, t: number): number => Math.floor(t / WINDOW_MS[width]) * WINDOW_MS[width];

export const isoTime = (t: number): string => new Date(t).toISOString();

/** The oldest hour window kept at time `now`: a day boundary, so older time is covered by day windows exactly. */
export const hourRetentionStart = (now: number): number => windowStart('day', now) - HOUR_RETENTION_DAYS * WINDOW_MS.day;

/** Hour and day windows that together cover [since, ∞) as finely as retention allows. */
export function windowsSince(since: number, now: number): { days: { from: number; to: number } | null; hoursFrom: number } {
  const horizon = hourRetentionStart(now);
  if (since >= horizon) return { days: null, hoursFrom: windowStart('hour', since) };
  return { days: { from: windowStart('day', since), to: horizon }, hoursFrom: horizon };
}
