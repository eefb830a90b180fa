/**
 * Property: a trip is never lost to a CONCURRENT reset. The example-based races (reset-race.test.ts)
 * pin two interleavings; here fast-check's scheduler interleaves every store call of a poller and of
 * an operator resetting again and again, over random drains. Whatever the order, once the poller
 * has caught up: every outflow is recorded once, nothing is marked reviewed that was not evaluated,
 * and any breach among the outflows the operators did not review is halted.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryBreakerStore } from '../../../functions/adapters/memory/memory-breaker-store.ts';
import { haltedFor } from '../../../functions/core/breaker.ts';
import type { ChainReader } from '../../../functions/core/chain-kind.ts';
import { isBreakerError } from '../../../functions/core/errors.ts';
import { evaluateRules } from '../../../functions/core/evaluate.ts';
import type { BlockRef, ChainTransfer, RangeRead } from '../../../functions/core/model.ts';
import type { BreakerStore } from '../../../functions/core/ports.ts';
import type { Page } from '../../../functions/core/state.ts';
import { pollOnce } from '../../../functions/core/use-cases/poll-chain.ts';
import { resetBreakerUseCase } from '../../../functions/core/use-cases/reset-breaker.ts';
import { ADDR, compile, spanOf } from '../../support/fixtures.ts';
import { initialiseForTest } from '../../support/initialise.ts';

const BASE_T = 1_700_000_000;
const config = compile({ chains: { ethereum: { usd: { '10m': 500_000 }, halt: 'chain' } } });
const ethereum = config.chains.get('ethereum')!;
const hash = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
const ref = (n: number): BlockRef => ({ number: n, hash: hash(n), parentHash: hash(n - 1), time: BASE_T + n * 12 });

class ScriptedChain {
  tip = 0;
  constructor(private readonly sends: Map<number, ChainTransfer[]>) {}
  async readRange(from: number, to: number): Promise<RangeRead> {
    const blocks: BlockRef[] = [];
    for (let n = from; n <= to; n++) blocks.push(ref(n));
    return { blocks, transfers: blocks.flatMap((b) => this.sends.get(b.number) ?? []) };
  }
  async blockRefs(numbers: number[]) {
    return numbers.map(ref);
  }
  async headNumber() {
    return this.tip;
  }
}

/** Every store call waits for the scheduler to let it through: that is where the interleavings happen. */
function scheduled(store: BreakerStore, s: fc.Scheduler): BreakerStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => s.schedule(Promise.resolve(), String(prop)).then(() => value.apply(target, args));
    },
  });
}

const sendsArb = fc.array(
  fc.record({ block: fc.integer({ min: 3, max: 30 }), eth: fc.integer({ min: 20, max: 450 }) }),
  {
    minLength: 1,
    maxLength: 12,
  },
);
const headsArb = fc
  .array(fc.integer({ min: 3, max: 32 }), { minLength: 1, maxLength: 5 })
  .map((h) => [...h].sort((a, b) => a - b));

describe('a trip is never lost to a concurrent reset', () => {
  it('any interleaving of a poller and repeated resets, over random drains', async () => {
    const stats = { trips: 0, resets: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        sendsArb,
        headsArb,
        fc.integer({ min: 1, max: 3 }),
        async (s, sends, heads, resets) => {
          const byBlock = new Map<number, ChainTransfer[]>();
          sends.forEach(({ block, eth }, i) => {
            const list = byBlock.get(block) ?? [];
            list.push({
              chain: 'ethereum',
              block,
              blockHash: hash(block),
              blockTime: BASE_T + block * 12,
              txHash: `0x${(i + 1).toString(16).padStart(64, '0')}`,
              index: null,
              contract: null,
              from: ADDR.ethHot,
              to: ADDR.stranger,
              amount: BigInt(eth) * 10n ** 18n,
            });
            byBlock.set(block, list);
          });
          const memory = new MemoryBreakerStore();
          await initialiseForTest(memory);
          const store = scheduled(memory, s);
          const chain = new ScriptedChain(byBlock);
          const reader: ChainReader = {
            chain: 'ethereum',
            head: () => chain.headNumber(),
            readRange: (f, t) => chain.readRange(f, t),
            blockRefs: (n) => chain.blockRefs(n),
          };
          const pages: Page[] = [];
          const publisher = { publish: async (p: Page) => void pages.push(p) };
          let nowMs = BASE_T * 1000;
          const clock = { now: () => nowMs };
          const deps = {
            config,
            chain: { ...ethereum, startBlock: 1 },
            reader,
            store,
            publisher,
            clock,
            owner: 'poller',
          };

          const catchUp = async () => {
            for (let i = 0; i < 20; i++) {
              const { result } = await pollOnce(deps);
              if (result.kind === 'idle') return;
            }
            throw new Error('did not catch up');
          };
          let pollerDone = false;
          const poller = (async () => {
            for (const h of heads) {
              chain.tip = h;
              nowMs += 12_000;
              await catchUp();
            }
            pollerDone = true;
          })();
          // On-call keeps resetting whatever trips, for as long as the poller runs.
          const operator = (async () => {
            let done = 0;
            for (let attempt = 0; attempt < 40 && !pollerDone && done < resets; attempt++) {
              try {
                await resetBreakerUseCase(
                  { config, store, publisher, clock },
                  { reason: `reviewed round ${attempt} with treasury`, actor: 'oncall' },
                );
                done++;
                stats.resets++;
              } catch (e) {
                if (!isBreakerError(e, 'RESET_REJECTED') && !isBreakerError(e, 'STATE_CONFLICT')) throw e;
                await s.schedule(Promise.resolve(), 'on-call waits');
              }
            }
          })();
          await s.waitFor(Promise.all([poller, operator]));
          chain.tip = 34;
          nowMs += 12_000;
          await s.waitFor(catchUp());

          const state = await memory.getState();
          const ledger = await memory.outflowsSince('ethereum', 0);
          expect(ledger.map((r) => r.txHash).sort()).toEqual(
            [...byBlock.values()]
              .flat()
              .map((t) => t.txHash)
              .sort(),
          );
          const reviewed = state.reviewedThrough.ethereum ?? -1;
          expect(reviewed).toBeLessThanOrEqual((await memory.getProgress('ethereum'))?.through ?? -1);
          const unreviewed = ledger.filter((r) => r.block > reviewed);
          const breaks = evaluateRules(config.rules, unreviewed, spanOf(unreviewed)).some((b) => b.level === 'trip');
          const order = s
            .report()
            .map((r) => r.label)
            .join(' → ');
          if (breaks) expect(haltedFor(state, 'ethereum'), order).toBeDefined();
          stats.trips += pages.filter((p) => p.kind === 'trip').length;
        },
      ),
      { numRuns: 150 },
    );
    // The runs did race trips against resets.
    expect(stats.trips).toBeGreaterThan(50);
    expect(stats.resets).toBeGreaterThan(50);
  });
});
