import { describe, expect, it } from 'vitest';
import {
  evmHexOf,
  tronAddress,
  tronAddressFromEvm,
  tronAddressProblem,
} from '../../../functions/adapters/tron/addresses.ts';
import { tronChainKind } from '../../../functions/adapters/tron/tron-chain-kind.ts';
import { ConfigError } from '../../../functions/core/errors.ts';
import { tronChainConfig } from './helpers.ts';

// USDT's contract, a public fact: the same 20 bytes in both spellings.
const USDT = 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t';
const USDT_HEX = '41a614f803b6fd780986a42c78ec9c7f77e6ded13c';
const GENESIS = '00000000000000001ebf88508a03865c71d452e25f4d51194196a1d22b6653dc';

describe('Tron addresses', () => {
  it('accepts base58check T… and 41-hex, and writes both as the T… form', () => {
    expect(tronAddress(USDT)).toBe(USDT);
    expect(tronAddress(USDT_HEX)).toBe(USDT);
    expect(tronAddress(`0x${USDT_HEX.toUpperCase()}`)).toBe(USDT);
    expect(tronAddressFromEvm(`0x${USDT_HEX.slice(2)}`)).toBe(USDT);
    expect(evmHexOf(USDT)).toBe(USDT_HEX.slice(2));
  });

  it('rejects a wrong checksum, another case (base58 is case-sensitive), EVM and short forms, naming why', () => {
    expect(tronAddressProblem(`${USDT.slice(0, -1)}u`)).toBe('Tron address checksum mismatch');
    expect(tronAddressProblem(USDT.toLowerCase())).toMatch(/not a Tron address/);
    expect(tronAddressProblem(`0x${USDT_HEX.slice(2)}`)).toMatch(/not a Tron address/);
    expect(tronAddressProblem('T123')).toMatch(/not a Tron address/);
  });

  it('names tokens: a TRC-20 by its contract (either form → T…), a TRC-10 by its numeric id', () => {
    const tokens = tronChainKind.tokens!;
    expect(tokens.normalise(USDT_HEX)).toBe(USDT);
    expect(tokens.normalise('01002000')).toBe('1002000');
    expect(tokens.problem('USDT')).toMatch(/not a TRC-20 contract address .* or a TRC-10 token id/);
  });

  it('compiles a config with 41-hex hot wallets and token contracts stored as T…, and names bad fields', () => {
    const chain = tronChainConfig({
      http: ['https://node.example.test'],
      genesisBlockId: GENESIS,
      hotWallets: [USDT_HEX],
      tokens: [{ symbol: 'USDT', contract: USDT_HEX, decimals: 6, usdPrice: 1 }],
    });
    expect(chain.hotWallets).toEqual([USDT]);
    expect([...chain.tokens.keys()]).toEqual([USDT]);
    expect(tronChainKind.txUrl('https://tronscan.org', 'ab'.repeat(32))).toBe(
      `https://tronscan.org/#/transaction/${'ab'.repeat(32)}`,
    );

    const issues = (input: Record<string, unknown>) => {
      try {
        tronChainConfig({ http: ['https://node.example.test'], genesisBlockId: GENESIS, hotWallets: [USDT], ...input });
      } catch (e) {
        if (e instanceof ConfigError) return e.issues;
        throw e;
      }
      return [];
    };
    expect(issues({ hotWallets: ['0xa614f803b6fd780986a42c78ec9c7f77e6ded13c'] })).toEqual([
      'chains.trx.hotWallets[0]: not a Tron address (base58check T… or 41-prefixed hex)',
    ]);
    expect(issues({ http: [] })).toEqual(['chains.trx.http: at least one HTTP API URL is required']);
    expect(issues({ blocksPerRequest: 101 })[0]).toMatch(/^chains\.trx\.blocksPerRequest/);
    expect(issues({ genesisBlockId: 'abc' })[0]).toMatch(
      /^chains\.trx\.genesisBlockId: expected 64 lower-case hex digits/,
    );
  });
});
