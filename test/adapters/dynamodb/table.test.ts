import { describe, expect, it } from 'vitest';
import {
  auditKey,
  outflowExpiresAt,
  outflowKey,
  outflowSortFrom,
  tableDefinition,
} from '../../../functions/adapters/dynamodb/table.ts';
import { OUTFLOW_RETENTION_SECONDS } from '../../../functions/core/retention.ts';

describe('table layout', () => {
  it('keys outflows so that string order is (t, block) order', () => {
    const key = (t: number, block: number) =>
      outflowKey({ chain: 'ethereum', t, block, txHash: '0xab', index: null }).sk;

    expect(outflowKey({ chain: 'ethereum', t: 1_700_000_000, block: 19_000_000, txHash: '0xab', index: 3 })).toEqual({
      pk: 'OUT#ethereum',
      sk: '1700000000#000019000000#0xab#3',
    });
    const sorted = [key(999, 5), key(1000, 10), key(1000, 9), key(99_999, 1)].sort();
    expect(sorted).toEqual([key(999, 5), key(1000, 9), key(1000, 10), key(99_999, 1)]);
    expect(outflowSortFrom(1000) < key(1000, 0)).toBe(true);
    expect(outflowSortFrom(1000) > key(999, 999_999_999_999)).toBe(true);
  });

  it('refuses numbers that would not fit their padded width', () => {
    expect(() => outflowKey({ chain: 'c', t: 10 ** 10, block: 1, txHash: 'x', index: null })).toThrow(RangeError);
    expect(() => outflowKey({ chain: 'c', t: 1, block: -1, txHash: 'x', index: null })).toThrow(RangeError);
    expect(() => auditKey(1.5, 'id')).toThrow(RangeError);
  });

  it('keys audit records by zero-padded milliseconds, so a reverse query is newest first', () => {
    expect(auditKey(5, 'a').sk).toBe('0000000000005#a');
    expect(auditKey(1_700_000_000_000, 'b').sk > auditKey(999_999_999_999, 'c').sk).toBe(true);
  });

  it('expires outflows 35 days after their window time', () => {
    expect(OUTFLOW_RETENTION_SECONDS).toBe(35 * 86_400);
    expect(outflowExpiresAt(1_000)).toBe(1_000 + 35 * 86_400);
  });

  it('defines an on-demand table with string pk/sk', () => {
    expect(tableDefinition('t')).toMatchObject({
      TableName: 't',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    });
  });
});
