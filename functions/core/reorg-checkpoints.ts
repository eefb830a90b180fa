/**
 * The block hashes a chain cursor keeps to find a reorg's common ancestor, kept small enough that the
 * cursor item fits one DynamoDB write unit (1 KB) on every poll that advances it.
 *
 * Not every block is kept: the newest DENSE_CHECKPOINTS blocks, then the oldest block of each
 * CHECKPOINT_BUCKET-block bucket, back to the chain kind's reorg memory. A reorg whose common ancestor
 * lies within that memory still finds a kept block at or below the ancestor (the oldest block of the
 * ancestor's bucket), so the rewind is at most CHECKPOINT_BUCKET − 1 blocks deeper than needed: those
 * blocks are read again and their outflows rewritten under the same keys, so totals stay exact.
 *
 * Only the newest checkpoint keeps its full hash: the next block's parentHash is compared with it. Older
 * ones keep a 64-bit tag of their hash (HASH_TAG_PREFIX + 16 hex digits), enough to tell a block from
 * its orphaned sibling: a chance match is 2⁻⁶⁴, and forcing one means grinding 2⁶⁴ block hashes.
 */

export interface Checkpoint {
  /** Block number (slot, ledger index). */
  n: number;
  /** Full block hash (newest checkpoint, or a cursor written before tags), or its tag. */
  h: string;
  /** Window time of the block. */
  t: number;
}

/** The newest blocks kept one by one: a shallow reorg rewinds exactly to its ancestor. */
export const DENSE_CHECKPOINTS = 8;
/** Older blocks are kept one per bucket of this many block numbers. */
export const CHECKPOINT_BUCKET = 8;
/** Marks a tag: a full hash never starts with it (hex with 0x, bare hex, base58). */
export const HASH_TAG_PREFIX = '~';

/**
 * The checkpoints to keep after `blocks` (ascending, newest last; full hashes for the new ones).
 * `memoryBlocks` is the chain kind's reorg memory: a reorg whose ancestor is at most that many blocks
 * below the newest is found; a deeper one rewinds past everything kept and pages.
 */
export function keepCheckpoints(blocks: readonly Checkpoint[], memoryBlocks: number): Checkpoint[] {
  const newest = blocks.at(-1);
  if (!newest) return [];
  const oldestKeptBucket = Math.floor((newest.n - memoryBlocks + 1) / CHECKPOINT_BUCKET);
  const denseFrom = blocks.length - DENSE_CHECKPOINTS;
  const kept: Checkpoint[] = [];
  let lastBucket: number | undefined;
  blocks.forEach((b, i) => {
    const bucket = Math.floor(b.n / CHECKPOINT_BUCKET);
    const firstOfBucket = bucket !== lastBucket;
    lastBucket = bucket;
    if (i >= denseFrom || (firstOfBucket && bucket >= oldestKeptBucket)) {
      kept.push(i === blocks.length - 1 ? b : { ...b, h: hashTag(b.h) });
    }
  });
  return kept;
}

/** Is the kept hash `stored` (full or tag) the hash `actual` the chain reports now? */
export function sameBlockHash(stored: string, actual: string): boolean {
  return stored.startsWith(HASH_TAG_PREFIX) ? stored === hashTag(actual) : stored === actual;
}

/** 64-bit FNV-1a of the hash text: every character counts, whatever the chain's hash format. */
export function hashTag(hash: string): string {
  if (hash.startsWith(HASH_TAG_PREFIX)) return hash;
  let h = FNV_OFFSET;
  for (let i = 0; i < hash.length; i++) {
    h = ((h ^ BigInt(hash.charCodeAt(i))) * FNV_PRIME) & MASK_64;
  }
  return `${HASH_TAG_PREFIX}${h.toString(16).padStart(16, '0')}`;
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = (1n << 64n) - 1n;
