import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import { MemoryBreakerStore } from '../../../functions/adapters/memory/memory-breaker-store.ts';
import { blindPolicy } from '../../../functions/core/blindness.ts';
import type { ChainCursor, Page } from '../../../functions/core/state.ts';
import { IDLE_SAVE_INTERVAL_MS, idleSaveIntervalMs } from '../../../functions/core/use-cases/cursor-lease.ts';
import { type PollDeps, pollOnce } from '../../../functions/core/use-cases/poll-chain.ts';
import { runPoller } from '../../../functions/core/use-cases/run-poller.ts';
import { BlindnessWatch } from '../../../functions/core/use-cases/watch-blindness.ts';
import { ClockedChain } from '../../support/clocked-chain.ts';
import { configInput } from '../../support/fixtures.ts';
import { initialiseForTest } from '../../support/initialise.ts';

const START_MS = 1_800_000_000_000;
const BLOCK_MS = 2_000;

/** Counts cursor writes: the thing this change saves. */
class CountingStore extends MemoryBreakerStore {
  cursorWrites = 0;
  override async saveCursor(next: ChainCursor, expected: number | undefined): Promise<void> {
    this.cursorWrites++;
    return super.saveCursor(next, expected);
  }
}

async function world(blindAfterSeconds?: number) {
  const input = configInput();
  Object.assign(input.chains.ethereum as object, { blindAfterSeconds, blockTimeSeconds: BLOCK_MS / 1000 });
  const config = compileConfig(input, 'test');
  const chain = { ...config.chains.get('ethereum')!, startBlock: 0, confirmations: 0, maxBlocksPerPoll: 100 };
  const store = new CountingStore();
  await initialiseForTest(store);
  const pages: Page[] = [];
  let now = START_MS;
  const clock = { now: () => now };
  const reader = new ClockedChain(clock.now, START_MS, BLOCK_MS);
  const deps: PollDeps = {
    config,
    chain,
    reader,
    store,
    publisher: { publish: async (p: Page) => void pages.push(p) },
    clock,
    owner: 'poller-a',
  };
  return { deps, store, pages, reader, chain, advance: (ms: number) => (now += ms), now: () => now };
}

describe('idle polls save the cursor every few seconds, not every poll', () => {
  it.each([
    { blindAfterSeconds: undefined, label: 'the default blindness limit (120 s)' },
    { blindAfterSeconds: 20, label: 'a blindness limit of 20 s' },
  ])(
    'with $label, the stored cursor trails by at most the save interval, and a second poller never sees blindness',
    async ({ blindAfterSeconds }) => {
      const { deps, store, pages, chain, advance, now } = await world(blindAfterSeconds);
      const interval = idleSaveIntervalMs(chain);
      const limitMs = blindPolicy(chain).afterSeconds * 1000;
      expect(interval).toBeLessThanOrEqual(Math.min(IDLE_SAVE_INTERVAL_MS, limitMs / 4));
      // A second invocation that finds the lease taken (or cannot read the chain) judges blindness from the
      // stored cursor: the save lag must not look like a stalled chain.
      const other = new BlindnessWatch({ ...deps, clock: { now } });
      let cursor: ChainCursor | undefined;
      const polls = 150;
      for (let i = 0; i < polls; i++) {
        advance(BLOCK_MS);
        const outcome = await pollOnce(deps, cursor);
        expect(outcome.result.kind).toBe('idle');
        cursor = outcome.cursor;
        const stored = (await store.getCursor('ethereum'))!;
        expect(now() - stored.updatedAtMs).toBeLessThanOrEqual(interval + BLOCK_MS);
        expect(await other.observe({ result: { kind: 'busy', reason: 'lease held by poller-a' } })).toBeUndefined();
      }
      expect(pages.filter((p) => p.kind === 'blind')).toEqual([]);
      // One write to create the cursor, then one per interval instead of one per poll.
      expect(store.cursorWrites).toBeLessThanOrEqual(1 + Math.ceil((polls * BLOCK_MS) / interval));
      expect(store.cursorWrites).toBeLessThan(polls / 2);
    },
  );

  it('the end of a run writes where it got to, so the next run does not re-read those blocks', async () => {
    const { deps, store, advance, now } = await world();
    let reached = -1;
    const summary = await runPoller(deps, {
      deadlineMs: now() + 50_000,
      // Twice a block: every other poll finds no new block and must not forget the unsaved progress.
      intervalMs: BLOCK_MS / 2,
      sleep: async (ms) => void advance(ms),
      onResult: (r) => {
        if (r.kind === 'idle') reached = r.lastBlock;
      },
    });
    expect(summary.failures).toBe(0);
    expect(reached).toBeGreaterThan(20);
    expect((await store.getCursor('ethereum'))!.lastBlock).toBe(reached);
    expect(store.cursorWrites).toBeLessThanOrEqual(1 + Math.ceil(50_000 / idleSaveIntervalMs(deps.chain)) + 1);
  });

  it('a poller that dies with unsaved progress loses nothing and counts nothing twice: the next one re-reads', async () => {
    const { deps, store, reader, advance } = await world();
    let cursor: ChainCursor | undefined;
    // Poller A moves through 10 empty blocks in memory (saved once, at creation), then records the outflow of block 12.
    for (let i = 0; i < 10; i++) {
      advance(BLOCK_MS);
      cursor = (await pollOnce(deps, cursor)).cursor;
    }
    expect((await store.getCursor('ethereum'))!.lastBlock).toBeLessThan(cursor!.lastBlock);
    reader.payments.add(12);
    reader.payments.add(14);
    advance(2 * BLOCK_MS);
    const a = await pollOnce(deps, cursor);
    expect(a.result).toMatchObject({ kind: 'advanced', outflows: [expect.objectContaining({ block: 12 })] });
    // A unsaved again past block 13, then dies. B starts from the stored cursor and re-reads 13 on.
    advance(BLOCK_MS);
    await pollOnce(deps, a.cursor);
    advance(2 * BLOCK_MS);
    const b = await pollOnce({ ...deps, owner: 'poller-b' });
    expect(b.result.kind).toBe('advanced');
    const recorded = await store.outflowsSince('ethereum', 0);
    expect(recorded.map((r) => r.block).sort((x, y) => x - y)).toEqual([12, 14]);
  });
});
