import type { ChainReader } from '../../functions/core/chain-kind.ts';
import type { BlockRef, ChainTransfer, RangeRead } from '../../functions/core/model.ts';
import { ADDR } from './fixtures.ts';

/**
 * A scripted Ethereum that makes a block every `blockMs` of a test clock from `startMs` on; the blocks in
 * `payments` hold one 1-ETH outflow from the hot wallet to a stranger.
 */
export class ClockedChain implements ChainReader {
  readonly chain = 'ethereum';
  readonly payments = new Set<number>();
  constructor(
    private readonly now: () => number,
    private readonly startMs: number,
    private readonly blockMs: number,
  ) {}
  private ref(n: number): BlockRef {
    const hash = (m: number) => `0x${m.toString(16).padStart(64, '0')}`;
    return { number: n, hash: hash(n), parentHash: hash(n - 1), time: (this.startMs + n * this.blockMs) / 1000 };
  }
  async head() {
    return Math.floor((this.now() - this.startMs) / this.blockMs);
  }
  async readRange(from: number, to: number): Promise<RangeRead> {
    const blocks: BlockRef[] = [];
    const transfers: ChainTransfer[] = [];
    for (let n = from; n <= to; n++) {
      const b = this.ref(n);
      blocks.push(b);
      if (this.payments.has(n)) {
        transfers.push({
          chain: this.chain,
          block: n,
          blockHash: b.hash,
          blockTime: b.time,
          txHash: `0x${n.toString(16).padStart(64, 'e')}`,
          index: null,
          contract: null,
          from: ADDR.ethHot,
          to: ADDR.stranger,
          amount: 10n ** 18n,
        });
      }
    }
    return { blocks, transfers };
  }
  async blockRefs(numbers: number[]) {
    return numbers.map((n) => this.ref(n));
  }
}
