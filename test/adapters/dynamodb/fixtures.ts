import { type OutflowRecord, outflowId } from '../../../functions/core/model.ts';
import { type AuditRecord, type BreakerState, type ChainCursor, initialState } from '../../../functions/core/state.ts';

export const MAX_UINT256 = 2n ** 256n - 1n;

/**
 * The window time fixtures are written at: 2100-01-01. An outflow item expires 35 days after its `t`,
 * and DynamoDB Local, like the cloud table, deletes expired items on its own schedule — so a fixture at a
 * past time can vanish between a test's write and its read (issue 20: a batch test read back 11 of 30).
 * Times in tests are offsets from this.
 */
export const T0 = 4_102_444_800;

/** A valid outflow; `n` varies the tx hash so records are distinct. */
export function outflow(overrides: Partial<OutflowRecord> & { n?: number } = {}): OutflowRecord {
  const { n = 1, ...rest } = overrides;
  const chain = rest.chain ?? 'ethereum';
  const txHash = rest.txHash ?? `0x${n.toString(16).padStart(64, '0')}`;
  const index = rest.index === undefined ? 0 : rest.index;
  return {
    id: outflowId(chain, txHash, index),
    chain,
    block: 100,
    blockHash: `0x${'ab'.repeat(32)}`,
    blockTime: T0,
    txHash,
    index,
    contract: '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48',
    from: '0x1111111111111111111111111111111111111111',
    to: '0x2222222222222222222222222222222222222222',
    amount: 1_000_000n,
    t: T0,
    asset: 'USDC',
    decimals: 6,
    known: true,
    own: false,
    usdMicros: 1_000_000n,
    priceSource: 'static',
    ...rest,
  };
}

export function cursor(overrides: Partial<ChainCursor> = {}): ChainCursor {
  return {
    chain: 'ethereum',
    lastBlock: 100,
    recent: [
      { n: 99, h: `0x${'01'.repeat(32)}`, t: 1_700_000_000 },
      { n: 100, h: `0x${'02'.repeat(32)}`, t: 1_700_000_012 },
    ],
    lastT: 1_700_000_012,
    epoch: 0,
    version: 1,
    updatedAtMs: 1_700_000_012_345,
    ...overrides,
  };
}

export function trippedState(version: number): BreakerState {
  const audit: AuditRecord = {
    id: 'audit-trip-1',
    atMs: 1_700_000_100_000,
    action: 'trip',
    actor: 'breaker',
    scope: 'global',
    details: { ruleId: 'global-usd-1h' },
  };
  return {
    ...initialState(),
    version,
    tripped: {
      global: {
        tripId: 'trip-1',
        atMs: 1_700_000_100_000,
        ruleId: 'global-usd-1h',
        scope: { kind: 'global' },
        evidence: {
          ruleId: 'global-usd-1h',
          summary: 'global USD over 1h: $3,120,000.00 > limit $3,000,000.00',
          measure: 'usd',
          value: '3120000000000',
          limit: '3000000000000',
          windowSeconds: 3600,
          windowEnd: 1_700_000_090,
          outflowIds: ['ethereum:0xabc:0', 'ethereum:0xdef:native'],
        },
      },
    },
    reviewedThrough: { ethereum: 90 },
    warnedUntil: { 'eth-count-10m': 1_700_000_600 },
    outbox: [
      {
        kind: 'page',
        id: 'page-1',
        page: {
          id: 'page-1',
          kind: 'trip',
          subject: 'TRIPPED: global USD over 1h',
          text: 'Signing halted.\nEvidence follows.',
          details: { nested: { list: [1, 'two', null, true], empty: '', emptyList: [], emptyMap: {} } },
        },
      },
      { kind: 'audit', id: 'audit-trip-1', record: audit },
    ],
    updatedAtMs: 1_700_000_100_000,
  };
}

export function auditRecord(id: string, atMs: number): AuditRecord {
  return { id, atMs, action: 'reset', actor: 'arn:aws:iam::123456789012:user/oncall', reason: 'reviewed', details: {} };
}
