import { describe, expect, it } from 'vitest';
import { evmChainKind } from '../../../functions/adapters/evm/evm-chain-kind.ts';
import { MemoryBreakerStore } from '../../../functions/adapters/memory/memory-breaker-store.ts';
import type { ChainReader } from '../../../functions/core/chain-kind.ts';
import type { BlockRef, RangeRead } from '../../../functions/core/model.ts';
import type { Page } from '../../../functions/core/state.ts';
import { pollOnce } from '../../../functions/core/use-cases/poll-chain.ts';
import { compile } from '../../support/fixtures.ts';
import { initialiseForTest } from '../../support/initialise.ts';

const BASE_T = 1_700_000_000;
/** The reorg memory of the (EVM) test chain's kind. */
const RECENT_BLOCKS = evmChainKind.finality.reorgMemoryBlocks;

/** A scripted chain whose blocks from `forkFrom` on change hash when `fork` changes (not a node: the depth is the point). */
class ForkingChain implements ChainReader {
  readonly chain = 'ethereum';
  fork = 'a';
  forkFrom = 0;
  constructor(public headNumber: number) {}
  private hash(n: number): string {
    const salt = n >= this.forkFrom ? this.fork : 'a';
    return `0x${salt.repeat(2)}${n.toString(16).padStart(62, '0')}`;
  }
  private ref(n: number): BlockRef {
    return {
      number: n,
      hash: this.hash(n),
      parentHash: n === 0 ? `0x${'0'.repeat(64)}` : this.hash(n - 1),
      time: BASE_T + n * 12,
    };
  }
  async head() {
    return this.headNumber;
  }
  async readRange(from: number, to: number): Promise<RangeRead> {
    const blocks: BlockRef[] = [];
    for (let n = from; n <= to; n++) blocks.push(this.ref(n));
    return { blocks, transfers: [] };
  }
  async blockRefs(numbers: number[]) {
    return numbers.map((n) => this.ref(n));
  }
}

describe('reorgs', () => {
  it(`a reorg deeper than the ${RECENT_BLOCKS} hashes the cursor keeps is paged, with the range to audit`, async () => {
    const config = compile();
    const chain = { ...config.chains.get('ethereum')!, startBlock: 0, confirmations: 0, maxBlocksPerPoll: 200 };
    const reader = new ForkingChain(150);
    const store = new MemoryBreakerStore();
    await initialiseForTest(store);
    const pages: Page[] = [];
    const deps = {
      config,
      chain,
      reader,
      store,
      publisher: { publish: async (p: Page) => void pages.push(p) },
      clock: { now: () => 1 },
      owner: 'p',
    };
    const first = await pollOnce(deps);
    expect(first.result).toMatchObject({ kind: 'idle', lastBlock: 150 });

    // Everything from block 10 on is replaced: 140 blocks deep, beyond the kept hashes.
    reader.fork = 'b';
    reader.forkFrom = 10;
    reader.headNumber = 151;
    // As runPoller polls: with the cursor the last poll returned (an idle poll may have moved it in memory only).
    const { result } = await pollOnce(deps, first.cursor);
    expect(result).toMatchObject({ kind: 'reorg', depthKnown: false });
    const blind = pages.filter((p) => p.kind === 'blind');
    expect(blind).toHaveLength(1);
    expect(blind[0]!.subject).toContain(`deeper than ${RECENT_BLOCKS} blocks`);
    expect(blind[0]!.text).toContain('breaker scan');
    expect((await store.listAudit(5)).some((a) => a.action === 'reorg' && a.details.depthKnown === false)).toBe(true);
  });

  it('a shallow reorg is not paged (it is handled exactly)', async () => {
    const config = compile();
    const chain = { ...config.chains.get('ethereum')!, startBlock: 0, confirmations: 0, maxBlocksPerPoll: 200 };
    const reader = new ForkingChain(150);
    const store = new MemoryBreakerStore();
    await initialiseForTest(store);
    const pages: Page[] = [];
    const deps = {
      config,
      chain,
      reader,
      store,
      publisher: { publish: async (p: Page) => void pages.push(p) },
      clock: { now: () => 1 },
      owner: 'p',
    };
    const first = await pollOnce(deps);
    reader.fork = 'b';
    reader.forkFrom = 145;
    reader.headNumber = 151;
    expect((await pollOnce(deps, first.cursor)).result).toMatchObject({
      kind: 'reorg',
      depthKnown: true,
      rewoundTo: 144,
    });
    expect(pages).toEqual([]);
  });
});
