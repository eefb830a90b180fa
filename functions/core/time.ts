/** Injected time. Core never reads the wall clock; handlers pass `systemClock`, tests a fake. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "10m" → 600, "1h" → 3600, "24h" → 86400, "30s" → 30. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text);
  if (!m) throw new RangeError(`not a duration like 30s, 10m, 1h or 7d: "${text}"`);
  return Number(m[1]) * (UNIT_SECONDS[m[2] as string] as number);
}

export function formatDuration(seconds: number): string {
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds % size === 0 && seconds >= size) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}
