import { randomBytes } from 'node:crypto';
import { getBase58Codec } from '@solana/kit';
import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import { base58Decode, base58Encode } from '../../../functions/adapters/encoding/base58.ts';
import { classifyTransfers } from '../../../functions/core/classify.ts';
import { ConfigError } from '../../../functions/core/errors.ts';
import type { ChainTransfer } from '../../../functions/core/model.ts';
import { txLink } from '../../../functions/core/pages/breach-pages.ts';
import { reconcile } from '../../../functions/core/reconciliation/reconcile.ts';
import { parseWithdrawal } from '../../../functions/guard/withdrawal.ts';
import { solanaChainInput } from './helpers.ts';

/** `kind: solana` in the config and in the generic parts: classification, pages, the guard, reconciliation. */

const HOT = '5tzFkiKscXHK5ZXCGbXZxdw7gTjjD1mBwuoFbhUvuAi9'; // publicly labelled a Binance hot wallet
const COLD = '9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM';
const USDC = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';
// One letter's case changed: another base58 key, never USDC.
const USDC_OTHER_CASE = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1V';
const CUSTOMER = 'DRpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hy';

function config(chain: Record<string, unknown> = {}) {
  return compileConfig(
    {
      name: 'sol-kind',
      chains: {
        sol: {
          ...solanaChainInput({
            rpc: ['https://api.mainnet-beta.solana.com'],
            hotWallets: [HOT],
            ownAddresses: [COLD],
            tokens: [{ symbol: 'USDC', contract: USDC, decimals: 6, usdPrice: 1 }],
          }),
          ...chain,
        },
      },
      limits: { global: { usd: { '1h': 1000 } } },
      reconciliation: { enabled: true, toleranceBps: 0, windowSeconds: 600 },
    },
    'test',
  );
}

function issues(chain: Record<string, unknown>): string[] {
  try {
    config(chain);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.issues];
    throw e;
  }
  return [];
}

const transfer = (t: Partial<ChainTransfer>): ChainTransfer => ({
  chain: 'sol',
  block: 300_000_000,
  blockHash: HOT,
  blockTime: 1_800_000_000,
  txHash: '5'.repeat(88),
  index: 0,
  contract: null,
  from: HOT,
  to: CUSTOMER,
  amount: 1n,
  ...t,
});

describe('kind: solana', () => {
  it('compiles: base58 addresses and mints kept as written, settings defaulted', () => {
    const c = config();
    const chain = c.chains.get('sol')!;
    expect(chain.kind.id).toBe('solana');
    expect(chain.hotWallets).toEqual([HOT]);
    expect([...chain.tokens.keys()]).toEqual([USDC]);
    expect(chain.raw).toMatchObject({ cluster: 'mainnet-beta', rpcBatchSize: 100, tokenAccounts: [] });
    expect(structuredClone(c)).toEqual(c);
  });

  it('names what is wrong: a hex address, a short key, a 0 in base58, no endpoint, a bad token account', () => {
    expect(issues({ hotWallets: ['0x28C6c06298d514Db089934071355E5743bf21d60'] })).toEqual([
      'chains.sol.hotWallets[0]: not a Solana address: base58 has no 0, O, I or l',
    ]);
    expect(issues({ ownAddresses: ['5tzFkiKscXHK5ZXCGbXZ'] })).toEqual([
      'chains.sol.ownAddresses[0]: not a Solana address: base58 of 15 bytes, not 32',
    ]);
    expect(issues({ tokens: [{ symbol: 'X', contract: 'usdc', decimals: 6, usdPrice: 1 }] })).toEqual([
      'chains.sol.tokens[0].contract: not a Solana mint address: base58 of 3 bytes, not 32',
    ]);
    expect(issues({ rpc: [] })).toEqual(['chains.sol.rpc: a solana chain needs at least one rpc endpoint']);
    expect(issues({ tokenAccounts: ['nope'] })[0]).toMatch(/^chains\.sol\.tokenAccounts\[0\]: not a Solana address/);
  });

  it('classifies by exact spelling: a mint or address in another case is another key', () => {
    const c = config();
    const [usdc, lookalike, toCold, toLookalikeCold] = classifyTransfers(
      c,
      c.chains.get('sol')!,
      [
        transfer({ contract: USDC, amount: 5_000_000n }),
        transfer({ contract: USDC_OTHER_CASE, index: 1 }),
        transfer({ to: COLD, index: 2 }),
        transfer({ to: COLD.replace('W', 'w'), index: 3 }),
      ],
      () => 1_800_000_000,
    );
    expect([usdc!.asset, usdc!.usdMicros]).toEqual(['USDC', 5_000_000n]);
    expect([lookalike!.asset, lookalike!.known]).toEqual(['UNKNOWN', false]);
    expect(toCold!.own).toBe(true);
    expect(toLookalikeCold!.own).toBe(false);
  });

  it('reconciles an approval naming the mint only in its exact case', () => {
    const c = config();
    const [record] = classifyTransfers(
      c,
      c.chains.get('sol')!,
      [transfer({ contract: USDC, amount: 5_000_000n })],
      () => 0,
    );
    const approval = (asset: string) => ({
      withdrawalId: `w-${asset}`,
      chain: 'sol',
      asset,
      destination: CUSTOMER,
      amount: 5_000_000n,
      approvedAtMs: 1_800_000_000_000,
    });
    expect(reconcile(c.reconciliation, [record!], [approval(USDC)]).get(record!.id)).toEqual({
      kind: 'approved',
      withdrawalId: `w-${USDC}`,
    });
    expect(reconcile(c.reconciliation, [record!], [approval('USDC')]).get(record!.id)?.kind).toBe('approved');
    expect(reconcile(c.reconciliation, [record!], [approval(USDC_OTHER_CASE)]).get(record!.id)?.kind).toBe(
      'unapproved',
    );
  });

  it('links the explorer, and the guard checks destinations by base58 rules', () => {
    const c = config();
    expect(txLink(c, { chain: 'sol', txHash: 'abc' })).toBe('https://explorer.solana.com/tx/abc');
    const w = { withdrawalId: 'w1', chain: 'sol', asset: USDC, destination: CUSTOMER, amount: '5' };
    expect(parseWithdrawal(w, c)).toMatchObject({ ok: true, withdrawal: { destination: CUSTOMER } });
    expect(parseWithdrawal({ ...w, destination: '0x28C6c06298d514Db089934071355E5743bf21d60' }, c)).toMatchObject({
      ok: false,
      problem: 'destination: not a Solana address: base58 has no 0, O, I or l',
    });
  });

  it('base58 agrees with @solana/kit on random keys, signatures and leading zeros', () => {
    const codec = getBase58Codec();
    for (let i = 0; i < 200; i++) {
      const bytes = Uint8Array.from(randomBytes(i % 2 ? 32 : 64));
      if (i % 5 === 0) bytes.fill(0, 0, i % 7);
      const text = base58Encode(bytes);
      expect(text).toBe(codec.decode(bytes));
      expect(base58Decode(text)).toEqual(bytes);
    }
  });
});
