import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { MemoryBreakerStore } from '../../../functions/adapters/memory/memory-breaker-store.ts';
import type { ChainReader } from '../../../functions/core/chain-kind.ts';
import type { BreakerConfig } from '../../../functions/core/config/types.ts';
import { ChainReadError, isBreakerError } from '../../../functions/core/errors.ts';
import type { RangeRead } from '../../../functions/core/model.ts';
import type { Page } from '../../../functions/core/state.ts';
import type { Clock } from '../../../functions/core/time.ts';
import type { PollDeps, PollResult } from '../../../functions/core/use-cases/poll-chain.ts';
import { runPoller } from '../../../functions/core/use-cases/run-poller.ts';
import { ABANDONED_CHECK_MS, runPollers } from '../../../functions/core/use-cases/run-pollers.ts';
import { deferred } from '../../support/deferred.ts';
import { ADDR, compile } from '../../support/fixtures.ts';
import { initialiseForTest } from '../../support/initialise.ts';
import { SCRIPTED_BASE_T, ScriptedChain } from '../../support/scripted-chain.ts';

const ETH = 10n ** 18n;
/** A real wall-clock timer, as the handler passes: only a poll that does not answer makes it fire. */
const timer = (ms: number, signal: AbortSignal) => sleep(ms, undefined, { signal });

/** A reader whose calls never answer until `release()`: an RPC endpoint that accepted the request and went silent. */
class HangingReader implements ChainReader {
  private readonly gate = deferred<void>();
  calls = 0;
  constructor(
    readonly chain: string,
    private readonly inner: ChainReader,
    /** Which call hangs: the head, or the block range after it. */
    private readonly at: 'head' | 'readRange',
  ) {}
  release(): void {
    this.gate.resolve();
  }
  async head(): Promise<number> {
    this.calls++;
    if (this.at === 'head') await this.gate.promise;
    return this.inner.head();
  }
  async readRange(from: number, to: number): Promise<RangeRead> {
    this.calls++;
    if (this.at === 'readRange') await this.gate.promise;
    return this.inner.readRange(from, to);
  }
  async blockRefs(numbers: number[]) {
    return this.inner.blockRefs(numbers);
  }
}

/** A chain of the fixture config (ETH $1,000, BNB $500), read from `startBlock` with no confirmations. */
function chainOf(config: BreakerConfig, id: 'ethereum' | 'bsc', startBlock: number) {
  return { ...config.chains.get(id)!, startBlock, confirmations: 0 };
}

function recordingPublisher() {
  const pages: Page[] = [];
  return { pages, publish: async (p: Page) => void pages.push(p) };
}

describe('runPollers: several chains in one run, each in its own loop', () => {
  it("one chain failing every poll stops nothing else: the other chain records and trips, and the result names both chains' outcomes", async () => {
    // $1,500 per 10 minutes; two 2-BNB withdrawals on bsc ($1,000 each) trip it.
    const config = compile({ global: { usd: { '10m': 1500 } } });
    const store = new MemoryBreakerStore();
    await initialiseForTest(store);
    const publisher = recordingPublisher();
    let now = (SCRIPTED_BASE_T + 20 * 12) * 1000;
    const clock = { now: () => now };
    const down: ChainReader = {
      chain: 'ethereum',
      head: async () => Promise.reject(new ChainReadError('ethereum: every endpoint refused the connection')),
      readRange: async () => Promise.reject(new ChainReadError('unreachable')),
      blockRefs: async () => Promise.reject(new ChainReadError('unreachable')),
    };
    const bscChain = new ScriptedChain('bsc', 20, {
      from: ADDR.bscHot,
      to: ADDR.stranger,
      amount: 2n * ETH,
      outflows: { 12: 1, 15: 1 },
    });
    const common = { config, store, publisher, clock, owner: 'group-run-1' };
    const runs = await runPollers(
      [
        { ...common, chain: chainOf(config, 'ethereum', 10), reader: down },
        { ...common, chain: chainOf(config, 'bsc', 10), reader: bscChain },
      ],
      {
        deadlineMs: now + 30_000,
        graceMs: 1_000,
        sleep: async (ms) => {
          now += ms;
        },
        timer,
      },
    );

    expect(runs.map((r) => r.chain)).toEqual(['ethereum', 'bsc']);
    const [eth, bsc] = runs;
    expect(isBreakerError(eth!.error, 'CHAIN_READ')).toBe(true);
    expect(eth!.polls).toBe(0);
    expect(eth!.failures).toBeGreaterThan(1); // it kept trying all run long
    expect(bsc!.error).toBeUndefined();
    expect(bsc!.outflows).toBe(2);
    expect((await store.outflowsSince('bsc', 0)).map((r) => r.block)).toEqual([12, 15]);
    expect((await store.getState()).tripped.global?.ruleId).toBe('global-usd-10m');
    expect(publisher.pages.filter((p) => p.kind === 'trip')).toHaveLength(1);
  });

  it("a hung read does not hold the others: the run ends at the deadline plus the grace, the hung chain is reported failed and its blindness is paged, while the other chain's drain trips", async () => {
    const config = compile({ global: { usd: { '10m': 1500 } } });
    const store = new MemoryBreakerStore();
    await initialiseForTest(store);
    const publisher = recordingPublisher();
    // Wall time, shifted so "now" is bsc block 70: ethereum was last processed at block 20, ten minutes before.
    const offsetMs = Date.now() - (SCRIPTED_BASE_T + 70 * 12) * 1000;
    const clock: Clock = { now: () => Date.now() - offsetMs };
    const ethChain = new ScriptedChain('ethereum', 20, {
      from: ADDR.ethHot,
      to: ADDR.stranger,
      amount: ETH,
      outflows: {},
    });
    const common = { config, store, publisher, clock };
    // Ten minutes earlier, a run processed ethereum through block 20 (then the head) and saved its cursor at its end.
    let then = (SCRIPTED_BASE_T + 20 * 12) * 1000;
    await runPoller(
      {
        ...common,
        clock: { now: () => then },
        owner: 'earlier-run',
        chain: chainOf(config, 'ethereum', 10),
        reader: ethChain,
      },
      {
        deadlineMs: then + 1_000,
        sleep: async (ms) => {
          then += ms;
        },
      },
    );
    expect(publisher.pages).toEqual([]);
    expect((await store.getCursor('ethereum'))?.lastBlock).toBe(20);

    const hung = new HangingReader('ethereum', ethChain, 'head');
    const bscChain = new ScriptedChain('bsc', 70, {
      from: ADDR.bscHot,
      to: ADDR.stranger,
      amount: 2n * ETH,
      outflows: { 66: 1, 69: 1 },
    });
    const graceMs = 300;
    const started = Date.now();
    const deadlineMs = clock.now() + 400;
    const blindness: string[] = [];
    const runs = await runPollers(
      [
        { ...common, owner: 'group-run-2', chain: chainOf(config, 'ethereum', 10), reader: hung },
        { ...common, owner: 'group-run-2', chain: chainOf(config, 'bsc', 60), reader: bscChain },
      ],
      {
        deadlineMs,
        graceMs,
        sleep: (ms) => sleep(ms),
        timer,
        onBlindness: (chain, event) => blindness.push(`${chain} ${event}`),
      },
    );
    const tookMs = Date.now() - started;
    try {
      expect(tookMs).toBeGreaterThanOrEqual(400 + graceMs - 50);
      expect(tookMs).toBeLessThan(400 + graceMs + ABANDONED_CHECK_MS);
      const [eth, bsc] = runs;
      expect(String(eth!.error)).toMatch(/ethereum: a poll was still running 0.3 s after the deadline/);
      expect(eth!.polls).toBe(0);
      expect(bsc!.error).toBeUndefined();
      expect(bsc!.outflows).toBe(2);
      const state = await store.getState();
      expect(state.tripped.global?.ruleId).toBe('global-usd-10m');
      // Blind for ten minutes (limit: 120 s on a 12 s chain): paged once, by the run that gave up on it.
      expect(blindness).toEqual(['ethereum blind']);
      expect(state.blind?.ethereum).toBeDefined();
      expect(publisher.pages.filter((p) => p.kind === 'blind').map((p) => p.details.chain)).toEqual(['ethereum']);
    } finally {
      hung.release();
    }
  });

  it('an abandoned loop that resumes in a later run writes nothing: the cursor lease fences it', async () => {
    const config = compile({ global: { usd: { '10m': 1_000_000 } } });
    const store = new MemoryBreakerStore();
    await initialiseForTest(store);
    const publisher = recordingPublisher();
    let now = (SCRIPTED_BASE_T + 30 * 12) * 1000;
    const clock = { now: () => now };
    const fakeSleep = async (ms: number) => {
      now += ms;
    };
    const script = { from: ADDR.ethHot, to: ADDR.stranger, amount: ETH, outflows: { 12: 1, 25: 2 } };
    const chain = chainOf(config, 'ethereum', 10);
    const deps = (owner: string, reader: ChainReader): PollDeps => ({
      config,
      store,
      publisher,
      clock,
      owner,
      chain,
      reader,
    });

    // Run 1 reads the head, then its block-range read goes silent: it is given up on with the range unread.
    const frozen = new HangingReader('ethereum', new ScriptedChain('ethereum', 30, script), 'readRange');
    const resumed = deferred<PollResult>();
    const first = await runPollers([deps('invocation-1', frozen)], {
      deadlineMs: now + 100,
      graceMs: 100,
      sleep: fakeSleep,
      timer,
      onResult: (_chain, r) => resumed.resolve(r),
      onError: (_chain, e) => resumed.reject(e),
    });
    expect(String(first[0]!.error)).toMatch(/still running/);
    const before = await store.getCursor('ethereum');

    // Run 2, another invocation (another lease owner), polls the same blocks and commits them.
    const second = await runPollers([deps('invocation-2', new ScriptedChain('ethereum', 30, script))], {
      deadlineMs: now + 60_000,
      graceMs: 100,
      sleep: fakeSleep,
      timer,
    });
    expect(second[0]!.error).toBeUndefined();
    expect(second[0]!.outflows).toBe(3);
    const committed = await store.getCursor('ethereum');
    expect(committed!.version).toBeGreaterThan(before!.version);

    // Run 1's read answers at last (the frozen process thawed): its lease write is conditional on the cursor it
    // read, which run 2 moved, so it backs off before writing a record.
    frozen.release();
    const late = await resumed.promise;
    expect(late).toEqual({ kind: 'busy', reason: 'cursor moved by another poller' });
    await sleep(50); // let the resumed loop finish (it is past its deadline: it starts no other poll)
    expect(await store.getCursor('ethereum')).toEqual(committed);
    expect((await store.outflowsSince('ethereum', 0)).map((r) => r.block)).toEqual([12, 25, 25]);
  });

  it('with no deadline (the local runtime) every loop runs until stopped, and none is given up on', async () => {
    const config = compile();
    const store = new MemoryBreakerStore();
    await initialiseForTest(store);
    const stop = new AbortController();
    let polls = 0;
    const chain = new ScriptedChain('bsc', 20, { from: ADDR.bscHot, to: ADDR.stranger, amount: ETH, outflows: {} });
    const runs = await runPollers(
      [
        {
          config,
          store,
          publisher: recordingPublisher(),
          clock: { now: () => Date.now() },
          owner: 'local',
          chain: chainOf(config, 'bsc', 10),
          reader: chain,
        },
      ],
      {
        deadlineMs: Number.POSITIVE_INFINITY,
        graceMs: 100,
        sleep: (ms) => sleep(Math.min(ms, 20)),
        timer,
        signal: stop.signal,
        onResult: () => {
          if (++polls === 5) stop.abort();
        },
      },
    );
    expect(polls).toBe(5);
    expect(runs[0]!.error).toBeUndefined();
  });
});
