/**
 * Stolen-key detection by the spent-outpoint watermark on Bitcoin: from the moment a thief broadcasts
 * (`sendrawtransaction`) a transaction spending a hot-wallet output the guard never approved, to the
 * moment the breaker state item holds the trip.
 *
 * The Bitcoin devnet mines a block every `blockTimeSeconds`; the real runPoller loop polls it through
 * Core JSON-RPC with a real DynamoDbBreakerStore on dynalite, the watermark check judging the mempool's
 * spends of hot outputs (`pending`, before inclusion) or only the blocks read (`latest`, after
 * inclusion). Per trial: broadcast, wait for the trip write, wait for the block holding the
 * transaction to tell whether it tripped before inclusion, reset, next trial.
 */
import { BitcoinChainReader } from '../../functions/adapters/bitcoin/bitcoin-chain-reader.ts';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { DynamoDbBreakerStore } from '../../functions/adapters/dynamodb/dynamodb-breaker-store.ts';
import { systemClock } from '../../functions/core/time.ts';
import { watermarkCheck } from '../../functions/core/use-cases/check-watermark.ts';
import { initialiseBreaker } from '../../functions/core/use-cases/initialise-breaker.ts';
import { resetBreakerUseCase } from '../../functions/core/use-cases/reset-breaker.ts';
import { runPoller } from '../../functions/core/use-cases/run-poller.ts';
import { outpointRuleId } from '../../functions/core/watermark/rule-ids.ts';
import { BitcoinDevnet, devnetWallet, type Utxo } from '../../functions/local/bitcoin-devnet.ts';
import { CollectingPublisher } from './bench-config.ts';
import { startBenchDynamo } from './bench-dynamo.ts';
import type { PendingWatermarkRun } from './pending-watermark.ts';
import { waitFor, withTripTime } from './pending-watermark.ts';
import { abortableSleep, percentile } from './timing.ts';

const CHAIN = 'bitcoin-devnet';

export interface PendingOutpointOptions {
  /** `pending`: the mempool is judged too; `latest`: only the blocks the poll reads. */
  tag: 'pending' | 'latest';
  trials: number;
  pollIntervalSeconds: number;
  /** The devnet mines a block this often. @default 1 */
  blockTimeSeconds?: number;
  onTrial?: (trial: number, latencyMs: number) => void;
}

export async function measurePendingOutpoint(o: PendingOutpointOptions): Promise<PendingWatermarkRun> {
  const blockTimeSeconds = o.blockTimeSeconds ?? 1;
  const node = new BitcoinDevnet({ recordRequests: false });
  const hot = devnetWallet('bench-outpoint-hot', 'p2wpkh');
  const thief = devnetWallet('bench-outpoint-thief', 'p2wpkh');
  // One hot output per trial: coinbase outputs, ten per block.
  const utxos: Utxo[] = [];
  while (utxos.length < o.trials) {
    const mined = node.mine({ coinbase: Array.from({ length: 10 }, () => ({ to: hot.address, value: 100_000_000n })) });
    for (let vout = 0; vout < 10; vout++) {
      utxos.push({ txid: mined.txids[0] as string, vout, value: 100_000_000n, script: hot.output });
    }
  }
  const { rpcUrl } = await node.start();
  const minedAt = new Map<string, number>();
  const miner = setInterval(() => {
    const block = node.mine();
    const at = performance.now();
    for (const txid of block.txids) minedAt.set(txid, at);
  }, blockTimeSeconds * 1000);
  const dynamo = await startBenchDynamo('in-process', 'bench-outpoint');
  const abort = new AbortController();
  try {
    const config = compileConfig(
      {
        name: 'bench-outpoint',
        chains: {
          [CHAIN]: {
            kind: 'bitcoin',
            network: 'regtest',
            rpc: [rpcUrl],
            confirmations: 0,
            blockTimeSeconds,
            pollIntervalSeconds: o.pollIntervalSeconds,
            startBlock: node.height + 1,
            hotWallets: [hot.address],
            native: { symbol: 'BTC', decimals: 8, usdPrice: 100_000 },
          },
        },
        limits: { global: { usd: { '10m': 1e12 } } },
        watermark: { enabled: true, chains: [CHAIN], halt: 'chain', pending: o.tag === 'pending' },
      },
      'bench-outpoint',
    );
    const chain = config.chains.get(CHAIN)!;
    const reader = new BitcoinChainReader(chain);
    const inner = new DynamoDbBreakerStore({ client: dynamo.client, tableName: dynamo.tableName });
    let trippedAt: number | undefined;
    const store = withTripTime(inner, outpointRuleId(CHAIN), () => {
      trippedAt ??= performance.now();
    });
    const publisher = new CollectingPublisher();
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
        owner: 'bench-outpoint',
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
      const utxo = utxos[trial - 1] as Utxo;
      const tx = node.createTx([{ utxo, wallet: hot }], [{ to: thief.address, value: utxo.value - 1_000n }]);
      const sentAt = performance.now();
      const reply = await fetch(rpcUrl, {
        method: 'POST',
        body: JSON.stringify({ jsonrpc: '1.0', id: trial, method: 'sendrawtransaction', params: [tx.toHex()] }),
      });
      if (!reply.ok) throw new Error(`sendrawtransaction: HTTP ${reply.status} ${await reply.text()}`);
      const at = await waitFor(
        () => trippedAt,
        20_000,
        () => failure,
        `trial ${trial}: no trip for ${tx.getId()}`,
      );
      const mined = await waitFor(
        () => minedAt.get(tx.getId()),
        blockTimeSeconds * 1000 + 5_000,
        () => failure,
        `trial ${trial}: ${tx.getId()} was not mined`,
      );
      if (at < mined) beforeInclusion++;
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
    clearInterval(miner);
    await dynamo.close();
    await node.stop();
  }
}
