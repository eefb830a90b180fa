import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  describeOmitted,
  fitDetails,
  MAX_SMS_CHARS,
  MAX_SUBJECT_CHARS,
  pageJson,
  sanitizeSubject,
  smsText,
  truncate,
} from '../../../functions/adapters/pages/page-format.ts';

const PRINTABLE_ASCII_LINE = /^[\x20-\x7e]+$/;

describe('sanitizeSubject', () => {
  it.each([
    ['keeps a clean subject', 'TRIP global USD 1h over limit', 'TRIP global USD 1h over limit'],
    ['joins lines', 'TRIP ethereum\nsigning halted\r\nsee runbook', 'TRIP ethereum signing halted see runbook'],
    ['collapses tabs and runs of spaces', '  WARN\t\tbtc   hot wallet  ', 'WARN btc hot wallet'],
    ['drops accents', 'Überweisung über Limit: café', 'Uberweisung uber Limit: cafe'],
    [
      'folds typographic punctuation',
      'TRIP — “global” 5 ETH → cold wallet…',
      'TRIP - "global" 5 ETH -> cold wallet...',
    ],
    ['replaces what has no ASCII form', 'TRIP 🚨 送金 ok', 'TRIP ? ?? ok'],
    ['removes escape sequences and zero-width characters', 'TRIP\u001b[2J wal\u200blet\u0007', 'TRIP [2J wallet'],
  ])('%s', (_name, subject, expected) => {
    expect(sanitizeSubject({ subject, kind: 'trip', id: 'p1' })).toBe(expected);
  });

  it('cuts a 300-character subject to 100 characters ending in "..."', () => {
    const subject = `TRIP ${'x'.repeat(295)}`;
    const out = sanitizeSubject({ subject, kind: 'trip', id: 'p1' });
    expect(out).toHaveLength(MAX_SUBJECT_CHARS);
    expect(out.startsWith('TRIP xxx')).toBe(true);
    expect(out.endsWith('...')).toBe(true);
  });

  it('falls back to kind and id when nothing printable is left', () => {
    expect(sanitizeSubject({ subject: ' \n\u200b\t', kind: 'blind', id: 'page-7' })).toBe(
      'hot-wallet-breaker blind page page-7',
    );
  });

  it('always yields 1–100 printable ASCII characters on one line, trimmed', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ maxLength: 40 }), (subject, id) => {
        const out = sanitizeSubject({ subject, kind: 'warn', id });
        expect(out.length).toBeGreaterThanOrEqual(1);
        expect(out.length).toBeLessThanOrEqual(MAX_SUBJECT_CHARS);
        expect(out).toMatch(PRINTABLE_ASCII_LINE);
        expect(out).toBe(out.trim());
      }),
    );
  });
});

describe('smsText', () => {
  it('puts the text on one ASCII line of at most 140 characters', () => {
    const text = `TRIP global USD over 1h: $3,120,000.00 > limit $3,000,000.00\nSigning halted — reset with breaker reset.\n${'detail '.repeat(40)}`;
    const out = smsText({ subject: 's', text });
    expect(out.length).toBeLessThanOrEqual(MAX_SMS_CHARS);
    expect(out).toMatch(PRINTABLE_ASCII_LINE);
    expect(out.startsWith('TRIP global USD over 1h: $3,120,000.00 > limit $3,000,000.00 Signing halted - reset')).toBe(
      true,
    );
    expect(out.endsWith('...')).toBe(true);
  });

  it('uses the subject when the text is empty', () => {
    expect(smsText({ subject: 'WARN eth', text: '' })).toBe('WARN eth');
  });
});

describe('fitDetails', () => {
  const sizeFits = (max: number) => (d: Record<string, unknown>) => Buffer.byteLength(pageJson(d)) <= max;

  it('returns details untouched when they fit', () => {
    const details = { ruleId: 'global-usd-1h', transactions: [1, 2, 3] };
    const fitted = fitDetails(details, sizeFits(10_000));
    expect(fitted.details).toBe(details);
    expect(fitted.omitted).toEqual({});
  });

  it('keeps the head of the biggest list and counts what it left out', () => {
    const transactions = Array.from({ length: 1000 }, (_, i) => ({ id: `tx-${i}`, usd: 1_000_000n - BigInt(i) }));
    const details = { ruleId: 'global-usd-1h', evidence: { outflowIds: ['a', 'b'] }, transactions };
    const fitted = fitDetails(details, sizeFits(4096));
    const kept = fitted.details.transactions as { id: string; usd: string }[];
    expect(Buffer.byteLength(pageJson(fitted.details))).toBeLessThanOrEqual(4096);
    expect(kept.length).toBeGreaterThan(10);
    expect(kept.length).toBeLessThan(1000);
    expect(kept.map((t) => t.id)).toEqual(transactions.slice(0, kept.length).map((t) => t.id));
    expect(kept[0]?.usd).toBe('1000000');
    expect(fitted.omitted).toEqual({ transactions: 1000 - kept.length });
    // The smaller list was not touched, and the input was not mutated.
    expect(fitted.details.evidence).toEqual({ outflowIds: ['a', 'b'] });
    expect(transactions).toHaveLength(1000);
  });

  it('keeps as many items as the limit allows (one more would not fit)', () => {
    const details = { transactions: Array.from({ length: 200 }, (_, i) => `tx-${String(i).padStart(4, '0')}`) };
    const fitted = fitDetails(details, sizeFits(500));
    const kept = (fitted.details.transactions as string[]).length;
    const onemore = { transactions: details.transactions.slice(0, kept + 1) };
    expect(sizeFits(500)(fitted.details)).toBe(true);
    expect(sizeFits(500)(onemore)).toBe(false);
  });

  it('finds lists nested in objects and names them by path', () => {
    const details = {
      evidence: { outflowIds: Array.from({ length: 500 }, (_, i) => `0x${i.toString(16).padStart(64, '0')}`) },
    };
    const fitted = fitDetails(details, sizeFits(2000));
    const kept = (fitted.details.evidence as { outflowIds: string[] }).outflowIds.length;
    expect(fitted.omitted).toEqual({ 'evidence.outflowIds': 500 - kept });
    expect(describeOmitted(fitted.omitted, 'SNS message size limit')).toBe(
      `${500 - kept} items of details.evidence.outflowIds left out to fit the SNS message size limit.`,
    );
  });

  it('replaces details by a note when no list can make them fit', () => {
    const details = { blob: 'z'.repeat(10_000) };
    const fitted = fitDetails(details, sizeFits(1000));
    expect(fitted.replaced).toBe(true);
    expect(fitted.details).toMatchObject({ originalBytes: Buffer.byteLength(pageJson(details)) });
  });
});

describe('truncate', () => {
  it('never leaves half a surrogate pair', () => {
    const out = truncate(`${'a'.repeat(6)}🚨🚨🚨`, 10);
    expect(out).toBe('aaaaaa...');
    expect(Buffer.from(out, 'utf8').toString('utf8')).toBe(out);
  });
});
