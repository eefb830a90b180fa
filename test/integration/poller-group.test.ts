/**
 * A poller group whose one chain stalls (docs/cost.md "Schedule", reason 2): two anvil chains and dynalite, both
 * chains in one `runPollers` run as the Lambda handler runs them, one chain's RPC behind a proxy that stops
 * answering mid-run. The other chain's drain must still trip within its normal latency, and the stalled chain must
 * be reported failed and paged blind — without the run waiting on the read that never answers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseEther, Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { EvmChainReader } from '../../functions/adapters/evm/evm-chain-reader.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import type { PollDeps } from '../../functions/core/use-cases/poll-chain.ts';
import { ABANDONED_CHECK_MS, runPollers } from '../../functions/core/use-cases/run-pollers.ts';
import { type Anvil, startAnvil } from '../support/anvil.ts';
import { deferred } from '../support/deferred.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';
import { type FaultProxy, rpcFaults, startFaultProxy } from '../support/fault-proxy.ts';
import { initialiseForTest } from '../support/initialise.ts';
import { RecordingPublisher } from './harness.ts';

const timer = (ms: number, signal: AbortSignal) => sleep(ms, undefined, { signal });
/** The stalled chain's blind limit: short, so the run that gives up on it finds it blind. */
const BLIND_AFTER_SECONDS = 4;

describe('a poller group with one stalled chain', () => {
  let stalledNode: Anvil;
  let liveNode: Anvil;
  let proxy: FaultProxy;
  let db: TestStore;
  let config: BreakerConfig;

  beforeAll(async () => {
    stalledNode = await startAnvil();
    liveNode = await startAnvil({ chainId: 31_338 });
    proxy = await startFaultProxy(stalledNode.url);
    db = await startTestStore();
    await initialiseForTest(db.store);
    const hot = liveNode.accounts[1]!.address;
    const evm = (chainId: number, rpc: string, startBlock: number) => ({
      kind: 'evm' as const,
      chainId,
      rpc: [rpc],
      confirmations: 0,
      blockTimeSeconds: 1,
      pollIntervalSeconds: 0.25,
      startBlock,
      hotWallets: [hot],
      native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
    });
    config = compileConfig(
      {
        name: 'group-test',
        chains: {
          // A read outlasts the whole run: only the group's deadline ends the wait, not the RPC timeout.
          stalled: {
            ...evm(31_337, proxy.url, (await stalledNode.provider.getBlockNumber()) + 1),
            rpcTimeoutMs: 60_000,
            blindAfterSeconds: BLIND_AFTER_SECONDS,
          },
          live: evm(31_338, liveNode.url, (await liveNode.provider.getBlockNumber()) + 1),
        },
        // 1.25 ETH ($2,500) warns at 80 % of $3,000; another 1 ETH trips.
        limits: { warnRatio: 0.8, global: { usd: { '10m': 3000 } } },
        pollerGroups: { all: ['stalled', 'live'] },
      },
      'group-test',
    );
  });

  afterAll(async () => {
    await proxy?.stop();
    await db?.close();
    await stalledNode?.stop();
    await liveNode?.stop();
  });

  it("the live chain's drain trips within its normal latency; the stalled chain is given up on at the deadline plus the grace, reported failed and paged blind", async () => {
    const publisher = new RecordingPublisher();
    const readers = new Map([...config.chains.keys()].map((id) => [id, new EvmChainReader(config.chains.get(id)!)]));
    const deps = (owner: string): PollDeps[] =>
      config.pollerGroups[0]!.chains.map((id) => ({
        config,
        chain: config.chains.get(id)!,
        reader: readers.get(id)!,
        store: db.store,
        publisher,
        clock: { now: () => Date.now() },
        owner,
      }));
    const hot = liveNode.accounts[1]!;
    /** Send from the live hot wallet (mined at once) and time until the run reports the transition it causes. */
    const drain = (eth: string, seen: Promise<number>) => async () => {
      const sentAt = Date.now();
      await (await hot.sendTransaction({ to: Wallet.createRandom().address, value: parseEther(eth) })).wait();
      return (await seen) - sentAt;
    };

    // Both chains healthy: the latency of the live chain's warning is the group's normal detection latency.
    await stalledNode.mine(1);
    const warnedAt = deferred<number>();
    const healthy = runPollers(deps('invocation-1'), {
      deadlineMs: Date.now() + 2_000,
      graceMs: 1_000,
      sleep: (ms) => sleep(ms),
      timer,
      onResult: (chain, r) => {
        if (chain === 'live' && r.kind === 'advanced' && r.warnings.length > 0) warnedAt.resolve(Date.now());
      },
    });
    await sleep(500);
    const normalMs = await drain('1.25', warnedAt.promise)();
    const first = await healthy;
    expect(first.map((r) => [r.chain, r.error])).toEqual([
      ['stalled', undefined],
      ['live', undefined],
    ]);
    expect(publisher.ofKind('warn')).toHaveLength(1);

    // The stalled chain's endpoint now accepts every request and never answers.
    proxy.set(rpcFaults.timeout());
    const trippedAt = deferred<number>();
    const graceMs = 1_000;
    const deadlineMs = Date.now() + 3_000;
    const started = Date.now();
    const stalledRun = runPollers(deps('invocation-2'), {
      deadlineMs,
      graceMs,
      sleep: (ms) => sleep(ms),
      timer,
      onResult: (chain, r) => {
        if (chain === 'live' && r.kind === 'advanced' && r.trips.length > 0) trippedAt.resolve(Date.now());
      },
    });
    await sleep(500);
    const tripMs = await drain('1', trippedAt.promise)();
    const runs = await stalledRun;
    const tookMs = Date.now() - started;

    // Within the normal latency (plus a second for a loaded machine), and before the run ended.
    expect(tripMs).toBeLessThan(normalMs + 1_000);
    expect((await db.store.getState()).tripped.global?.ruleId).toBe('global-usd-10m');
    expect(publisher.ofKind('trip')).toHaveLength(1);
    expect((await db.store.outflowsSince('live', 0)).map((r) => r.amount)).toEqual([
      parseEther('1.25'),
      parseEther('1'),
    ]);

    // Given up on at the deadline plus the grace: the run did not wait on the read.
    expect(tookMs).toBeGreaterThanOrEqual(deadlineMs - started + graceMs - 50);
    expect(tookMs).toBeLessThan(deadlineMs - started + graceMs + ABANDONED_CHECK_MS);
    const [stalled, live] = runs;
    expect(live!.error).toBeUndefined();
    expect(String(stalled!.error)).toMatch(/stalled: a poll was still running 1 s after the deadline/);
    // Its last block is older than the blind limit by then: paged once, naming the chain.
    expect(publisher.ofKind('blind').map((p) => p.details.chain)).toEqual(['stalled']);
    expect((await db.store.getState()).blind?.stalled).toBeDefined();
    expect(proxy.stats.injected).toBeGreaterThan(0);
  }, 60_000);
});
