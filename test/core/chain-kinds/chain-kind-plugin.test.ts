import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CHAIN_KINDS } from '../../../functions/adapters/chain-kinds.ts';
import type {
  AddressRules,
  ChainKind,
  ChainReader,
  ReadableChain,
  TokenRules,
} from '../../../functions/core/chain-kind.ts';
import { classifyTransfers } from '../../../functions/core/classify.ts';
import { compileConfigWith } from '../../../functions/core/config/compile.ts';
import { ConfigError } from '../../../functions/core/errors.ts';
import type { ChainTransfer } from '../../../functions/core/model.ts';
import { txLink } from '../../../functions/core/pages/breach-pages.ts';
import { parseWithdrawal } from '../../../functions/guard/withdrawal.ts';
import { deadManAgeSeconds } from '../../../infra/constructs/poller-alarms.ts';

/**
 * A chain kind is a plug-in: a kind registered only here — base58 case-sensitive addresses, numeric
 * token ids, a Tronscan-style explorer, its own settings — compiles, classifies, links, is checked by
 * the guard and by reconciliation, and sizes the dead-man alarm, without core knowing its name.
 * (Its reader is a test double: no chain of this kind exists in the project.)
 */

const BASE58 = /^T[1-9A-HJ-NP-Za-km-z]{33}$/;

class Base58Rules implements AddressRules {
  problem(text: string) {
    return BASE58.test(text) ? undefined : 'not a base58 T… address';
  }
  normalise(text: string) {
    return text;
  }
}

class NumericTokenRules implements TokenRules {
  problem(text: string) {
    return /^\d{1,8}$/.test(text) ? undefined : 'not a TRC-10 token id';
  }
  normalise(text: string) {
    return String(Number(text));
  }
}

class TestKind implements ChainKind {
  readonly id = 'testkind';
  readonly name = 'Test';
  readonly address = new Base58Rules();
  readonly tokens = new NumericTokenRules();
  readonly finality = { confirmations: 'solidified blocks', reorgMemoryBlocks: 20 };
  readonly deadManSlackBlocks = 7;
  readonly hostsPriceFeeds = false;
  readonly hasAccountNonces = false;
  settings() {
    return { fullNode: z.string().min(1) };
  }
  checkSettings(chain: Readonly<Record<string, unknown>>) {
    return chain.fullNode === 'bad' ? 'fullNode must not be "bad"' : undefined;
  }
  txUrl(explorer: string, txHash: string) {
    return `${explorer}/#/transaction/${txHash}`;
  }
  hashFromHex(hex: string) {
    return hex;
  }
  createReader(chain: ReadableChain): ChainReader {
    return {
      chain: chain.id,
      head: async () => 0,
      readRange: async () => ({ blocks: [], transfers: [] }),
      blockRefs: async () => [],
    };
  }
}

const kinds = [...CHAIN_KINDS, new TestKind()];
const HOT = 'TJRabPrwbZy45sbavfcjinPJC18kjpRTv8';
// The same letters in another case: a different base58 address, never the hot wallet.
const HOT_OTHER_CASE = 'TjRabPrwbZy45sbavfcjinPJC18kjpRTv8';
const COLD = 'TXLAQ63Xg1NAzckPwKHvzw7CSEmLMEqcdj';

function input(chain: Record<string, unknown> = {}) {
  return {
    name: 'plug-in',
    chains: {
      tk: {
        kind: 'testkind',
        fullNode: 'https://node.example.test',
        confirmations: 19,
        blockTimeSeconds: 3,
        explorer: 'https://tronscan.example.test',
        hotWallets: [HOT],
        ownAddresses: [COLD],
        native: { symbol: 'TRX', decimals: 6, usdPrice: 0.1 },
        tokens: [{ symbol: 'BTT', contract: '01002000', decimals: 6, usdPrice: 0.001 }],
        ...chain,
      },
    },
    limits: { global: { usd: { '1h': 1000 } } },
    reconciliation: { allowedDestinations: { tk: [COLD] } },
  };
}

function transfer(t: Partial<ChainTransfer>): ChainTransfer {
  return {
    chain: 'tk',
    block: 1,
    blockHash: 'b1',
    blockTime: 1,
    txHash: 'ab'.repeat(32),
    index: null,
    contract: null,
    from: HOT,
    to: COLD,
    amount: 1n,
    ...t,
  };
}

describe('a chain kind registered outside core', () => {
  const config = compileConfigWith(kinds, input());
  const chain = config.chains.get('tk')!;

  it('is refused by the balance-drawdown rule, by name, when it does not say it reads balances', () => {
    const doc = { ...input(), limits: { patterns: { balanceDrawdown: { tripPercent: 50 } } } };
    expect(() => compileConfigWith(kinds, doc)).toThrow(
      'limits.patterns.balanceDrawdown: chain "tk" (kind testkind) cannot read hot-wallet balances, so the rule would never see it — list the chains to watch in limits.patterns.balanceDrawdown.chains without it',
    );
  });

  it('compiles with its own settings, its address rules (case kept) and token ids', () => {
    expect(chain.kind.id).toBe('testkind');
    expect(chain.raw.fullNode).toBe('https://node.example.test');
    expect(chain.hotWallets).toEqual([HOT]);
    expect([...chain.tokens.keys()]).toEqual(['1002000']);
    expect(config.reconciliation.allowedDestinations.get('tk')).toEqual(new Set([COLD]));
  });

  it('reports its own problems with their paths, and lists every registered kind', () => {
    const issues = (doc: unknown) => {
      try {
        compileConfigWith(kinds, doc);
      } catch (e) {
        if (e instanceof ConfigError) return e.issues;
        throw e;
      }
      return [];
    };
    expect(issues(input({ hotWallets: ['0x1111111111111111111111111111111111111111'] }))).toEqual([
      'chains.tk.hotWallets[0]: not a base58 T… address',
    ]);
    expect(issues(input({ fullNode: 'bad' }))).toEqual(['chains.tk: fullNode must not be "bad"']);
    expect(issues(input({ tokens: [{ symbol: 'X', contract: 'abc', decimals: 0, usdPrice: 1 }] }))).toEqual([
      'chains.tk.tokens[0].contract: not a TRC-10 token id',
    ]);
    const ids = kinds.map((k) => `"${k.id}"`);
    expect(issues(input({ kind: 'no-such-kind' }))).toEqual([
      `chains.tk.kind: kind must be ${ids.slice(0, -1).join(', ')} or ${ids.at(-1)}`,
    ]);
  });

  it('classifies by its own rules: an address in another case is not the same address', () => {
    const [toCold, toLookalike, token] = classifyTransfers(
      config,
      chain,
      [transfer({}), transfer({ to: HOT_OTHER_CASE, index: 1 }), transfer({ contract: '1002000', index: 2 })],
      () => 1,
    );
    expect(toCold!.own).toBe(true);
    expect(toLookalike!.own).toBe(false);
    expect(toLookalike!.to).toBe(HOT_OTHER_CASE);
    expect(token!.asset).toBe('BTT');
  });

  it('links transactions the way its explorer wants', () => {
    expect(txLink(config, { chain: 'tk', txHash: 'abc' })).toBe('https://tronscan.example.test/#/transaction/abc');
  });

  it('the guard checks destinations and token ids by the kind', () => {
    const w = { withdrawalId: 'w1', chain: 'tk', asset: '1002000', destination: HOT_OTHER_CASE, amount: '5' };
    expect(parseWithdrawal(w, config)).toMatchObject({ ok: true, withdrawal: { destination: HOT_OTHER_CASE } });
    expect(parseWithdrawal({ ...w, destination: '0x1111111111111111111111111111111111111111' }, config)).toEqual({
      ok: false,
      rejection: 'invalid-withdrawal',
      problem: 'destination: not a base58 T… address',
    });
  });

  it('sizes the dead-man alarm by its slack, and builds its reader', () => {
    expect(deadManAgeSeconds(chain)).toBe(19 * 3 + Math.max(120, 7 * 3));
    expect(chain.kind.createReader(chain).chain).toBe('tk');
  });

  it('survives structuredClone of the compiled config (tools copy it as data)', () => {
    expect(structuredClone(config)).toEqual(config);
  });
});

describe('the xrpl kind through the same checks', () => {
  const XHOT = 'rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh';
  const XCOLD = 'rvYAfWj5gh67oV6fW32ZzP3Aw4Eubs59B';
  // XHOT as an X-address with destination tag 7 (xrpl.js classicAddressToXAddress): the same account.
  const XHOT_X = 'XVH3aqvbYGhRhrD1FYSzGooNuxdzbGhUnMNhxLF1Nf9HfWW';
  const RLUSD = '524C555344000000000000000000000000000000.rMxCKbEDwqr76QuheSUMdEGf4B9xJ8m5De';
  const config = compileConfigWith(CHAIN_KINDS, {
    name: 'plug-in-xrpl',
    chains: {
      xrpl: {
        kind: 'xrpl',
        rpc: ['https://xrpl.example.test'],
        confirmations: 0,
        blockTimeSeconds: 4,
        explorer: 'https://livenet.xrpl.org',
        hotWallets: [XHOT_X],
        ownAddresses: [XCOLD],
        native: { symbol: 'XRP', decimals: 6, usdPrice: 2 },
        // The hex currency code in lower case: the same currency.
        tokens: [
          {
            symbol: 'RLUSD',
            contract: `${RLUSD.slice(0, 40).toLowerCase()}${RLUSD.slice(40)}`,
            decimals: 6,
            usdPrice: 1,
          },
        ],
      },
    },
    limits: { global: { usd: { '1h': 1000 } } },
    reconciliation: { allowedDestinations: { xrpl: [XCOLD] } },
  });
  const chain = config.chains.get('xrpl')!;

  it('compiles X-addresses to classic ones and currency codes to their canonical form', () => {
    expect(chain.hotWallets).toEqual([XHOT]);
    expect([...chain.tokens.keys()]).toEqual([RLUSD]);
  });

  it('classifies, links, guards and sizes its dead-man alarm by its own rules', () => {
    const [own, token] = classifyTransfers(
      config,
      chain,
      [
        transfer({ chain: 'xrpl', from: XHOT, to: XCOLD }),
        transfer({ chain: 'xrpl', from: XHOT, to: HOT, contract: RLUSD, index: 1 }),
      ],
      () => 1,
    );
    expect(own!.own).toBe(true);
    expect(token!.asset).toBe('RLUSD');
    expect(txLink(config, { chain: 'xrpl', txHash: 'AB' })).toBe('https://livenet.xrpl.org/transactions/AB');
    const w = { withdrawalId: 'w1', chain: 'xrpl', asset: RLUSD, destination: XCOLD, amount: '5' };
    expect(parseWithdrawal(w, config)).toMatchObject({ ok: true });
    expect(parseWithdrawal({ ...w, destination: XCOLD.toLowerCase() }, config)).toMatchObject({
      ok: false,
      problem: expect.stringContaining('not an XRP Ledger address'),
    });
    expect(deadManAgeSeconds(chain)).toBe(Math.max(120, 10 * 4));
    expect(chain.kind.createReader(chain).chain).toBe('xrpl');
    expect(structuredClone(config)).toEqual(config);
  });
});

describe('the registered Tron kind through the same plug-in path', () => {
  const USDT_HEX = '41a614f803b6fd780986a42c78ec9c7f77e6ded13c';
  const USDT = 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t';
  const config = compileConfigWith(CHAIN_KINDS, {
    name: 'tron-plug-in',
    chains: {
      trx: {
        kind: 'tron',
        http: ['https://node.example.test'],
        confirmations: 0,
        blockTimeSeconds: 3,
        explorer: 'https://tronscan.org',
        hotWallets: [HOT],
        ownAddresses: [COLD],
        native: { symbol: 'TRX', decimals: 6, usdPrice: 0.25 },
        tokens: [
          { symbol: 'USDT', contract: USDT_HEX, decimals: 6, usdPrice: 1 },
          { symbol: 'BTT', contract: '1002000', decimals: 6, usdPrice: 0.000001 },
        ],
      },
    },
    limits: { global: { usd: { '1h': 1000 } } },
  });
  const chain = config.chains.get('trx')!;

  it('classifies TRC-20 (contract written as 41-hex, stored T…) and TRC-10 transfers, cold wallet as own', () => {
    const [usdt, btt, trx] = classifyTransfers(
      config,
      chain,
      [
        transfer({ chain: 'trx', contract: USDT, index: 0 }),
        transfer({ chain: 'trx', contract: '1002000', index: -1 }),
        transfer({ chain: 'trx', to: HOT_OTHER_CASE }),
      ],
      () => 1,
    );
    expect([usdt!.asset, btt!.asset, trx!.asset]).toEqual(['USDT', 'BTT', 'TRX']);
    expect(usdt!.own).toBe(true);
    expect(trx!.own).toBe(false);
  });

  it('links to Tronscan, and the guard takes a 41-hex destination as its T… address', () => {
    expect(txLink(config, { chain: 'trx', txHash: 'abc' })).toBe('https://tronscan.org/#/transaction/abc');
    const w = { withdrawalId: 'w1', chain: 'trx', asset: USDT_HEX, destination: USDT_HEX, amount: '5' };
    expect(parseWithdrawal(w, config)).toMatchObject({ ok: true, withdrawal: { destination: USDT } });
    expect(deadManAgeSeconds(chain)).toBe(0 * 3 + Math.max(120, chain.kind.deadManSlackBlocks * 3));
    expect(structuredClone(config)).toEqual(config);
  });
});
