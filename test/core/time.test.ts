import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../functions/core/time.ts';

describe('parseDuration', () => {
  it.each([
    ['30s', 30],
    ['10m', 600],
    ['1h', 3600],
    ['24h', 86_400],
    ['7d', 604_800],
    ['90m', 5400],
  ])('%s is %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each([['10 minutes'], ['1.5h'], ['10M'], ['1w'], ['-1m'], ['m'], [''], [' 10m'], ['10']])(
    'rejects %j with the accepted forms in the message',
    (text) => {
      expect(() => parseDuration(text)).toThrow(/not a duration like 30s, 10m, 1h or 7d/);
    },
  );
});

describe('formatDuration', () => {
  it.each([
    [600, '10m'],
    [3600, '1h'],
    [86_400, '1d'],
    [5400, '90m'],
    [90, '90s'],
    [0, '0s'],
  ])('%i seconds is %s (largest whole unit)', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('round-trips: parseDuration(formatDuration(s)) = s', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 * 365 * 86_400 }), (s) => {
        expect(parseDuration(formatDuration(s))).toBe(s);
      }),
    );
  });
});
