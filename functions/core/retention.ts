import { formatDuration } from './time.ts';

/**
 * How long the store keeps an outflow record after its window time (the table's TTL). Longer than any
 * rule may look back, so a poller that falls a few days behind still finds the history its rules sum.
 */
export const OUTFLOW_RETENTION_SECONDS = 35 * 86_400;

/** The furthest back a rule may look (window, plus baseline or lookback where it has one). */
export const MAX_RULE_HISTORY_SECONDS = 30 * 86_400;

/**
 * Why a rule that needs `historySeconds` of outflows cannot be kept, or undefined. A rule that looked
 * back further than the store keeps would sum a history the table has already deleted, and read lower
 * totals than really left — a silent loosening, so the config is refused instead.
 */
export function historyProblem(historySeconds: number): string | undefined {
  if (historySeconds <= MAX_RULE_HISTORY_SECONDS) return undefined;
  return `looks back ${formatDuration(historySeconds)}, but outflows are kept ${OUTFLOW_RETENTION_SECONDS / 86_400} days and a rule may look back at most ${formatDuration(MAX_RULE_HISTORY_SECONDS)}`;
}
