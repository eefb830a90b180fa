import { ChainReadError } from './errors.ts';
import type { BlockRef } from './model.ts';

/**
 * Is a read of blocks [from, to] usable? Block numbers may be sparse (Solana skips slots that produced
 * no block), so the count proves nothing; what must hold is that every block lies in the range, in
 * ascending order, each the parent of the next. A block a reader leaves out is then caught either here
 * (the next block's parent is not the block before it) or by the next poll, whose first block's parent
 * must be the last block this read kept (the poller's reorg check): a read can skip a block only if the
 * chain never had it. Throws ChainReadError naming what is wrong.
 */
export function checkRangeRead(chain: string, from: number, to: number, blocks: readonly BlockRef[]): void {
  let previous: BlockRef | undefined;
  for (const b of blocks) {
    if (!Number.isSafeInteger(b.number) || b.number < from || b.number > to) {
      throw new ChainReadError(`${chain}: asked for blocks ${from}–${to}, got block ${b.number}`);
    }
    if (previous && b.number <= previous.number) {
      throw new ChainReadError(`${chain}: blocks out of order in ${from}–${to}: ${b.number} after ${previous.number}`);
    }
    if (previous && b.parentHash !== previous.hash) {
      throw new ChainReadError(
        `${chain}: block ${b.number}'s parent is not block ${previous.number} (a block between them is missing, or the endpoint's view changed mid-read)`,
      );
    }
    previous = b;
  }
}
