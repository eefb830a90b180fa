import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../functions/adapters/config/config-file.ts';
import { MemoryBreakerStore } from '../../functions/adapters/memory/memory-breaker-store.ts';
import { checkedBalances, setBalancesAfter } from '../../functions/core/balances.ts';
import { ChainReadError } from '../../functions/core/errors.ts';
import { readsBalances } from '../../functions/core/ports.ts';
import type { Page } from '../../functions/core/state.ts';
import { pollOnce } from '../../functions/core/use-cases/poll-chain.ts';
import { ADDR, compile, outflow } from '../support/fixtures.ts';
import { initialiseForTest } from '../support/initialise.ts';
import { ScriptedChain } from '../support/scripted-chain.ts';

describe('a chain kind reads balances exactly when it says so', () => {
  it('holds for every chain of the example config (each kind builds its reader)', () => {
    const example = loadConfigFile('config/example.yaml');
    const kinds = new Set<string>();
    for (const chain of example.chains.values()) {
      kinds.add(chain.kind.id);
      expect(readsBalances(chain.kind.createReader(chain)), chain.id).toBe(chain.kind.readsBalances === true);
    }
    expect(kinds).toContain('evm');
    expect(kinds).toContain('bitcoin');
  });
});

describe('balances after each outflow of a range (core/balances.ts)', () => {
  const config = compile();
  const eth = config.chains.get('ethereum')!;

  it('works back from the range-end balance block by block; a move between hot wallets takes nothing', () => {
    const records = [
      outflow(config, { t: 100, block: 10, asset: 'USDT', units: '30' }),
      outflow(config, { t: 100, block: 10, asset: 'USDT', units: '7', to: ADDR.ethHot2 }),
      outflow(config, { t: 100, block: 10, asset: 'USDT', units: '20' }),
      outflow(config, { t: 112, block: 11, asset: 'USDT', units: '50' }),
      outflow(config, { t: 112, block: 11, asset: 'ETH', units: '1', to: ADDR.cold }),
      outflow(config, { t: 112, block: 11, asset: 'USDC', units: '5' }),
    ];
    setBalancesAfter(
      eth,
      records,
      new Map<string | null, bigint>([
        [ADDR.ethUsdt, 1_000_000_000n],
        [null, 4n],
      ]),
    );
    expect(records.map((r) => r.balanceAfter)).toEqual([
      // Block 10's outflows all leave the balance after block 10: 1,000 USDT + block 11's 50.
      1_050_000_000n,
      1_050_000_000n,
      1_050_000_000n,
      1_000_000_000n,
      4n,
      // No balance read for USDC: unknown, not zero.
      undefined,
    ]);
  });
});

/** The scripted chain, reading balances too: `fail` makes balancesAt throw (a fault the test injects). */
class ScriptedChainWithBalances extends ScriptedChain {
  asked: { block: number; contracts: (string | null)[] }[] = [];
  fail = false;
  async balancesAt(block: { number: number; hash: string }, contracts: readonly (string | null)[]) {
    this.asked.push({ block: block.number, contracts: [...contracts] });
    if (this.fail) throw new ChainReadError('chain ethereum: eth_getBalance failed on every endpoint (injected)');
    return new Map(contracts.map((c) => [c, 10n ** 20n] as const));
  }
}

describe('checkedBalances: only a contract the config does not list may go without a balance', () => {
  const config = compile();
  const eth = config.chains.get('ethereum')!;
  const asked = [null, ADDR.ethUsdt, ADDR.unknownToken];

  it('lets an unlisted contract that refused balanceOf go unknown', () => {
    const read = new Map<string | null, bigint>([
      [null, 1n],
      [ADDR.ethUsdt, 2n],
    ]);
    expect(checkedBalances(eth, asked, read)).toBe(read);
  });

  it('refuses to go on without the native coin or a listed token', () => {
    expect(() => checkedBalances(eth, asked, new Map([[null, 1n]]))).toThrow(
      `chain ethereum: the hot wallets' USDT (${ADDR.ethUsdt}) balance could not be read`,
    );
    expect(() => checkedBalances(eth, asked, new Map([[ADDR.ethUsdt, 1n]]))).toThrow(ChainReadError);
  });
});

describe('the poll reads balances when a balance rule watches the chain', () => {
  async function setup(drawdown: boolean) {
    const config = compile({
      global: { usd: { '1h': 1_000_000_000 } },
      ...(drawdown && { patterns: { balanceDrawdown: { tripPercent: 50, chains: ['ethereum'] } } }),
    });
    const chain = { ...config.chains.get('ethereum')!, startBlock: 0, confirmations: 0, maxBlocksPerPoll: 5 };
    const reader = new ScriptedChainWithBalances('ethereum', 9, {
      from: ADDR.ethHot,
      to: ADDR.stranger,
      amount: 10n ** 18n,
      outflows: { 3: 1, 4: 2 },
    });
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
    return { deps, reader, store };
  }

  it('once per range with outflows, at its last block, for the assets it moved; never for a range without', async () => {
    const { deps, reader, store } = await setup(true);
    expect((await pollOnce(deps)).result.kind).toBe('advanced'); // blocks 0–4
    expect((await pollOnce(deps)).result.kind).toBe('idle'); // blocks 5–9: nothing moved
    expect(reader.asked).toEqual([{ block: 4, contracts: [null] }]);
    const recorded = await store.outflowsSince('ethereum', 0);
    // Block 4's two outflows leave 100; block 3's leaves 100 + block 4's 2.
    expect(recorded.map((r) => [r.block, r.balanceAfter])).toEqual([
      [3, 102n * 10n ** 18n],
      [4, 100n * 10n ** 18n],
      [4, 100n * 10n ** 18n],
    ]);
  });

  it('a failed balance read fails the poll: nothing recorded, the cursor stays (the dead-man pages)', async () => {
    const { deps, reader, store } = await setup(true);
    reader.fail = true;
    await expect(pollOnce(deps)).rejects.toThrow('eth_getBalance failed on every endpoint (injected)');
    expect(await store.outflowsSince('ethereum', 0)).toEqual([]);
    expect((await store.getCursor('ethereum'))?.lastBlock ?? -1).toBeLessThan(3);
  });

  it('no balance rule, no balance reads', async () => {
    const { deps, reader } = await setup(false);
    expect((await pollOnce(deps)).result.kind).toBe('advanced');
    expect(reader.asked).toEqual([]);
  });
});
