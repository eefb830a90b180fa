/**
 * DynamoDB requests per poll, counted on the store's own client (countDynamoRequests: every request the
 * SDK sends, retries included), for the cases that make up a poller's month:
 *  - an invocation starting (runPoller flushes the outbox, then polls without a cached cursor);
 *  - a poll that finds no new block (cached cursor, as inside the polling loop);
 *  - a poll over a new block without hot-wallet outflows;
 *  - a poll over a new block with one withdrawal in it: the extra requests per outflow.
 * Item sizes come from the stored items, so write and read units can be priced, not only requests.
 */

import { type AttributeValue, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbBreakerStore } from '../../functions/adapters/dynamodb/dynamodb-breaker-store.ts';
import { countDynamoRequests } from '../../functions/adapters/dynamodb/request-counter.ts';
import { cursorKey, outflowPartition, STATE_KEY } from '../../functions/adapters/dynamodb/table.ts';
import { EvmChainReader } from '../../functions/adapters/evm/evm-chain-reader.ts';
import { configPollCheck } from '../../functions/core/config-check.ts';
import type { ChainCursor } from '../../functions/core/state.ts';
import { systemClock } from '../../functions/core/time.ts';
import { flushOutbox } from '../../functions/core/use-cases/outbox.ts';
import { emptyHistoryCache, type PollDeps, pollOnce } from '../../functions/core/use-cases/poll-chain.ts';
import { LedgerCache } from '../../functions/core/windows/ledger-cache.ts';
import { startAnvil } from '../../functions/local/anvil-process.ts';
import { configDigest } from '../../functions/runtime/config-digest.ts';
import { initialiseForTest } from '../support/initialise.ts';
import { BENCH_CHAIN, benchConfig, CollectingPublisher } from './bench-config.ts';
import { startBenchDynamo } from './bench-dynamo.ts';
import { devAccountKeys, RawSigner, rpc, rpcBatch, sendRaw } from './chain-tools.ts';

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

export interface RequestCount {
  requests: number;
  writes: number;
  byOperation: Record<string, number>;
}

export interface DynamoRequestsRun {
  /** runPoller's start: outbox flush (state read). Once per invocation. */
  invocationStart: RequestCount;
  /** The first poll of an invocation (no cached cursor), no new block. */
  idlePollUncached: RequestCount;
  /** Per poll inside the loop (cached cursor), no new block. */
  idlePollNoNewBlock: RequestCount;
  /** Per poll over one new block without hot-wallet outflows (cached cursor). */
  idlePollNewEmptyBlock: RequestCount;
  /** Per poll over one new block with `outflowsPerBlock` outflows (steady state: the run's history cache warm). */
  pollWithOutflows: RequestCount;
  /** The same, for the first poll with outflows of a run (its history cache cold: the window is read back). */
  firstPollWithOutflows: RequestCount;
  outflowsPerBlock: number;
  /** (poll with outflows − poll over an empty block) / outflows. */
  extraPerOutflow: RequestCount;
  /** Item sizes as DynamoDB bills them (attribute names + values), bytes. */
  cursorItemBytes: number;
  stateItemBytes: number;
  outflowItemBytes: number;
}

export async function measureDynamoRequests(samples = 20): Promise<DynamoRequestsRun> {
  const anvil = await startAnvil({ noMining: true });
  const dynamo = await startBenchDynamo('in-process', 'bench-requests');
  try {
    const [, hotKey, , , , userKey] = devAccountKeys();
    const hot = new RawSigner(hotKey!);
    const user = new RawSigner(userKey!);
    // A cursor keeps the hashes of the last 128 blocks (reorg detection): give it a full list, as in production.
    await rpc(anvil.url, 'anvil_mine', ['0x96']);
    const config = benchConfig({
      rpc: anvil.url,
      hotWallets: [hot.address],
      confirmations: 0,
      blockTimeSeconds: 12,
      startBlock: 0,
    });
    const chain = config.chains.get(BENCH_CHAIN)!;
    const store = new DynamoDbBreakerStore({ client: dynamo.client, tableName: dynamo.tableName });
    await initialiseForTest(store);
    const publisher = new CollectingPublisher();
    const deps: PollDeps = {
      config,
      chain,
      reader: new EvmChainReader(chain),
      store,
      publisher,
      clock: systemClock,
      owner: 'bench-requests',
      // As runPoller polls: its own chain's history kept in memory across the polls of one run.
      history: emptyHistoryCache(),
      // As the Lambda composes a poller: one cache of other chains' ledgers, which also remembers the ledger
      // log it wrote last (without it every summary write reads the stored log first: one more request).
      ledgers: new LedgerCache(),
      // As the Lambda composes a poller (runtime/compose.ts): the config check reads the state on every poll.
      checks: [configPollCheck(config, configDigest(config))],
    };
    let cursor: ChainCursor | undefined;
    for (let i = 0; i < 10; i++) {
      const { result, cursor: next } = await pollOnce(deps, cursor);
      cursor = next;
      if (result.kind === 'idle' && result.lastBlock === result.head) break;
    }
    const counter = countDynamoRequests(dynamo.client);
    const measure = async (n: number, work: () => Promise<void>): Promise<RequestCount> => {
      counter.reset();
      for (let i = 0; i < n; i++) await work();
      const byOperation = Object.fromEntries(Object.entries(counter.byOperation).map(([k, v]) => [k, v / n]));
      const requests = counter.total() / n;
      const writes = Object.entries(counter.byOperation)
        .filter(([op]) => WRITES.has(op))
        .reduce((sum, [, v]) => sum + v / n, 0);
      return { requests, writes, byOperation };
    };
    const poll = async () => {
      const { result, cursor: next } = await pollOnce(deps, cursor);
      if (result.kind === 'busy' || result.kind === 'reorg') throw new Error(`request count poll: ${result.kind}`);
      cursor = next;
    };

    const invocationStart = await measure(1, async () => {
      await flushOutbox({ store, publisher });
    });
    const idlePollUncached = await measure(1, async () => {
      const { cursor: next } = await pollOnce(deps);
      cursor = next;
    });
    const idlePollNoNewBlock = await measure(samples, poll);
    const idlePollNewEmptyBlock = await measure(samples, async () => {
      await rpc(anvil.url, 'evm_mine');
      await poll();
    });
    // One withdrawal per block is the common case for a live poller (a busy exchange sends one every few
    // blocks), and the dearest per outflow: the poll's fixed requests are not shared.
    const outflowsPerBlock = 1;
    const withdrawal = async () => {
      await rpcBatch(
        anvil.url,
        sendRaw([
          hot.sign({ to: '0x00000000000000000000000000000000c0ffee02', value: 10n ** 16n, gas: 21_000 }),
          user.sign({ to: hot.address, value: 10n ** 16n, gas: 21_000 }),
        ]),
      );
      await rpc(anvil.url, 'evm_mine');
      await poll();
    };
    const firstPollWithOutflows = await measure(1, withdrawal);
    const pollWithOutflows = await measure(samples, withdrawal);
    counter.stop();
    const perOutflow = (a: number, b: number) => Math.max(0, (a - b) / outflowsPerBlock);
    const ops = new Set([
      ...Object.keys(pollWithOutflows.byOperation),
      ...Object.keys(idlePollNewEmptyBlock.byOperation),
    ]);
    const extraPerOutflow: RequestCount = {
      requests: perOutflow(pollWithOutflows.requests, idlePollNewEmptyBlock.requests),
      writes: perOutflow(pollWithOutflows.writes, idlePollNewEmptyBlock.writes),
      byOperation: Object.fromEntries(
        [...ops].map((op) => [
          op,
          perOutflow(pollWithOutflows.byOperation[op] ?? 0, idlePollNewEmptyBlock.byOperation[op] ?? 0),
        ]),
      ),
    };

    const get = async (pk: string, sk: string) =>
      (
        await dynamo.client.send(
          new GetItemCommand({ TableName: dynamo.tableName, Key: { pk: { S: pk }, sk: { S: sk } } }),
        )
      ).Item ?? {};
    const cursorItem = cursorKey(BENCH_CHAIN);
    const outflow = await dynamo.client.send(
      new QueryCommand({
        TableName: dynamo.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: outflowPartition(BENCH_CHAIN) } },
        Limit: 1,
      }),
    );
    return {
      invocationStart,
      idlePollUncached,
      idlePollNoNewBlock,
      idlePollNewEmptyBlock,
      pollWithOutflows,
      firstPollWithOutflows,
      outflowsPerBlock,
      extraPerOutflow,
      cursorItemBytes: itemBytes(await get(cursorItem.pk, cursorItem.sk)),
      stateItemBytes: itemBytes(await get(STATE_KEY.pk, STATE_KEY.sk)),
      outflowItemBytes: itemBytes(outflow.Items?.[0] ?? {}),
    };
  } finally {
    await dynamo.close();
    await anvil.stop();
  }
}

/** An item's size as DynamoDB computes it for capacity: UTF-8 names plus values (numbers ≈ digits / 2 + 1). */
export function itemBytes(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + valueBytes(value), 0);
}

function valueBytes(v: AttributeValue): number {
  if (v.S !== undefined) return utf8(v.S);
  if (v.N !== undefined) return Math.ceil(v.N.replace(/^-|\.|^0+/g, '').length / 2) + 1;
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.M !== undefined) return 3 + Object.entries(v.M).reduce((s, [k, x]) => s + 1 + utf8(k) + valueBytes(x), 0);
  if (v.L !== undefined) return 3 + v.L.reduce((s, x) => s + 1 + valueBytes(x), 0);
  if (v.SS !== undefined) return v.SS.reduce((s, x) => s + utf8(x), 0);
  if (v.NS !== undefined) return v.NS.reduce((s, x) => s + Math.ceil(x.length / 2) + 1, 0);
  return 0;
}

function utf8(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}
