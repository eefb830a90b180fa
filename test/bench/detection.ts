/**
 * Detection latency: from the moment the block holding a breaching withdrawal is mined to the moment
 * the breaker state item (the kill switch a signer reads) holds the trip.
 *
 * anvil mines a block every second (`--block-time 1`); the real runPoller loop polls it with a real
 * DynamoDbBreakerStore on dynalite (in this process, as `npm start` runs it). Per trial a hot wallet
 * sends 1 ETH ($3,000) against a $1,000 single-transaction limit. The mine time is when anvil's newHeads
 * push for that block arrives (WebSocket); the trip time is when the conditional state write carrying
 * the trip is acknowledged by the store. Then the kill switch is read (it must say halted), the poll is
 * let finish, and the breaker is reset with a reason before the next trial.
 *
 * With `group`, the chain is polled the way a poller group polls it: inside runPollers, in a config holding the
 * example's other chains (group-world.ts, producing their own traffic), which the same run polls too when
 * `pollNeighbours` (else the chain is the run's only member: the same chain alone, for comparison). The trip is
 * then the chain's own single-transaction limit, so the neighbours' withdrawals never trip it.
 */

import { createChainReader } from '../../functions/adapters/chain-readers.ts';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { DynamoDbBreakerStore } from '../../functions/adapters/dynamodb/dynamodb-breaker-store.ts';
import { EvmChainReader } from '../../functions/adapters/evm/evm-chain-reader.ts';
import type { BreakerStore } from '../../functions/core/ports.ts';
import type { BreakerState } from '../../functions/core/state.ts';
import { systemClock } from '../../functions/core/time.ts';
import type { PollDeps, PollResult } from '../../functions/core/use-cases/poll-chain.ts';
import { resetBreakerUseCase } from '../../functions/core/use-cases/reset-breaker.ts';
import { runPoller } from '../../functions/core/use-cases/run-poller.ts';
import { runPollers } from '../../functions/core/use-cases/run-pollers.ts';
import { createKillSwitch } from '../../functions/guard/kill-switch.ts';
import { startAnvil } from '../../functions/local/anvil-process.ts';
import { initialiseForTest } from '../support/initialise.ts';
import { BENCH_CHAIN, benchConfigSource, CollectingPublisher } from './bench-config.ts';
import { startBenchDynamo } from './bench-dynamo.ts';
import { devAccountKeys, HeadWatcher, RawSigner, rpc } from './chain-tools.ts';
import type { GroupWorld } from './group-world.ts';
import { abortableSleep, percentile } from './timing.ts';

export interface DetectionOptions {
  confirmations: number;
  pollIntervalSeconds: number;
  trials: number;
  /** @default 1 */
  blockTimeSeconds?: number;
  onTrial?: (trial: number, latencyMs: number) => void;
  /** Poll the chain inside runPollers beside the world's chains (see the module comment). */
  group?: { world: GroupWorld; pollNeighbours: boolean };
}

export interface DetectionRun {
  confirmations: number;
  blockTimeSeconds: number;
  pollIntervalSeconds: number;
  trials: number;
  latenciesMs: number[];
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  minMs: number;
  /** Block mined → the poll that wrote the trip finished (cursor committed, page handed over). */
  pollFinishedP95Ms: number;
  /** Polls the loop actually made per minute (interval + the poll's own duration). */
  measuredPollsPerMinute: number;
  /** JSON-RPC calls and HTTP requests per processed block while polling live (about one block per poll). */
  liveRpcCallsPerBlock: number;
  liveHttpRequestsPerBlock: number;
  pages: number;
  /** With `group`: the chains the run polled, and the process's CPU time per second while it did. */
  polledChains?: string[];
  processCpuMsPerSecond?: number;
}

interface TripWrite {
  at: number;
  outflowIds: string[];
}

export async function measureDetection(o: DetectionOptions): Promise<DetectionRun> {
  const blockTimeSeconds = o.blockTimeSeconds ?? 1;
  const anvil = await startAnvil({ blockTime: blockTimeSeconds });
  const dynamo = await startBenchDynamo('in-process', 'bench-detection');
  const heads = await HeadWatcher.open(anvil.url);
  const abort = new AbortController();
  try {
    const hot = new RawSigner(devAccountKeys()[1]!);
    const customer = '0x00000000000000000000000000000000c0ffee01';
    const source = benchConfigSource({
      rpc: anvil.url,
      hotWallets: [hot.address],
      confirmations: o.confirmations,
      blockTimeSeconds,
      pollIntervalSeconds: o.pollIntervalSeconds,
      startBlock: 'latest',
      ...(o.group ? {} : { singleTxUsd: 1000 }),
    });
    const config = compileConfig(o.group ? withNeighbours(source, o.group.world) : source, 'bench');
    const chain = config.chains.get(BENCH_CHAIN)!;
    const reader = new EvmChainReader(chain);
    const inner = new DynamoDbBreakerStore({ client: dynamo.client, tableName: dynamo.tableName });
    await initialiseForTest(inner);
    const tripWrites = new Map<string, TripWrite>();
    const store = recordingTripWrites(inner, tripWrites);
    const publisher = new CollectingPublisher();
    const killSwitch = createKillSwitch(inner);

    let polls = 0;
    let firstPollAt = 0;
    let lastPollAt = 0;
    let firstProcessed: number | undefined;
    let lastProcessed = 0;
    let pollsWithTrip = 0;
    let pollFinishedAt = 0;
    let failure: unknown;
    const onResult = (r: PollResult) => {
      polls++;
      lastPollAt = performance.now();
      if (polls === 1) firstPollAt = lastPollAt;
      if (r.kind === 'advanced' || r.kind === 'idle') {
        lastProcessed = r.kind === 'advanced' ? r.to : r.lastBlock;
        firstProcessed ??= lastProcessed;
      }
      if (r.kind === 'advanced' && r.trips.length > 0) {
        pollsWithTrip++;
        pollFinishedAt = performance.now();
      }
    };
    const onError = (e: unknown) => {
      failure = e;
    };
    const deps = (id: string, reader: PollDeps['reader']): PollDeps => ({
      config,
      chain: config.chains.get(id)!,
      reader,
      store,
      publisher,
      clock: systemClock,
      owner: 'bench-detection',
    });
    const polled = o.group?.pollNeighbours ? [...config.chains.keys()] : [BENCH_CHAIN];
    const deadlineMs = Date.now() + 600_000;
    const poller = (
      o.group
        ? runPollers(
            polled.map((id) => deps(id, id === BENCH_CHAIN ? reader : createChainReader(config.chains.get(id)!))),
            {
              deadlineMs,
              graceMs: 10_000,
              sleep: abortableSleep(abort.signal),
              timer: (ms, signal) => abortableSleep(signal)(ms),
              signal: abort.signal,
              onResult: (id, r) => {
                if (id === BENCH_CHAIN) onResult(r);
              },
              // A neighbour's failed poll is its own business (retried next poll); this chain's fails the run.
              onError: (id, e) => {
                if (id === BENCH_CHAIN) onError(e);
              },
            },
          )
        : runPoller(deps(BENCH_CHAIN, reader), {
            deadlineMs,
            sleep: abortableSleep(abort.signal),
            signal: abort.signal,
            onResult,
            onError,
          })
    ).catch(onError);
    const cpuAtStart = process.cpuUsage();
    const wallAtStart = performance.now();

    // Let the poller create its cursor and settle on the chain before the first trial.
    await heads.next();
    await heads.next();
    const latencies: number[] = [];
    const pollFinished: number[] = [];
    for (let trial = 1; trial <= o.trials; trial++) {
      const tx = hot.sign({ to: customer, value: 10n ** 18n, gas: 21_000 });
      await rpc(anvil.url, 'eth_sendRawTransaction', [tx.raw]);
      const id = `${BENCH_CHAIN}:${tx.hash}:native`;
      const trips = pollsWithTrip;
      const write = await waitFor(
        () => [...tripWrites.values()].find((w) => w.outflowIds.includes(id)),
        20_000,
        () => failure,
        `trial ${trial}: no trip written for ${tx.hash}`,
      );
      const receipt = await rpc<{ blockNumber: string; status: string }>(anvil.url, 'eth_getTransactionReceipt', [
        tx.hash,
      ]);
      const minedAt = heads.minedAt(Number(receipt.blockNumber));
      if (minedAt === undefined)
        throw new Error(`trial ${trial}: block ${Number(receipt.blockNumber)} was not seen mined`);
      const decision = await killSwitch.isHalted({ chain: BENCH_CHAIN });
      if (!decision.halted) throw new Error(`trial ${trial}: the trip was written but the kill switch says not halted`);
      await waitFor(
        () => pollsWithTrip > trips || undefined,
        20_000,
        () => failure,
        `trial ${trial}: poll did not finish`,
      );
      latencies.push(write.at - minedAt);
      pollFinished.push(pollFinishedAt - minedAt);
      o.onTrial?.(trial, write.at - minedAt);

      await resetBreakerUseCase(
        { config, store: inner, publisher, clock: systemClock },
        { actor: 'bench', reason: `benchmark trial ${trial}: reviewed, re-arming` },
      );
      if ((await killSwitch.isHalted({ chain: BENCH_CHAIN })).halted) {
        throw new Error(`trial ${trial}: still halted after the reset`);
      }
    }
    const minutes = (lastPollAt - firstPollAt) / 60_000;
    const cpu = process.cpuUsage(cpuAtStart);
    const cpuMsPerSecond = (cpu.user + cpu.system) / 1000 / ((performance.now() - wallAtStart) / 1000);
    abort.abort();
    await poller;
    if (failure) throw failure;
    const live = reader.counters();
    const processed = Math.max(1, lastProcessed - (firstProcessed ?? lastProcessed));
    return {
      confirmations: o.confirmations,
      blockTimeSeconds,
      pollIntervalSeconds: o.pollIntervalSeconds,
      trials: o.trials,
      latenciesMs: latencies,
      p50Ms: percentile(latencies, 50),
      p95Ms: percentile(latencies, 95),
      maxMs: Math.max(...latencies),
      minMs: Math.min(...latencies),
      pollFinishedP95Ms: percentile(pollFinished, 95),
      measuredPollsPerMinute: (polls - 1) / minutes,
      liveRpcCallsPerBlock: live.rpcCalls / processed,
      liveHttpRequestsPerBlock: live.httpRequests / processed,
      pages: publisher.pages.length,
      ...(o.group && { polledChains: polled, processCpuMsPerSecond: Math.round(cpuMsPerSecond) }),
    };
  } finally {
    abort.abort();
    heads.close();
    await dynamo.close();
    await anvil.stop();
  }
}

/** The store, with the acknowledgement time of every state write that introduces a trip. */
function recordingTripWrites(inner: BreakerStore, writes: Map<string, TripWrite>): BreakerStore {
  return new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key !== 'saveState' || typeof value !== 'function') {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async (next: BreakerState, expectedVersion: number) => {
        await value.call(target, next, expectedVersion);
        const at = performance.now();
        for (const trip of Object.values(next.tripped)) {
          if (!writes.has(trip.tripId)) writes.set(trip.tripId, { at, outflowIds: trip.evidence.outflowIds });
        }
      };
    },
  });
}

async function waitFor<T>(
  probe: () => T | undefined,
  timeoutMs: number,
  failed: () => unknown,
  message: string,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    const failure = failed();
    if (failure) throw failure;
    if (performance.now() > deadline) throw new Error(message);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/**
 * The bench chain's config with the world's chains beside it: the single-transaction limit is the bench chain's
 * own (chain level), so only its breaching withdrawal trips; everything else stays as benchConfigSource made it.
 */
function withNeighbours(source: ReturnType<typeof benchConfigSource>, world: GroupWorld) {
  const worldLimits = world.configSource.limits as { chains: Record<string, unknown> };
  return {
    ...source,
    chains: { ...(world.configSource.chains as Record<string, unknown>), ...source.chains },
    limits: {
      ...source.limits,
      chains: {
        ...worldLimits.chains,
        [BENCH_CHAIN]: { ...source.limits.chains[BENCH_CHAIN], singleTxUsd: 1000 },
      },
    },
  };
}
