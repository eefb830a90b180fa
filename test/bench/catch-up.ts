/**
 * Catch-up: the breaker processing a backlog of blocks from block 0 to the head, as after an outage or
 * on first deployment. Three readers over the same traffic, each checked for exactness against what was
 * sent: the full poller (runPoller → EvmChainReader → DynamoDbBreakerStore on dynalite), the reader
 * alone (no store, so the store's share is visible), and the naive ethers baseline.
 */

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbBreakerStore } from '../../functions/adapters/dynamodb/dynamodb-breaker-store.ts';
import { countDynamoRequests } from '../../functions/adapters/dynamodb/request-counter.ts';
import { EvmChainReader } from '../../functions/adapters/evm/evm-chain-reader.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import type { ChainTransfer, OutflowRecord } from '../../functions/core/model.ts';
import { systemClock } from '../../functions/core/time.ts';
import { runPoller } from '../../functions/core/use-cases/run-poller.ts';
import { initialiseForTest } from '../support/initialise.ts';
import { BENCH_CHAIN, benchConfig, CollectingPublisher } from './bench-config.ts';
import { type DynamoPlacement, startBenchDynamo } from './bench-dynamo.ts';
import { assertExact, compareOutflows, type Exactness, type FoundOutflow } from './exactness.ts';
import { abortableSleep, timed } from './timing.ts';
import type { Traffic } from './traffic.ts';

export interface CatchUpOptions {
  /** Where the reader sends JSON-RPC (anvil, or the delay proxy in front of it). */
  rpcUrl: string;
  maxBlocksPerPoll: number;
  rpcBatchSize: number;
  /** Where the reader gets native outflows (chains.<id>.nativeSource). @default 'blocks' */
  nativeSource?: 'blocks' | 'traces';
  /** Where dynalite runs (breaker runs only). @default 'worker-thread' */
  dynamo?: DynamoPlacement;
}

export interface ReaderRun {
  maxBlocksPerPoll: number;
  blocks: number;
  seconds: number;
  blocksPerSecond: number;
  rpcCalls: number;
  httpRequests: number;
  rpcCallsPerBlock: number;
  httpRequestsPerBlock: number;
  exactness: Exactness;
}

export interface BreakerRun extends ReaderRun {
  polls: number;
  outflowsRecorded: number;
  ownOutflowsRecorded: number;
  pages: number;
  dynamoRequests: number;
  dynamoByOperation: Record<string, number>;
  /** Most requests of each operation in flight at once. */
  dynamoMaxInFlight: Record<string, number>;
  /** Milliseconds spent inside each port method (reader.readRange, store.recordOutflows, …). */
  spentMs: Record<string, number>;
  /** Items returned by each port method that returns a list (store.outflowsSince: history re-read). */
  itemsReturned: Record<string, number>;
}

export function catchUpConfig(traffic: Traffic, o: CatchUpOptions): BreakerConfig {
  return benchConfig({
    rpc: o.rpcUrl,
    hotWallets: traffic.hotWallets,
    ownAddresses: [traffic.cold],
    tokens: [
      { symbol: 'USDT', contract: traffic.tokens.usdt, decimals: 6, usdPrice: 1 },
      { symbol: 'WBTC', contract: traffic.tokens.wbtc, decimals: 8, usdPrice: 90_000 },
    ],
    confirmations: 0,
    blockTimeSeconds: 12,
    maxBlocksPerPoll: o.maxBlocksPerPoll,
    rpcBatchSize: o.rpcBatchSize,
    ...(o.nativeSource === undefined ? {} : { nativeSource: o.nativeSource }),
    startBlock: 0,
  });
}

/** The real poller loop from block 0 to the traffic's last block, on a fresh dynalite store. */
export async function breakerCatchUp(traffic: Traffic, o: CatchUpOptions): Promise<BreakerRun> {
  const dynamo = await startBenchDynamo(o.dynamo ?? 'worker-thread', 'bench-catch-up');
  try {
    // Initialised as at deploy, before the requests are counted.
    await initialiseForTest(new DynamoDbBreakerStore({ client: dynamo.client, tableName: dynamo.tableName }));
    const counter = countDynamoRequests(dynamo.client);
    const inFlight = trackInFlight(dynamo.client);
    const config = catchUpConfig(traffic, o);
    const chain = config.chains.get(BENCH_CHAIN)!;
    const rawReader = new EvmChainReader(chain);
    const rawStore = new DynamoDbBreakerStore({ client: dynamo.client, tableName: dynamo.tableName });
    const spentMs: Record<string, number> = {};
    const itemsReturned: Record<string, number> = {};
    const publisher = new CollectingPublisher();
    const abort = new AbortController();
    let polls = 0;
    let finished: number | undefined;
    let failure: unknown;
    const started = performance.now();
    await runPoller(
      {
        config,
        chain,
        reader: timed(rawReader, spentMs, 'reader'),
        store: timed(rawStore, spentMs, 'store', itemsReturned),
        publisher,
        clock: systemClock,
        owner: 'bench-catch-up',
      },
      {
        deadlineMs: Date.now() + 300_000,
        intervalMs: 1000,
        sleep: abortableSleep(abort.signal),
        signal: abort.signal,
        onResult: (r) => {
          polls++;
          const done =
            (r.kind === 'advanced' && r.to >= traffic.lastBlock) ||
            (r.kind === 'idle' && r.lastBlock >= traffic.lastBlock);
          if (r.kind === 'busy' || r.kind === 'reorg') failure = new Error(`catch-up poll: unexpected ${r.kind}`);
          if (done || failure) {
            finished = performance.now();
            abort.abort();
          }
        },
        onError: (e) => {
          failure = e;
          abort.abort();
        },
      },
    );
    if (failure) throw failure;
    if (finished === undefined) throw new Error('catch-up did not reach the head before its deadline');
    const seconds = (finished - started) / 1000;
    const dynamoRequests = counter.total();
    const dynamoByOperation = { ...counter.byOperation };
    counter.stop();
    inFlight.stop();

    const records = await rawStore.outflowsSince(BENCH_CHAIN, 0);
    const exactness = compareOutflows(records.map(fromRecord), traffic.expected);
    assertExact(
      `breaker catch-up (${o.maxBlocksPerPoll} blocks/poll, nativeSource ${o.nativeSource ?? 'blocks'}, via ${o.rpcUrl})`,
      exactness,
    );
    const { rpcCalls, httpRequests } = rawReader.counters();
    const blocks = traffic.lastBlock + 1;
    return {
      maxBlocksPerPoll: o.maxBlocksPerPoll,
      blocks,
      seconds,
      blocksPerSecond: blocks / seconds,
      rpcCalls,
      httpRequests,
      rpcCallsPerBlock: rpcCalls / blocks,
      httpRequestsPerBlock: httpRequests / blocks,
      exactness,
      polls,
      outflowsRecorded: records.length,
      ownOutflowsRecorded: records.filter((r) => r.own).length,
      pages: publisher.pages.length,
      dynamoRequests,
      dynamoByOperation,
      dynamoMaxInFlight: inFlight.max,
      spentMs,
      itemsReturned,
    };
  } finally {
    await dynamo.close();
  }
}

/** EvmChainReader alone, polled as the poller polls it (head, then the next range), without a store. */
export async function readerAlone(traffic: Traffic, o: CatchUpOptions): Promise<ReaderRun> {
  const config = catchUpConfig(traffic, o);
  const reader = new EvmChainReader(config.chains.get(BENCH_CHAIN)!);
  const transfers: ChainTransfer[] = [];
  const started = performance.now();
  for (let from = 0; from <= traffic.lastBlock; ) {
    const head = await reader.head();
    const to = Math.min(from + o.maxBlocksPerPoll - 1, head);
    const read = await reader.readRange(from, to);
    transfers.push(...read.transfers);
    from = to + 1;
  }
  const seconds = (performance.now() - started) / 1000;
  const exactness = compareOutflows(transfers.map(fromTransfer), traffic.expected);
  assertExact(
    `reader alone (${o.maxBlocksPerPoll} blocks/read, nativeSource ${o.nativeSource ?? 'blocks'}, via ${o.rpcUrl})`,
    exactness,
  );
  const { rpcCalls, httpRequests } = reader.counters();
  const blocks = traffic.lastBlock + 1;
  return {
    maxBlocksPerPoll: o.maxBlocksPerPoll,
    blocks,
    seconds,
    blocksPerSecond: blocks / seconds,
    rpcCalls,
    httpRequests,
    rpcCallsPerBlock: rpcCalls / blocks,
    httpRequestsPerBlock: httpRequests / blocks,
    exactness,
  };
}

let trackers = 0;

/** The most requests of each operation the client had in flight at once (concurrency, not count). */
function trackInFlight(client: DynamoDBClient): { max: Record<string, number>; stop(): void } {
  const name = `benchInFlight${++trackers}`;
  const current: Record<string, number> = {};
  const max: Record<string, number> = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const op = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      current[op] = (current[op] ?? 0) + 1;
      max[op] = Math.max(max[op] ?? 0, current[op]);
      try {
        return await next(args);
      } finally {
        current[op] = (current[op] ?? 1) - 1;
      }
    },
    { step: 'initialize', name },
  );
  return { max, stop: () => client.middlewareStack.remove(name) };
}

function fromRecord(r: OutflowRecord): FoundOutflow {
  return { id: r.id, block: r.block, contract: r.contract, from: r.from, to: r.to, amount: r.amount };
}

function fromTransfer(t: ChainTransfer): FoundOutflow {
  return {
    id: `${t.chain}:${t.txHash}:${t.index ?? 'native'}`,
    block: t.block,
    contract: t.contract,
    from: t.from,
    to: t.to,
    amount: t.amount,
  };
}
