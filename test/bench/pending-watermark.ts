/**
 * Stolen-key detection by the nonce watermark: from the moment a thief broadcasts a transaction signed
 * with a hot key (here an `approve`-sized call that moves nothing: a zero-value self-call) to the moment
 * the breaker state item holds the trip.
 *
 * anvil mines a block every `blockTimeSeconds` (interval mining); the real runPoller loop polls it with
 * a real DynamoDbBreakerStore on dynalite, the watermark check reading every hot wallet's nonce at
 * `pending` (before inclusion, from the endpoint's mempool) or `latest` (after inclusion). The guard
 * never saw the thief's transaction, so the watermark is the nonce before it. Per trial: broadcast,
 * wait for the trip write, read the receipt's block to tell whether it tripped before inclusion,
 * reset, next trial.
 */
import { DynamoDbBreakerStore } from '../../functions/adapters/dynamodb/dynamodb-breaker-store.ts';
import { EvmChainReader } from '../../functions/adapters/evm/evm-chain-reader.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import type { BreakerStore } from '../../functions/core/ports.ts';
import { systemClock } from '../../functions/core/time.ts';
import { watermarkCheck } from '../../functions/core/use-cases/check-watermark.ts';
import { initialiseBreaker } from '../../functions/core/use-cases/initialise-breaker.ts';
import { resetBreakerUseCase } from '../../functions/core/use-cases/reset-breaker.ts';
import { runPoller } from '../../functions/core/use-cases/run-poller.ts';
import { watermarkRuleId } from '../../functions/core/watermark/rule-ids.ts';
import { startAnvil } from '../../functions/local/anvil-process.ts';
import { BENCH_CHAIN, benchConfig, CollectingPublisher } from './bench-config.ts';
import { startBenchDynamo } from './bench-dynamo.ts';
import { devAccountKeys, HeadWatcher, RawSigner, rpc } from './chain-tools.ts';
import { abortableSleep, percentile } from './timing.ts';

export interface PendingWatermarkOptions {
  /** Which nonce the watermark judges. */
  tag: 'pending' | 'latest';
  trials: number;
  pollIntervalSeconds: number;
  /** anvil interval mining. @default 1 */
  blockTimeSeconds?: number;
  onTrial?: (trial: number, latencyMs: number) => void;
}

export interface PendingWatermarkRun {
  tag: 'pending' | 'latest';
  blockTimeSeconds: number;
  pollIntervalSeconds: number;
  trials: number;
  latenciesMs: number[];
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** Trials whose trip was written before the thief's transaction was in a block. */
  trippedBeforeInclusion: number;
}

export async function measurePendingWatermark(o: PendingWatermarkOptions): Promise<PendingWatermarkRun> {
  const blockTimeSeconds = o.blockTimeSeconds ?? 1;
  const anvil = await startAnvil({ blockTime: blockTimeSeconds });
  const dynamo = await startBenchDynamo('in-process', 'bench-watermark');
  const heads = await HeadWatcher.open(anvil.url);
  const abort = new AbortController();
  try {
    const hot = new RawSigner(devAccountKeys()[1]!);
    const base = benchConfig({
      rpc: anvil.url,
      hotWallets: [hot.address],
      confirmations: 0,
      blockTimeSeconds,
      pollIntervalSeconds: o.pollIntervalSeconds,
      startBlock: 'latest',
    });
    const config: BreakerConfig = {
      ...base,
      watermark: {
        enabled: true,
        chains: new Set([BENCH_CHAIN]),
        halt: 'chain',
        pending: o.tag === 'pending',
        ruleIds: new Set([watermarkRuleId(BENCH_CHAIN)]),
        shadow: new Set(),
      },
    };
    const chain = config.chains.get(BENCH_CHAIN)!;
    const reader = new EvmChainReader(chain);
    const inner = new DynamoDbBreakerStore({ client: dynamo.client, tableName: dynamo.tableName });
    let trippedAt: number | undefined;
    const store = withTripTime(inner, watermarkRuleId(BENCH_CHAIN), () => {
      trippedAt ??= performance.now();
    });
    const publisher = new CollectingPublisher();
    // A deployed breaker starts initialised (an absent state is halted).
    await initialiseBreaker({ store: inner, clock: systemClock, publisher }, { actor: 'bench', reason: 'bench setup' });
    let polls = 0;
    let failure: unknown;
    const poller = runPoller(
      {
        config,
        chain,
        reader,
        store,
        publisher,
        clock: systemClock,
        owner: 'bench-watermark',
        checks: [watermarkCheck({ config, chain, reader, approvals: inner })],
      },
      {
        deadlineMs: Date.now() + 600_000,
        sleep: abortableSleep(abort.signal),
        signal: abort.signal,
        onResult: () => {
          polls++;
        },
        onError: (e) => {
          failure = e;
        },
      },
    ).catch((e) => {
      failure = e;
    });
    await waitFor(
      () => polls >= 2 || undefined,
      20_000,
      () => failure,
      'the poller did not start',
    );

    const latencies: number[] = [];
    let beforeInclusion = 0;
    for (let trial = 1; trial <= o.trials; trial++) {
      // Spread the broadcasts over the poll interval, as a real thief's are.
      await new Promise((r) => setTimeout(r, (trial * 137) % Math.round(o.pollIntervalSeconds * 1000)));
      trippedAt = undefined;
      const tx = hot.sign({ to: hot.address, value: 0n, gas: 21_000 });
      const sentAt = performance.now();
      await rpc(anvil.url, 'eth_sendRawTransaction', [tx.raw]);
      const at = await waitFor(
        () => trippedAt,
        20_000,
        () => failure,
        `trial ${trial}: no trip for ${tx.hash}`,
      );
      // Before inclusion: the trip was written before anvil announced the block holding the transaction.
      const receipt = await waitForReceipt(anvil.url, tx.hash, () => failure);
      const minedAt = await waitFor(
        () => heads.minedAt(Number(receipt.blockNumber)),
        5_000,
        () => failure,
        'no head',
      );
      if (at < minedAt) beforeInclusion++;
      latencies.push(at - sentAt);
      o.onTrial?.(trial, at - sentAt);
      await resetBreakerUseCase(
        { config, store: inner, publisher, clock: systemClock },
        { actor: 'bench', reason: `benchmark trial ${trial}: reviewed, re-arming` },
      );
    }
    abort.abort();
    await poller;
    if (failure) throw failure;
    return {
      tag: o.tag,
      blockTimeSeconds,
      pollIntervalSeconds: o.pollIntervalSeconds,
      trials: o.trials,
      latenciesMs: latencies,
      p50Ms: percentile(latencies, 50),
      p95Ms: percentile(latencies, 95),
      maxMs: Math.max(...latencies),
      trippedBeforeInclusion: beforeInclusion,
    };
  } finally {
    abort.abort();
    heads.close();
    await dynamo.close();
    await anvil.stop();
  }
}

/** The store, calling `onTrip` when a state write holding a trip by `rule` is acknowledged. */
export function withTripTime(inner: BreakerStore, rule: string, onTrip: () => void): BreakerStore {
  return new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key !== 'saveState' || typeof value !== 'function') {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      const save: BreakerStore['saveState'] = async (next, expected) => {
        await (value as BreakerStore['saveState']).call(target, next, expected);
        if (Object.values(next.tripped).some((t) => t.ruleId === rule)) onTrip();
      };
      return save;
    },
  });
}

/** Polls for the receipt (anvil mines every block time): the block that included `hash`. */
async function waitForReceipt(url: string, hash: string, failed: () => unknown): Promise<{ blockNumber: string }> {
  for (let i = 0; i < 200; i++) {
    const failure = failed();
    if (failure) throw failure;
    const receipt = await rpc<{ blockNumber: string } | null>(url, 'eth_getTransactionReceipt', [hash]);
    if (receipt) return receipt;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${hash} was not mined within 10 s`);
}

/** Polls `get` every 2 ms until it answers, `failed` reports a failure, or `timeoutMs` passes. */
export async function waitFor<T>(
  get: () => T | undefined,
  timeoutMs: number,
  failed: () => unknown,
  message: string,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    const failure = failed();
    if (failure) throw failure;
    if (Date.now() > until) throw new Error(message);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export function renderPendingWatermark(
  nonce: readonly PendingWatermarkRun[],
  outpoint: readonly PendingWatermarkRun[],
  measuredAt: string,
): string {
  const ms = (n: number) => `${Math.round(n)} ms`;
  const rows = (runs: readonly PendingWatermarkRun[]) =>
    runs.map(
      (r) =>
        `| \`${r.tag}\` | ${r.blockTimeSeconds} s | ${r.pollIntervalSeconds} s | ${r.trials} | ${ms(r.p50Ms)} | ${ms(r.p95Ms)} | ${ms(r.maxMs)} | ${r.trippedBeforeInclusion}/${r.trials} |`,
    );
  return [
    '## Stolen-key detection by the nonce watermark (broadcast → trip)',
    '',
    `Measured by \`npm run bench -- --only watermark\` (test/bench/pending-watermark.ts) on ${measuredAt.slice(0, 10)}: a thief`,
    'broadcasts a transaction signed with the hot key that moves nothing (the guard never saw it); anvil mines every',
    "second; the real poller loop on dynalite judges the hot wallet's nonce each poll (`pending`: with the pending-transaction",
    'filter too, which names the transaction). Time from `eth_sendRawTransaction`',
    "to the acknowledged state write holding the trip. Loopback: a floor — on mainnet add the transaction's propagation",
    'to your node (pending) or the wait for its block (latest). Chains without a public mempool and private order flow',
    'are seen at inclusion only (docs/STOLEN-KEYS.md). Cost: one `eth_getTransactionCount` per hot wallet per poll, in one',
    'HTTP request (test/watermark/watermark-anvil.test.ts measures it).',
    '',
    '| nonce judged | block time | poll interval | trials | p50 | p95 | max | tripped before inclusion |',
    '|---|---|---|---|---|---|---|---|',
    ...rows(nonce),
    '',
    '### Bitcoin: the spent-outpoint watermark (broadcast → trip)',
    '',
    'Same measurement on the Bitcoin devnet (test/bench/pending-outpoint.ts): a thief `sendrawtransaction`s a spend of a',
    'hot-wallet output the guard never approved; the devnet mines a block every second (mainnet: ~600 s); the poller reads',
    'it through Core JSON-RPC. `pending` judges the mempool each poll (`getrawmempool`, then `getrawtransaction` and',
    '`gettxout` for new arrivals only); `latest` only the blocks the poll reads, so on mainnet add the wait for a block',
    '(minutes) and the configured confirmations.',
    '',
    '| judged | block time | poll interval | trials | p50 | p95 | max | tripped before inclusion |',
    '|---|---|---|---|---|---|---|---|',
    ...rows(outpoint),
    '',
  ].join('\n');
}
