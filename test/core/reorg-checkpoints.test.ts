import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHECKPOINT_BUCKET,
  type Checkpoint,
  DENSE_CHECKPOINTS,
  HASH_TAG_PREFIX,
  hashTag,
  keepCheckpoints,
  sameBlockHash,
} from '../../functions/core/reorg-checkpoints.ts';

const hashOf = (n: number, fork = 'a') => `0x${fork.repeat(2)}${n.toString(16).padStart(62, '0')}`;
const block = (n: number, fork = 'a'): Checkpoint => ({ n, h: hashOf(n, fork), t: 1_700_000_000 + n * 12 });

/** Advance a cursor block by block (batches of `batch`) the way pollOnce does, from `from` to `to`. */
function advance(from: number, to: number, memory: number, batch = 1, present = (_n: number) => true): Checkpoint[] {
  let kept: Checkpoint[] = [];
  for (let n = from; n <= to; n += batch) {
    const fresh = [];
    for (let m = n; m < Math.min(n + batch, to + 1); m++) if (present(m)) fresh.push(block(m));
    if (fresh.length > 0) kept = keepCheckpoints([...kept, ...fresh], memory);
  }
  return kept;
}

/** The rewind pollOnce makes: the newest checkpoint whose hash the chain still reports. */
function ancestorAfterFork(kept: readonly Checkpoint[], forkFrom: number): Checkpoint | undefined {
  return kept.findLast((c) => sameBlockHash(c.h, hashOf(c.n, c.n >= forkFrom ? 'b' : 'a')));
}

describe('reorg checkpoints', () => {
  it('keeps the newest blocks one by one with the newest hash in full, older ones as tags', () => {
    const kept = advance(0, 200, 64);
    const newest = kept.at(-1)!;
    expect(newest).toEqual(block(200));
    const dense = kept.slice(-DENSE_CHECKPOINTS).map((c) => c.n);
    expect(dense).toEqual([193, 194, 195, 196, 197, 198, 199, 200]);
    for (const c of kept.slice(0, -1)) {
      expect(c.h.startsWith(HASH_TAG_PREFIX)).toBe(true);
      expect(sameBlockHash(c.h, hashOf(c.n))).toBe(true);
      expect(sameBlockHash(c.h, hashOf(c.n, 'b'))).toBe(false);
    }
    // Far fewer than the 64 blocks the reorg memory spans: that is what keeps the cursor in one write unit.
    expect(kept.length).toBeLessThanOrEqual(DENSE_CHECKPOINTS + 64 / CHECKPOINT_BUCKET + 1);
    expect(kept[0]!.n).toBeLessThanOrEqual(200 - 64 + 1);
  });

  it('a full hash compares by equality, a tag by the tag of the reported hash', () => {
    expect(sameBlockHash(hashOf(5), hashOf(5))).toBe(true);
    expect(sameBlockHash(hashOf(5), hashOf(5, 'b'))).toBe(false);
    expect(hashTag(hashTag(hashOf(5)))).toBe(hashTag(hashOf(5)));
    expect(hashTag(hashOf(5))).toMatch(/^~[0-9a-f]{16}$/);
  });

  it('every reorg within the memory finds a kept ancestor at most one bucket below the true one', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(64, 128),
        fc.integer({ min: 150, max: 600 }),
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 0, max: 3 }),
        (memory, head, depth, batch, skipEvery) => {
          // Some chains skip numbers (Solana slots): every `skipEvery`-th number has no block.
          const present = (n: number) => skipEvery < 2 || n % (skipEvery + 3) !== 1;
          const kept = advance(0, head, memory, batch, present);
          const forkFrom = head - depth + 1; // blocks forkFrom..head are replaced
          const ancestor = ancestorAfterFork(kept, forkFrom);
          let trueAncestor = forkFrom - 1;
          while (trueAncestor >= 0 && !present(trueAncestor)) trueAncestor--;
          if (head - trueAncestor < memory) {
            expect(ancestor).toBeDefined();
            expect(ancestor!.n).toBeLessThanOrEqual(trueAncestor);
            expect(trueAncestor - ancestor!.n).toBeLessThan(CHECKPOINT_BUCKET);
          }
          // Never a block of the orphaned branch.
          if (ancestor) expect(ancestor.n).toBeLessThan(forkFrom);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a cursor written before checkpoints (one full hash per block) is pruned on its next advance', () => {
    const legacy = Array.from({ length: 64 }, (_, i) => block(100 + i));
    const kept = keepCheckpoints([...legacy, block(164)], 64);
    expect(kept.length).toBeLessThan(20);
    expect(kept.at(-1)).toEqual(block(164));
    // The legacy full hashes still match the chain where they were kept.
    expect(ancestorAfterFork(legacy, 150)?.n).toBe(149);
  });
});
