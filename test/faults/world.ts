/**
 * The fault suite's world: a real anvil chain with realistic hot-wallet traffic, fault proxies
 * (test/support/fault-proxy.ts) in front of every RPC endpoint and in front of dynalite, the real
 * EVM reader and DynamoDB store talking through them, and the real poller loop (`runPoller`, as the
 * Lambda handler and the local runtime run it).
 *
 * The verdict is against ground truth read from the chain independently of the breaker: every block
 * scanned with ethers for native sends out of the hot wallet (successful receipts only) and ERC-20
 * Transfer logs from it. Each fault test records its counts (missed, double-counted, phantom, wrong
 * amount) for scripts/reliability-matrix.ts, outside the repository.
 */

import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { getCreateAddress, Interface, id as keccakId, parseEther, parseUnits, zeroPadValue } from 'ethers';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { DynamoDbBreakerStore } from '../../functions/adapters/dynamodb/dynamodb-breaker-store.ts';
import {
  type LocalDynamo,
  startLocalDynamo,
  withLocalStoreToken,
} from '../../functions/adapters/dynamodb/local-dynamo.ts';
import { EvmChainReader } from '../../functions/adapters/evm/evm-chain-reader.ts';
import type { ChainReader } from '../../functions/core/chain-kind.ts';
import type { ConfigInput } from '../../functions/core/config/schema.ts';
import type { BreakerConfig, ChainConfig } from '../../functions/core/config/types.ts';
import type { OutflowRecord } from '../../functions/core/model.ts';
import type { BreakerStore, PagePublisher } from '../../functions/core/ports.ts';
import type { Page } from '../../functions/core/state.ts';
import type { PollDeps, PollResult } from '../../functions/core/use-cases/poll-chain.ts';
import { resetBreakerUseCase } from '../../functions/core/use-cases/reset-breaker.ts';
import { type RunSummary, runPoller } from '../../functions/core/use-cases/run-poller.ts';
import { Disperse, RevertOnReceive, TestToken } from '../../functions/local/contracts/artifacts.ts';
import { OffsetClock, RecordingPublisher } from '../integration/harness.ts';
import { type Anvil, startAnvil } from '../support/anvil.ts';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts';
import { initialiseForTest } from '../support/initialise.ts';

export const CHAIN = 'devnet';
export const GLOBAL_USD_10M = 1_000_000;
/** One transfer above the global limit: what every fault test sends while the fault is on. */
export const BREACH_USDT = 1_500_000n;

const erc20 = new Interface(TestToken.abi);
const disperseAbi = new Interface(['function disperseToken(address token, address[] recipients, uint256[] values)']);
const TRANSFER_TOPIC = keccakId('Transfer(address,address,uint256)');

export interface WorldOptions {
  /** RPC endpoints, each a fault proxy in front of the same anvil. @default 1 */
  readonly endpoints?: number;
  readonly confirmations?: number;
  readonly maxBlocksPerPoll?: number;
  readonly blindAfterSeconds?: number;
  readonly blindAction?: 'page' | 'halt-chain';
  readonly rpcCrossCheckEveryPolls?: number;
  readonly rpcMaxLagBlocks?: number;
  /** The reader's cap on one RPC answer (test/tamper: an oversized answer). */
  readonly rpcMaxResponseBytes?: number;
  /** The publisher the breaker uses, built around the recorder (e.g. SNS through a fault proxy, recording what got through). */
  readonly publisher?: (recorder: RecordingPublisher) => PagePublisher;
}

export interface Counts {
  /** Outflows on chain (ground truth) in the processed range. */
  outflows: number;
  missed: number;
  doubleCounted: number;
  /** In the ledger but not on the chain (e.g. an orphaned block's outflow left behind). */
  phantom: number;
  wrongAmount: number;
}

export interface InvokeOptions {
  owner?: string;
  store?: BreakerStore;
  reader?: ChainReader;
  /** Wall-clock budget of the invocation. @default 2000 */
  maxMs?: number;
  /** Stop as soon as a poll finds nothing left to read up to the mined head. @default true */
  untilCaughtUp?: boolean;
  /** Checked after every poll: true ends the invocation. */
  stop?: () => boolean;
  /** Called after every poll, whatever its outcome. */
  onPoll?: () => void;
  /** Per-poll checks, as compose.ts wires them (test/tamper: the config check). */
  checks?: PollDeps['checks'];
  /** The config this invocation was deployed with (test/tamper: a loosened redeploy). @default the world's */
  config?: BreakerConfig;
}

export interface World {
  readonly anvil: Anvil;
  readonly rpc: FaultProxy[];
  readonly db: FaultProxy;
  readonly dynamo: LocalDynamo;
  /** The store as the breaker sees it: through the fault proxy. */
  readonly store: DynamoDbBreakerStore;
  /** The same table without the proxy: for assertions and for a second, healthy process. */
  readonly direct: DynamoDbBreakerStore;
  readonly config: BreakerConfig;
  readonly chain: ChainConfig;
  readonly reader: EvmChainReader;
  readonly recorder: RecordingPublisher;
  readonly publisher: PagePublisher;
  readonly clock: OffsetClock;
  readonly hot: string;
  readonly startBlock: number;
  /** Txs of the breach transfers sent so far. */
  readonly breaches: string[];
  /** How often recovery had to wait for an abandoned lease to expire. */
  leaseExpiries: number;
  /** Mine `blocks` blocks of realistic traffic (several hot-wallet transfers each); `breach` adds one over the limit. */
  traffic(blocks: number, opts?: { breachAt?: number; breachTo?: string; pauseMs?: number }): Promise<void>;
  /** The wall clock forward; the next blocks' timestamps follow it (blindness, lease expiry). */
  advance(seconds: number): Promise<void>;
  /** Mine empty blocks, one simulated second apart. */
  mine(blocks: number): Promise<void>;
  /** anvil snapshot/revert (a reorg), keeping the traffic generator's nonces and times right. */
  snapshot(): Promise<string>;
  revert(id: string): Promise<void>;
  /** One Lambda-like invocation of the real poller loop. */
  invoke(opts?: InvokeOptions): Promise<{ summary?: RunSummary; error?: unknown; results: PollResult[] }>;
  /** Invocations back to back (new owner each, as Lambda) until `stop()` is called. */
  keepPolling(opts?: InvokeOptions): { stop(): Promise<void>; polls(): number };
  /** Poll until the cursor reaches head − confirmations (bounded). */
  settle(opts?: InvokeOptions): Promise<void>;
  head(): Promise<number>;
  ledger(): Promise<OutflowRecord[]>;
  /** Ledger against the chain. */
  audit(): Promise<Counts>;
  pages(kind: Page['kind']): Page[];
  /** Re-arm (as an operator would), so a later breach can be seen to trip. */
  reset(reason?: string): Promise<void>;
  stop(): Promise<void>;
}

let worldSeq = 0;

interface TxSpec {
  from: string;
  to?: string;
  value?: bigint;
  data?: string;
  gas?: number;
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const anvil = await startAnvil({ noMining: true });
  const cleanups: (() => Promise<unknown>)[] = [() => anvil.stop()];
  try {
    const accounts = anvil.accounts.map((w) => w.address);
    const [deployer, hot, , cold, , stranger] = accounts as [string, string, string, string, string, string];
    // Straight JSON-RPC to anvil (its unlocked accounts sign): a few ms a call, where a provider
    // round trip costs tens.
    const call = async <T>(method: string, params: unknown[] = []): Promise<T> =>
      (await rpcBatch(anvil.url, [{ method, params }]))[0] as T;
    let nonces: Map<string, number> | undefined;
    const send = async (txs: TxSpec[]) => {
      nonces ??= new Map();
      const calls = [];
      for (const tx of txs) {
        const from = tx.from.toLowerCase();
        let nonce = nonces.get(from);
        if (nonce === undefined) nonce = Number(await call<string>('eth_getTransactionCount', [from, 'pending']));
        nonces.set(from, nonce + 1);
        calls.push({
          method: 'eth_sendTransaction',
          params: [
            {
              from,
              ...(tx.to && { to: tx.to }),
              value: `0x${(tx.value ?? 0n).toString(16)}`,
              data: tx.data ?? '0x',
              gas: `0x${(tx.gas ?? 150_000).toString(16)}`,
              nonce: `0x${nonce.toString(16)}`,
            },
          ],
        });
      }
      return (await rpcBatch(anvil.url, calls)).map((h) => (h as string).toLowerCase());
    };

    // Contracts in one block, funding in the next.
    const base = Number(await call<string>('eth_getTransactionCount', [deployer, 'pending']));
    const created = (k: number) => getCreateAddress({ from: deployer, nonce: base + k }).toLowerCase();
    const tokenDeploy = (symbol: string, decimals: number) => ({
      from: deployer,
      data: TestToken.bytecode + erc20.encodeDeploy([`Test ${symbol}`, symbol, decimals]).slice(2),
      gas: 3_000_000,
    });
    await send([
      tokenDeploy('USDT', 6),
      tokenDeploy('USDC', 6),
      tokenDeploy('ODD', 18),
      { from: deployer, data: RevertOnReceive.bytecode, gas: 1_000_000 },
      { from: deployer, data: Disperse.bytecode, gas: 2_000_000 },
    ]);
    await call('anvil_mine', ['0x1']);
    const addr = { usdt: created(0), usdc: created(1), odd: created(2), refuser: created(3), disperse: created(4) };
    await send([
      { from: deployer, to: addr.usdt, data: erc20.encodeFunctionData('mint', [hot, parseUnits('100000000', 6)]) },
      { from: deployer, to: addr.usdc, data: erc20.encodeFunctionData('mint', [hot, parseUnits('100000000', 6)]) },
      { from: deployer, to: addr.odd, data: erc20.encodeFunctionData('mint', [hot, parseUnits('1000000', 18)]) },
      { from: hot, to: addr.usdt, data: erc20.encodeFunctionData('approve', [addr.disperse, 2n ** 255n]) },
    ]);
    await call('anvil_mine', ['0x1']);
    const funded = await rpcBatch(anvil.url, [
      {
        method: 'eth_call',
        params: [{ to: addr.usdt, data: erc20.encodeFunctionData('allowance', [hot, addr.disperse]) }, 'latest'],
      },
      { method: 'eth_call', params: [{ to: addr.odd, data: erc20.encodeFunctionData('balanceOf', [hot]) }, 'latest'] },
    ]);
    if (funded.some((r) => BigInt(r as string) === 0n))
      throw new Error('fault world: contracts not deployed or funded');

    const rpc = await Promise.all(Array.from({ length: options.endpoints ?? 1 }, () => startFaultProxy(anvil.url)));
    cleanups.push(...rpc.map((p) => () => p.stop()));
    const dynamo = await startLocalDynamo({ tableName: `faults-${++worldSeq}` });
    cleanups.push(() => dynamo.close());
    const db = await startFaultProxy(dynamo.endpoint);
    cleanups.push(() => db.stop());
    const proxiedClient = new DynamoDBClient({
      endpoint: db.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      // The SDK's own retries as in production (3 attempts), minus the waiting.
      retryStrategy: quickRetries(3),
      requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 },
    });
    withLocalStoreToken(proxiedClient, dynamo.token);
    cleanups.push(async () => proxiedClient.destroy());
    const fastRetry = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };
    const store = new DynamoDbBreakerStore({
      client: proxiedClient,
      tableName: dynamo.tableName,
      unprocessedRetry: fastRetry,
    });
    const direct = new DynamoDbBreakerStore({
      client: dynamo.client,
      tableName: dynamo.tableName,
      unprocessedRetry: fastRetry,
    });
    await initialiseForTest(direct);

    const startBlock = Number(await anvil.rpc<string>('eth_blockNumber')) + 1;
    const input: ConfigInput = {
      name: 'fault-suite',
      chains: {
        [CHAIN]: {
          kind: 'evm',
          chainId: anvil.chainId,
          rpc: rpc.map((p) => p.url),
          rpcTimeoutMs: 250,
          rpcBatchSize: 50,
          ...(options.rpcMaxLagBlocks !== undefined && { rpcMaxLagBlocks: options.rpcMaxLagBlocks }),
          ...(options.rpcMaxResponseBytes !== undefined && { rpcMaxResponseBytes: options.rpcMaxResponseBytes }),
          rpcCrossCheckEveryPolls: options.rpcCrossCheckEveryPolls ?? 5,
          confirmations: options.confirmations ?? 1,
          blockTimeSeconds: 1,
          pollIntervalSeconds: 0.02,
          maxBlocksPerPoll: options.maxBlocksPerPoll ?? 10,
          startBlock,
          blindAfterSeconds: options.blindAfterSeconds ?? 30,
          ...(options.blindAction && { blindAction: options.blindAction }),
          explorer: 'https://explorer.invalid',
          hotWallets: [hot],
          ownAddresses: [cold],
          native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
          tokens: [
            { symbol: 'USDT', contract: addr.usdt, decimals: 6, usdPrice: 1 },
            { symbol: 'USDC', contract: addr.usdc, decimals: 6, usdPrice: 1 },
          ],
        },
      },
      unknownAssets: { usdPerTransfer: 10 },
      limits: { warnRatio: 0.9, global: { usd: { '10m': GLOBAL_USD_10M }, count: { '10m': 1_000_000 } } },
    };
    const config = compileConfig(input, 'fault-suite');
    const chain = config.chains.get(CHAIN) as ChainConfig;
    const reader = new EvmChainReader(chain, { backoffMs: 5 });
    const recorder = new RecordingPublisher();
    const publisher = options.publisher?.(recorder) ?? recorder;
    const clock = new OffsetClock();
    const breaches: string[] = [];

    // ---- traffic ----
    let blockSeq = 0;
    // Chain time follows the test clock: one block per simulated second at least, as on a 1 s chain,
    // and the clock never lags the chain (so "how old is the last processed block" means something).
    const latestTime = async () =>
      Number((await call<{ timestamp: string }>('eth_getBlockByNumber', ['latest', false])).timestamp);
    let lastTs = await latestTime();
    const mineOne = async () => {
      const ts = Math.max(lastTs + 1, Math.floor(clock.now() / 1000));
      await rpcBatch(anvil.url, [
        { method: 'evm_setNextBlockTimestamp', params: [ts] },
        { method: 'anvil_mine', params: ['0x1'] },
      ]);
      lastTs = ts;
      if (clock.now() < ts * 1000) clock.offsetMs += ts * 1000 - clock.now();
    };
    const customer = () => `0x${randomBytes(20).toString('hex')}`;
    const usdtTo = (to: string, units: bigint) => ({
      from: hot,
      to: addr.usdt,
      data: erc20.encodeFunctionData('transfer', [to, units]),
    });

    const world: World = {
      anvil,
      rpc,
      db,
      dynamo,
      store,
      direct,
      config,
      chain,
      reader,
      recorder,
      publisher,
      clock,
      hot: hot.toLowerCase(),
      startBlock,
      breaches,
      leaseExpiries: 0,
      async traffic(blocks, opts = {}) {
        for (let i = 0; i < blocks; i++) {
          const k = ++blockSeq;
          const txs: TxSpec[] = [
            { from: hot, to: customer(), value: parseEther(`0.0${(k % 9) + 1}`) },
            usdtTo(customer(), parseUnits(String(10 + ((k * 37) % 490)), 6)),
            {
              from: hot,
              to: addr.usdc,
              data: erc20.encodeFunctionData('transfer', [customer(), parseUnits(String(5 + (k % 50)), 6)]),
            },
            { from: hot, to: addr.odd, data: erc20.encodeFunctionData('transfer', [customer(), parseUnits('3', 18)]) },
            // Someone else's payment: not an outflow.
            { from: stranger, to: customer(), value: parseEther('1') },
          ];
          // An own-wallet sweep: recorded, never a loss.
          if (k % 3 === 0) txs.push({ from: hot, to: cold, value: parseEther('2') });
          // A reverted send: moves nothing, must not count.
          if (k % 4 === 0) txs.push({ from: hot, to: addr.refuser, value: parseEther('5'), gas: 100_000 });
          // A batch payout: several Transfer logs from the hot wallet in one transaction.
          if (k % 5 === 0) {
            txs.push({
              from: hot,
              to: addr.disperse,
              data: disperseAbi.encodeFunctionData('disperseToken', [
                addr.usdt,
                [customer(), customer(), customer()],
                [parseUnits('11', 6), parseUnits('12', 6), parseUnits('13', 6)],
              ]),
              gas: 300_000,
            });
          }
          if (opts.breachAt === i) txs.push(usdtTo(opts.breachTo ?? customer(), parseUnits(String(BREACH_USDT), 6)));
          const hashes = await send(txs);
          if (opts.breachAt === i) breaches.push(hashes.at(-1) as string);
          await mineOne();
          if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
        }
      },
      async advance(seconds) {
        clock.offsetMs += seconds * 1000;
      },
      async mine(blocks) {
        for (let i = 0; i < blocks; i++) await mineOne();
      },
      snapshot: () => call<string>('evm_snapshot'),
      async revert(id) {
        await call('evm_revert', [id]);
        nonces = undefined;
        lastTs = await latestTime();
      },
      async invoke(opts = {}) {
        const results: PollResult[] = [];
        const abort = new AbortController();
        const target = (await world.head()) - chain.confirmations;
        const untilCaughtUp = opts.untilCaughtUp ?? true;
        try {
          const summary = await runPoller(
            {
              config: opts.config ?? config,
              chain: opts.config?.chains.get(CHAIN) ?? chain,
              reader: opts.reader ?? reader,
              store: opts.store ?? store,
              publisher,
              clock,
              owner: opts.owner ?? `invocation-${Math.random().toString(36).slice(2, 10)}`,
              leaseMs: 120_000,
              ...(opts.checks ? { checks: opts.checks } : {}),
            },
            {
              deadlineMs: clock.now() + (opts.maxMs ?? 2000),
              intervalMs: 20,
              sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
              signal: abort.signal,
              onResult: (r) => {
                results.push(r);
                opts.onPoll?.();
                if (untilCaughtUp && r.kind === 'idle' && r.lastBlock >= target) abort.abort();
                if (opts.stop?.()) abort.abort();
              },
              onError: () => {
                opts.onPoll?.();
                if (opts.stop?.()) abort.abort();
              },
            },
          );
          return { summary, results };
        } catch (error) {
          return { error, results };
        }
      },
      keepPolling(opts = {}) {
        let stopped = false;
        let polls = 0;
        const loop = (async () => {
          while (!stopped) {
            await world.invoke({
              maxMs: 400,
              untilCaughtUp: false,
              ...opts,
              stop: () => stopped,
              onPoll: () => {
                polls++;
              },
            });
          }
        })();
        return {
          async stop() {
            stopped = true;
            await loop;
          },
          polls: () => polls,
        };
      },
      async settle(opts = {}) {
        // Bounded by invocations; the time bound stops only a run that has stopped advancing. A fixed
        // total failed slow but advancing catch-ups: at 15 s at load 18, and at 45 s at load 20 (issue 20).
        const noProgressMs = 45_000;
        let deadline = Date.now() + noProgressMs;
        let stuck = 0;
        let last = -1;
        for (let i = 0; i < 40 && Date.now() < deadline; i++) {
          const target = (await world.head()) - chain.confirmations;
          await world.invoke({ maxMs: 3000, ...opts });
          const cursor = await direct.getCursor(CHAIN);
          if (cursor && cursor.lastBlock >= target && !cursor.lease) return;
          stuck = cursor?.lastBlock === last ? stuck + 1 : 0;
          if ((cursor?.lastBlock ?? -1) > last) deadline = Date.now() + noProgressMs;
          last = cursor?.lastBlock ?? -1;
          // A lease left by an invocation that is gone blocks everyone until it expires: let that time pass.
          if (stuck >= 3 && cursor?.lease && cursor.lease.untilMs > clock.now()) {
            world.leaseExpiries++;
            await world.advance(Math.ceil((cursor.lease.untilMs - clock.now()) / 1000) + 1);
          }
        }
        throw new Error('the poller did not catch up within 40 invocations, or stopped advancing for 45 s');
      },
      async head() {
        return Number(await call<string>('eth_blockNumber'));
      },
      async ledger() {
        return direct.outflowsSince(CHAIN, 0);
      },
      async audit() {
        const cursor = await direct.getCursor(CHAIN);
        const through = cursor?.lastBlock ?? startBlock - 1;
        const truth = await groundTruth(anvil, hot, startBlock, through);
        const ledger = await world.ledger();
        const ids = new Map<string, number>();
        for (const r of ledger) ids.set(r.id, (ids.get(r.id) ?? 0) + 1);
        const byId = new Map(ledger.map((r) => [r.id, r]));
        return {
          outflows: truth.size,
          missed: [...truth.keys()].filter((id) => !ids.has(id)).length,
          doubleCounted: [...ids.values()].reduce((sum, n) => sum + (n - 1), 0),
          phantom: [...ids.keys()].filter((id) => !truth.has(id)).length,
          wrongAmount: [...truth].filter(([id, amount]) => byId.has(id) && byId.get(id)?.amount !== amount).length,
        };
      },
      pages(kind) {
        return recorder.ofKind(kind);
      },
      async reset(reason = 'fault suite: reviewed, re-arming to check a later breach trips') {
        await resetBreakerUseCase({ config, store: direct, publisher, clock }, { reason, actor: 'fault-suite' });
      },
      async stop() {
        for (const c of cleanups.reverse()) await c().catch(() => undefined);
      },
    };
    return world;
  } catch (e) {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    throw e;
  }
}

/**
 * Every outflow of `hot` in blocks [from, to], straight from the chain with ethers, by the ledger's
 * id: native value sent by a successful transaction, and every ERC-20 Transfer log from `hot`.
 */
export async function groundTruth(anvil: Anvil, hot: string, from: number, to: number): Promise<Map<string, bigint>> {
  const truth = new Map<string, bigint>();
  if (to < from) return truth;
  const hotLower = hot.toLowerCase();
  const numbers = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const blocks = await Promise.all(numbers.map((n) => anvil.provider.getBlock(n, true)));
  const sends = blocks.flatMap((b) =>
    (b?.prefetchedTransactions ?? []).filter((tx) => tx.from.toLowerCase() === hotLower && tx.value > 0n),
  );
  const receipts = await Promise.all(sends.map((tx) => anvil.provider.getTransactionReceipt(tx.hash)));
  sends.forEach((tx, i) => {
    if (receipts[i]?.status === 1) truth.set(`${CHAIN}:${tx.hash.toLowerCase()}:native`, tx.value);
  });
  const logs = await anvil.provider.getLogs({
    fromBlock: from,
    toBlock: to,
    topics: [TRANSFER_TOPIC, zeroPadValue(hotLower, 32)],
  });
  for (const log of logs) {
    if (log.topics.length !== 3) continue;
    const parsed = erc20.parseLog({ topics: [...log.topics], data: log.data });
    const amount = parsed?.args[2] as bigint;
    if (amount > 0n) truth.set(`${CHAIN}:${log.transactionHash.toLowerCase()}:${log.index}`, amount);
  }
  return truth;
}

/** The SDK's standard retry decisions (not client errors; up to `attempts` in all) with a 5 ms pause. */
function quickRetries(attempts: number): DynamoDBClientConfig['retryStrategy'] {
  const token = (count: number) => ({ getRetryCount: () => count, getRetryDelay: () => 5 });
  return {
    mode: 'standard',
    acquireInitialRetryToken: async () => token(0),
    refreshRetryTokenForRetry: async (t: { getRetryCount(): number }, info: { errorType: string; error?: unknown }) => {
      if (t.getRetryCount() + 1 >= attempts || info.errorType === 'CLIENT_ERROR')
        throw info.error ?? new Error('no retry');
      return token(t.getRetryCount() + 1);
    },
    recordSuccess: () => {},
  } as unknown as DynamoDBClientConfig['retryStrategy'];
}

/** One JSON-RPC batch to `url`; results in order; throws on any error. */
export async function rpcBatch(url: string, calls: { method: string; params: unknown[] }[]): Promise<unknown[]> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(calls.map((c, i) => ({ jsonrpc: '2.0', id: i + 1, ...c }))),
  });
  const replies = (await res.json()) as { id: number; result?: unknown; error?: { message: string } }[];
  const failed = replies.find((r) => r.error);
  if (failed) throw new Error(`anvil: ${calls[failed.id - 1]?.method} failed: ${failed.error?.message}`);
  return replies.sort((a, b) => a.id - b.id).map((r) => r.result);
}

// ---- the record the reliability matrix is generated from ----

export interface MatrixRow {
  /** Which part fails. */
  component: 'RPC' | 'store' | 'pages (SNS)' | 'chain' | 'process';
  fault: string;
  expected: string;
  /** Extra facts the test observed (e.g. "endpoint suspended", "blind page 1, recovered 1"). */
  observed?: string;
}

export function reliabilityDir(): string {
  return process.env.RELIABILITY_OUT ?? join(tmpdir(), 'hot-wallet-breaker-reliability');
}

/** Write this test's row and counts where scripts/reliability-matrix.ts reads them. */
export function recordRow(testName: string, row: MatrixRow, counts: Counts): void {
  const dir = reliabilityDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${testName.replace(/[^a-zA-Z0-9]+/g, '-').slice(0, 120)}.json`);
  writeFileSync(file, JSON.stringify({ test: testName, ...row, ...counts }, null, 2));
}
