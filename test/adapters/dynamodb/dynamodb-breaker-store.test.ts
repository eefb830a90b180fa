import { createHash } from 'node:crypto';
import {
  type BatchWriteItemCommandInput,
  type BatchWriteItemCommandOutput,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../../functions/adapters/config/config-file.ts';
import { DynamoDbBreakerStore } from '../../../functions/adapters/dynamodb/dynamodb-breaker-store.ts';
import { cursorToItem, documentToItem } from '../../../functions/adapters/dynamodb/item-codec.ts';
import { localDynamoClient } from '../../../functions/adapters/dynamodb/local-dynamo.ts';
import { countDynamoRequests } from '../../../functions/adapters/dynamodb/request-counter.ts';
import { cursorKey, outflowKey, STATE_KEY } from '../../../functions/adapters/dynamodb/table.ts';
import { evmChainKind } from '../../../functions/adapters/evm/evm-chain-kind.ts';
import { summariseConfig } from '../../../functions/core/config-record.ts';
import { type BreakerError, isBreakerError, StateConflictError } from '../../../functions/core/errors.ts';
import { keepCheckpoints } from '../../../functions/core/reorg-checkpoints.ts';
import type { BreakerState, ChainCursor } from '../../../functions/core/state.ts';
import { initialState } from '../../../functions/core/state.ts';
import { itemBytes } from '../../bench/dynamo-requests.ts';
import { dynamoDbLocalJar, freePort, storeBackends, type TestStore } from '../../support/dynamo.ts';
import { auditRecord, cursor, MAX_UINT256, outflow, T0, trippedState } from './fixtures.ts';

async function conflictOf(p: Promise<unknown>): Promise<StateConflictError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(StateConflictError);
  return e as StateConflictError;
}

describe.each(storeBackends())('DynamoDbBreakerStore on $name', (backend) => {
  let t: TestStore;
  beforeAll(() => backend.setUp());
  afterAll(() => backend.tearDown());
  beforeEach(async () => {
    t = await backend.start();
  });
  afterEach(async () => {
    await t.close();
  });

  describe('outflow ledger', () => {
    it('round-trips every field exactly, including uint256-sized amounts and nulls', async () => {
      const big = outflow({ n: 1, amount: MAX_UINT256, fee: MAX_UINT256 - 1n, usdMicros: MAX_UINT256 });
      const native = outflow({ n: 2, index: null, contract: null, decimals: null, known: false, asset: 'UNKNOWN' });
      const zero = outflow({ n: 3, amount: 0n, usdMicros: 0n, priceSource: 'worst-case', own: true });
      await t.store.recordOutflows([big, native, zero]);

      const read = await t.store.outflowsSince('ethereum', 0);

      expect(read).toEqual([big, native, zero]);
      expect(read[0]?.amount).toBe(MAX_UINT256);
      expect(read[0]?.fee).toBe(MAX_UINT256 - 1n);
      expect(read[1]).not.toHaveProperty('fee');
      expect(read[1]?.index).toBeNull();
    });

    it('gives each outflow item a TTL 35 days after its window time, and the table expires on it', async () => {
      const r = outflow({ t: T0 });
      await t.store.recordOutflows([r]);

      const { Item } = await t.client.send(
        new GetItemCommand({ TableName: t.tableName, Key: { pk: { S: 'OUT#ethereum' }, sk: { S: outflowKey(r).sk } } }),
      );
      expect(Item?.expiresAt).toEqual({ N: String(T0 + 35 * 86_400) });
      // dynalite has no UpdateTimeToLive; DynamoDB Local, like the cloud table, must have TTL on.
      if (backend.name === 'DynamoDB Local') {
        const ttl = await t.client.send(new DescribeTimeToLiveCommand({ TableName: t.tableName }));
        expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
      }
    });

    it('is idempotent: the same record written twice, or twice in one batch, is stored once', async () => {
      const r = outflow({ n: 7 });
      await t.store.recordOutflows([r]);
      await t.store.recordOutflows([r, { ...r }]);

      expect(await t.store.outflowsSince('ethereum', 0)).toEqual([r]);
    });

    it('returns records ascending by (t, block) from the lower bound inclusive, per chain', async () => {
      const records = [
        outflow({ n: 1, t: T0 + 1000, block: 10 }),
        outflow({ n: 2, t: T0 + 1000, block: 9 }),
        outflow({ n: 3, t: T0 + 999, block: 8 }),
        outflow({ n: 4, t: T0 + 10_000, block: 11 }),
        outflow({ n: 5, t: T0 + 1001, block: 10, index: null }),
        outflow({ n: 6, t: T0 + 1000, block: 9, chain: 'polygon' }),
      ];
      await t.store.recordOutflows(records);

      const read = await t.store.outflowsSince('ethereum', T0 + 1000);

      expect(read.map((r) => [r.t - T0, r.block])).toEqual([
        [1000, 9],
        [1000, 10],
        [1001, 10],
        [10_000, 11],
      ]);
      expect(await t.store.outflowsSince('polygon', 0)).toEqual([records[5]]);
      expect(await t.store.outflowsSince('ethereum', T0 + 10_001)).toEqual([]);
    });

    it('removeOutflowsAfter deletes exactly the records above the block and reports how many', async () => {
      await t.store.recordOutflows([
        outflow({ n: 1, t: T0 + 1000, block: 100 }),
        outflow({ n: 2, t: T0 + 1012, block: 101 }),
        outflow({ n: 3, t: T0 + 1012, block: 101, index: 4 }),
        outflow({ n: 4, t: T0 + 1024, block: 102 }),
        outflow({ n: 5, t: T0 + 1024, block: 102, chain: 'polygon' }),
      ]);

      const removed = await t.store.removeOutflowsAfter('ethereum', 100, T0 + 1000);

      expect(removed).toBe(3);
      expect((await t.store.outflowsSince('ethereum', 0)).map((r) => r.block)).toEqual([100]);
      expect(await t.store.outflowsSince('polygon', 0)).toHaveLength(1);
      expect(await t.store.removeOutflowsAfter('ethereum', 100, T0 + 1000)).toBe(0);
    });

    it('writes 260 records in one call (11 batches) and reads all of them back across pages', async () => {
      const counter = countDynamoRequests(t.client);
      const records = Array.from({ length: 260 }, (_, i) =>
        outflow({ n: i + 1, t: T0 + 2000 + Math.floor(i / 10), block: 500 + Math.floor(i / 10), index: i % 10 }),
      );

      await t.store.recordOutflows(records);

      expect(counter.byOperation.BatchWriteItem).toBe(11);
      const read = await t.store.outflowsSince('ethereum', 0);
      expect(read).toHaveLength(260);
      expect(new Set(read.map((r) => r.id)).size).toBe(260);
      expect(read.reduce((sum, r) => sum + r.usdMicros, 0n)).toBe(260n * 1_000_000n);
    });

    it('retries items a batch left unprocessed until all are written', async () => {
      leaveUnprocessed(t.client, 3);
      const records = Array.from({ length: 30 }, (_, i) => outflow({ n: i + 1 }));

      await t.store.recordOutflows(records);

      expect(await t.store.outflowsSince('ethereum', 0)).toHaveLength(30);
    });

    it('gives up with STORE_UNAVAILABLE when items stay unprocessed', async () => {
      leaveUnprocessed(t.client, Number.POSITIVE_INFINITY);

      const e = await t.store.recordOutflows([outflow({ n: 1 }), outflow({ n: 2 })]).catch((err: unknown) => err);

      expect(isBreakerError(e, 'STORE_UNAVAILABLE')).toBe(true);
    });
  });

  describe('cursor store', () => {
    it('creates a cursor only when none exists, then updates it only from the expected version', async () => {
      expect(await t.store.getCursor('ethereum')).toBeUndefined();
      const v1 = cursor({ version: 1, lease: { owner: 'poller-a', untilMs: 5000, from: 101, to: 110, fromT: 1200 } });
      await t.store.saveCursor(v1, undefined);
      expect(await t.store.getCursor('ethereum')).toEqual(v1);

      const v2: ChainCursor = { ...cursor({ version: 2, lastBlock: 110 }) };
      await t.store.saveCursor(v2, 1);

      const stored = await t.store.getCursor('ethereum');
      expect(stored).toEqual(v2);
      expect(stored).not.toHaveProperty('lease');
    });

    it('a second create conflicts, carrying the cursor that is stored', async () => {
      const v1 = cursor({ version: 1 });
      await t.store.saveCursor(v1, undefined);

      const e = await conflictOf(t.store.saveCursor(cursor({ version: 1, lastBlock: 999 }), undefined));

      expect(e.code).toBe('STATE_CONFLICT');
      expect(e.current).toEqual(v1);
    });

    it('a stale update conflicts, carrying the newer cursor, and changes nothing', async () => {
      await t.store.saveCursor(cursor({ version: 1 }), undefined);
      const v2 = cursor({ version: 2, lastBlock: 120 });
      await t.store.saveCursor(v2, 1);

      const e = await conflictOf(t.store.saveCursor(cursor({ version: 2, lastBlock: 130 }), 1));

      expect(e.current).toEqual(v2);
      expect(await t.store.getCursor('ethereum')).toEqual(v2);
    });

    it('an update of a cursor that does not exist conflicts with current undefined', async () => {
      const e = await conflictOf(t.store.saveCursor(cursor({ version: 4 }), 3));
      expect(e.current).toBeUndefined();
    });

    it('refuses a version that is not expectedVersion + 1', async () => {
      await expect(t.store.saveCursor(cursor({ version: 3 }), 1)).rejects.toThrow(RangeError);
      expect(await t.store.getCursor('ethereum')).toBeUndefined();
    });

    it('a cursor with its full reorg checkpoints and a lease fits one write unit, and reads back as written', async () => {
      const blocks = Array.from({ length: 200 }, (_, i) => ({
        n: 20_000_000 + i,
        h: `0x${createHash('sha256').update(String(i)).digest('hex')}`,
        t: 1_700_000_000 + i * 12,
      }));
      const recent = keepCheckpoints(blocks, evmChainKind.finality.reorgMemoryBlocks);
      const leased = cursor({
        chain: 'avalanche',
        lastBlock: 20_000_199,
        recent,
        lease: { owner: 'c6a7ddc1-1b6f-4c1e-9f0e-1f0d2b7e6a55', untilMs: T0 + 15_000, from: 1, to: 2, fromT: 3 },
      });
      await t.store.saveCursor(leased, undefined);
      expect(await t.store.getCursor('avalanche')).toEqual(leased);
      const item = await t.client.send(
        new GetItemCommand({
          TableName: t.tableName,
          Key: { pk: { S: cursorKey('avalanche').pk }, sk: { S: 'CURSOR' } },
        }),
      );
      expect(item.Item?.recent?.S).toBeDefined();
      expect(itemBytes(item.Item!)).toBeLessThanOrEqual(1024);
    });

    it('reads a cursor written with one {n, h, t} map per block (the old layout), and packs it on the next write', async () => {
      const legacy = cursor({
        recent: Array.from({ length: 64 }, (_, i) => ({
          n: 37 + i,
          h: `0x${String(i).padStart(64, 'f')}`,
          t: 500 + i,
        })),
        lastBlock: 100,
      });
      const key = cursorKey('ethereum');
      await t.client.send(new PutItemCommand({ TableName: t.tableName, Item: documentToItem(key, legacy) }));
      expect(await t.store.getCursor('ethereum')).toEqual(legacy);

      await t.store.saveCursor({ ...legacy, version: 2 }, 1);
      const item = await t.client.send(
        new GetItemCommand({ TableName: t.tableName, Key: { pk: { S: key.pk }, sk: { S: key.sk } } }),
      );
      expect(item.Item?.recent?.S).toBeDefined();
      expect(await t.store.getCursor('ethereum')).toEqual({ ...legacy, version: 2 });
    });

    it('refuses a cursor whose packed checkpoints are malformed, naming the item', async () => {
      const item = cursorToItem(cursorKey('ethereum'), cursor());
      item.recent = { S: '1.2.0xab,zz' };
      await t.client.send(new PutItemCommand({ TableName: t.tableName, Item: item }));
      await expect(t.store.getCursor('ethereum')).rejects.toThrow(/CURSOR#ethereum\/CURSOR: checkpoint "zz"/);
    });

    it('keeps cursors of different chains apart', async () => {
      await t.store.saveCursor(cursor({ chain: 'ethereum', lastBlock: 5 }), undefined);
      await t.store.saveCursor(cursor({ chain: 'bitcoin', lastBlock: 800_000 }), undefined);
      expect((await t.store.getCursor('bitcoin'))?.lastBlock).toBe(800_000);
      expect((await t.store.getCursor('ethereum'))?.lastBlock).toBe(5);
    });
  });

  describe('evaluation progress store', () => {
    const progress = (through: number, version: number, chain = 'ethereum') => ({
      chain,
      through,
      throughT: T0 + through,
      decidedOn: 3,
      version,
      updatedAtMs: 1,
    });

    it('creates a chain’s progress item only when none exists, then updates it only from the expected version', async () => {
      expect(await t.store.getProgress('ethereum')).toBeUndefined();
      await t.store.saveProgress(progress(10, 1), undefined);
      await t.store.saveProgress(progress(12, 2), 1);
      expect(await t.store.getProgress('ethereum')).toEqual(progress(12, 2));
      const stale = await conflictOf(t.store.saveProgress(progress(11, 2), 1));
      expect(stale.current).toEqual(progress(12, 2));
      await expect(t.store.saveProgress(progress(13, 4), 2)).rejects.toThrow(RangeError);
    });

    it('a retried write that meets itself (the answer was lost) is not a conflict', async () => {
      await t.store.saveProgress(progress(10, 1), undefined);
      await t.store.saveProgress(progress(10, 1), undefined);
      await t.store.saveProgress(progress(12, 2), 1);
      await t.store.saveProgress(progress(12, 2), 1);
      expect(await t.store.getProgress('ethereum')).toEqual(progress(12, 2));
      await expect(t.store.saveProgress(progress(13, 2), 1)).rejects.toBeInstanceOf(StateConflictError);
    });

    it('is one item per chain, apart from the breaker state', async () => {
      await t.store.saveProgress(progress(5, 1, 'bitcoin'), undefined);
      await t.store.saveProgress(progress(9, 1), undefined);
      expect((await t.store.getProgress('bitcoin'))?.through).toBe(5);
      expect((await t.store.getProgress('ethereum'))?.through).toBe(9);
      expect(await t.store.getState()).toEqual(initialState());
      const { Item } = await t.client.send(
        new GetItemCommand({ TableName: t.tableName, Key: { pk: { S: 'EVAL#bitcoin' }, sk: { S: 'EVAL' } } }),
      );
      expect(Item?.through).toEqual({ N: '5' });
    });
  });

  describe('window summary store', () => {
    const summary = (chain: string, leaseVersion: number, usd = '5') => ({
      chain,
      leaseVersion,
      series: { '600': { width: 50, from: 34_000_000, usd: [usd, '0'], count: [1, 0] } },
      updatedAtMs: 1,
    });

    it('keeps the summary of the newest lease: an older lease cannot overwrite it', async () => {
      expect(await t.store.saveSummary(summary('ethereum', 3))).toBe(true);
      expect(await t.store.saveSummary(summary('ethereum', 3, '7'))).toBe(true);
      expect(await t.store.saveSummary(summary('ethereum', 2, '1'))).toBe(false);
      expect(await t.store.summariesOf(['ethereum'])).toEqual([summary('ethereum', 3, '7')]);
    });

    it('continues a ledger log only from the stored epoch and version; without one it starts a new epoch', async () => {
      const log = (epoch: string, version: number) => ({ epoch, version, changes: [T0 + version] });
      const at = (l: { epoch: string; version: number }) => ({ epoch: l.epoch, version: l.version });
      expect(await t.store.saveSummary({ ...summary('ethereum', 3), ledger: log('3:1', 1) }, at(log('3:1', 0)))).toBe(
        false,
      ); // nothing stored to continue
      expect(await t.store.saveSummary({ ...summary('ethereum', 3), ledger: log('3:1', 1) })).toBe(true);
      expect(await t.store.saveSummary({ ...summary('ethereum', 4), ledger: log('3:1', 2) }, at(log('3:1', 1)))).toBe(
        true,
      );
      // Two writers continuing version 2: only the first bumps it.
      expect(await t.store.saveSummary({ ...summary('ethereum', 4), ledger: log('3:1', 3) }, at(log('3:1', 2)))).toBe(
        true,
      );
      expect(await t.store.saveSummary({ ...summary('ethereum', 5), ledger: log('3:1', 3) }, at(log('3:1', 2)))).toBe(
        false,
      );
      expect(await t.store.saveSummary({ ...summary('ethereum', 5), ledger: log('4:9', 3) }, at(log('4:9', 3)))).toBe(
        false,
      ); // another epoch
      // An older lease cannot continue it either.
      expect(await t.store.saveSummary({ ...summary('ethereum', 2), ledger: log('3:1', 4) }, at(log('3:1', 3)))).toBe(
        false,
      );
      expect((await t.store.summariesOf(['ethereum']))[0]?.ledger).toEqual(log('3:1', 3));
    });

    it('a ledger log that does not parse is left out: no poller caches that chain', async () => {
      await t.store.saveSummary({ ...summary('bsc', 1), ledger: { epoch: 'e', version: 1, changes: ['x'] } as never });
      const [read] = await t.store.summariesOf(['bsc']);
      expect(read?.series).toEqual(summary('bsc', 1).series);
      expect(read?.ledger).toBeUndefined();
    });

    it('reads 120 chains’ summaries in batches of at most 100 keys, absent ones left out', async () => {
      const chains = Array.from({ length: 120 }, (_, i) => `c${String(i).padStart(3, '0')}`);
      for (const c of chains.slice(0, 110)) await t.store.saveSummary(summary(c, 1));
      const counter = countDynamoRequests(t.client);
      const read = await t.store.summariesOf(chains);
      counter.stop();
      expect(read.map((s) => s.chain).sort()).toEqual(chains.slice(0, 110));
      expect(counter.byOperation.BatchGetItem).toBe(2);
    });

    it('a summary that does not parse bounds nothing (the ledgers decide), rather than counting as no outflows', async () => {
      await t.client.send(
        new PutItemCommand({
          TableName: t.tableName,
          Item: { pk: { S: 'SUM#bsc' }, sk: { S: 'SUM' }, chain: { S: 'bsc' }, series: { S: 'garbage' } },
        }),
      );
      expect(await t.store.summariesOf(['bsc'])).toMatchObject([{ chain: 'bsc', series: {} }]);
    });
  });

  describe('breaker state store', () => {
    it('reads the initial armed state when nothing is stored', async () => {
      expect(await t.store.getState()).toEqual(initialState());
    });

    it('saves a tripped state with its outbox and reads it back unchanged', async () => {
      const s1 = trippedState(1);
      await t.store.saveState(s1, 0);
      expect(await t.store.getState()).toEqual(s1);

      const s2: BreakerState = { ...s1, version: 2, tripped: {}, outbox: [], updatedAtMs: s1.updatedAtMs + 1 };
      await t.store.saveState(s2, 1);
      expect(await t.store.getState()).toEqual(s2);
    });

    it('stores a bigint inside free-form details as its exact decimal string', async () => {
      const s = trippedState(1);
      s.outbox = [{ kind: 'audit', id: 'a', record: { ...auditRecord('a', 1), details: { wei: MAX_UINT256 } } }];
      await t.store.saveState(s, 0);

      const read = await t.store.getState();
      expect(read.outbox[0]).toMatchObject({ record: { details: { wei: MAX_UINT256.toString() } } });
    });

    it('a stale save conflicts, carrying the current state, and changes nothing', async () => {
      const s1 = trippedState(1);
      await t.store.saveState(s1, 0);

      const e = await conflictOf(t.store.saveState({ ...initialState(), version: 1 }, 0));

      expect(e.current).toEqual(s1);
      expect(await t.store.getState()).toEqual(s1);
    });

    it('of concurrent saves from the same version exactly one wins; each loser sees the winner', async () => {
      await t.store.saveState({ ...initialState(), version: 1 }, 0);
      const candidates = Array.from({ length: 8 }, (_, i) => ({ ...initialState(), version: 2, updatedAtMs: i + 1 }));

      const results = await Promise.allSettled(candidates.map((s) => t.store.saveState(s, 1)));

      const winners = results.filter((r) => r.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      const stored = await t.store.getState();
      for (const r of results) {
        if (r.status === 'rejected') {
          expect(r.reason).toBeInstanceOf(StateConflictError);
          expect((r.reason as StateConflictError<BreakerState>).current).toEqual(stored);
        }
      }
      expect(candidates).toContainEqual(stored);
    });

    it('refuses to save without advancing the version', async () => {
      await expect(t.store.saveState({ ...initialState(), version: 0 }, 0)).rejects.toThrow(RangeError);
    });

    describe('the recorded config (the largest part) is stored gzipped', () => {
      const example = loadConfigFile('config/example.yaml');
      const withConfig = (version: number): BreakerState => ({
        ...trippedState(version),
        config: { digest: 'd'.repeat(64), recordedAtMs: T0, summary: summariseConfig(example) },
      });
      const stateItem = async () =>
        (await t.client.send(new GetItemCommand({ TableName: t.tableName, Key: marshall(STATE_KEY) }))).Item ?? {};

      it('reads back unchanged, and the eleven-chain example state fits a few read units', async () => {
        const s = withConfig(1);
        await t.store.saveState(s, 0);
        expect(await t.store.getState()).toEqual(s);
        const item = await stateItem();
        expect(item.config).toBeUndefined();
        const bytes = JSON.stringify(item, (_k, v) => (v instanceof Uint8Array ? 'x'.repeat(v.length) : v)).length;
        const plain = JSON.stringify(s).length;
        expect(plain).toBeGreaterThan(40_000);
        expect(bytes).toBeLessThan(plain / 4);
      });

      it('a config map written by an older build is still read', async () => {
        const s = withConfig(1);
        await t.client.send(new PutItemCommand({ TableName: t.tableName, Item: documentToItem(STATE_KEY, s) }));
        expect(await t.store.getState()).toEqual(s);
      });

      it('a configZ that is not a gzipped config is an error naming the attribute, never a state without its config', async () => {
        await t.store.saveState(withConfig(1), 0);
        const item = { ...(await stateItem()), configZ: { B: new Uint8Array([1, 2, 3]) } };
        await t.client.send(new PutItemCommand({ TableName: t.tableName, Item: item }));
        await expect(t.store.getState()).rejects.toThrow(/configZ is not a gzipped recorded config/);
      });
    });
  });

  describe('audit log', () => {
    it('is idempotent by id and lists newest first, up to the limit', async () => {
      const a = auditRecord('a', 1_700_000_000_000);
      const b = auditRecord('b', 1_700_000_000_500);
      const c = { ...auditRecord('c', 1_700_000_001_000), scope: 'chain:ethereum', details: { block: 5, note: '' } };
      await t.store.appendAudit(b);
      await t.store.appendAudit(a);
      await t.store.appendAudit(c);
      await t.store.appendAudit(b);

      expect(await t.store.listAudit(10)).toEqual([c, b, a]);
      expect(await t.store.listAudit(2)).toEqual([c, b]);
      expect(await t.store.listAudit(0)).toEqual([]);
    });
  });

  describe('failures', () => {
    it('an unreachable store is STORE_UNAVAILABLE, carrying the network error', async () => {
      const client = localDynamoClient(`http://127.0.0.1:${await freePort()}`);
      const store = new DynamoDbBreakerStore({ client, tableName: t.tableName });
      try {
        const e = await store.getState().catch((err: unknown) => err);
        expect(isBreakerError(e, 'STORE_UNAVAILABLE')).toBe(true);
        expect((e as BreakerError).cause).toBeInstanceOf(Error);
      } finally {
        client.destroy();
      }
    });

    it('a missing table is STORE_UNAVAILABLE', async () => {
      const store = new DynamoDbBreakerStore({ client: t.client, tableName: 'no-such-table' });
      const e = await store.outflowsSince('ethereum', 0).catch((err: unknown) => err);
      expect(isBreakerError(e, 'STORE_UNAVAILABLE')).toBe(true);
      expect((e as Error).message).toContain('ResourceNotFoundException');
    });
  });

  describe('request counter', () => {
    it('counts requests per operation and stops counting when stopped', async () => {
      const counter = countDynamoRequests(t.client);
      await t.store.getState();
      await t.store.getCursor('ethereum');
      await t.store.outflowsSince('ethereum', 0);
      await t.store.saveState({ ...initialState(), version: 1 }, 0);
      await t.store.saveState({ ...initialState(), version: 1 }, 0).catch(() => undefined);

      expect(counter.byOperation).toEqual({ GetItem: 3, Query: 1, PutItem: 2 });
      expect(counter.total()).toBe(6);

      counter.reset();
      await t.store.getState();
      expect(counter.byOperation).toEqual({ GetItem: 1 });

      counter.stop();
      await t.store.getState();
      expect(counter.total()).toBe(1);
    });
  });
});

// Say so, both in the log and as a skipped test, when the full-fidelity run did not happen.
if (!dynamoDbLocalJar) {
  console.info(
    'DynamoDB Local run skipped: set DYNAMODB_LOCAL_JAR to its DynamoDBLocal.jar to run this suite on it too.',
  );
  describe('DynamoDbBreakerStore on DynamoDB Local', () => {
    it.skip('needs DYNAMODB_LOCAL_JAR (the DynamoDBLocal.jar from amplify-dynamodb-simulator@2.9.30)', () => {});
  });
}

/**
 * Fault injection dynalite cannot produce: for the next `times` BatchWriteItem calls, send only the
 * first half of the items to the server and report the rest as UnprocessedItems, as throttled DynamoDB does.
 */
function leaveUnprocessed(client: DynamoDBClient, times: number): void {
  let left = times;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'BatchWriteItemCommand' || left <= 0) return next(args);
      left--;
      const input = args.input as BatchWriteItemCommandInput;
      const [table, requests] = Object.entries(input.RequestItems ?? {})[0] ?? ['', []];
      const sent = requests.slice(0, Math.floor(requests.length / 2));
      const held = requests.slice(sent.length);
      const result =
        sent.length > 0
          ? await next({ ...args, input: { ...input, RequestItems: { [table]: sent } } })
          : { output: { $metadata: {} } as BatchWriteItemCommandOutput, response: {} };
      // Keep what the server itself left unprocessed (DynamoDB Local does under load) besides the held half.
      const output = result.output as BatchWriteItemCommandOutput;
      const unprocessed = [...(output.UnprocessedItems?.[table] ?? []), ...held];
      output.UnprocessedItems = unprocessed.length > 0 ? { [table]: unprocessed } : {};
      return result;
    },
    { step: 'initialize', name: 'injectUnprocessedItems' },
  );
}
