import type { KeyPairSigner } from '@solana/kit';
import { getTransferSolInstruction } from '@solana-program/system';
import { getTransferCheckedInstruction } from '@solana-program/token';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import { SolanaChainReader } from '../../../functions/adapters/solana/solana-chain-reader.ts';
import { TOKEN_2022_PROGRAM } from '../../../functions/adapters/solana/solana-outflows.ts';
import type { BreakerConfig, ChainConfig } from '../../../functions/core/config/types.ts';
import { ChainReadError } from '../../../functions/core/errors.ts';
import { pollOnce } from '../../../functions/core/use-cases/poll-chain.ts';
import { OffsetClock, RecordingPublisher } from '../../integration/harness.ts';
import { startTestStore, type TestStore } from '../../support/dynamo.ts';
import { initialiseForTest } from '../../support/initialise.ts';
import { type NodeView, SolanaNode } from '../../support/solana/solana-node.ts';
import { ata, createMint, fund, type TestMint } from '../../support/solana/tokens.ts';
import { solanaChainInput } from './helpers.ts';

/**
 * Solana balances for the balance-drawdown rule on the LiteSVM stand-in (which keeps each closed slot's
 * account state): getBalance and getTokenAccountsByOwner at finalized, no earlier than the block.
 */
describe('SolanaChainReader.balancesAt', () => {
  let node: SolanaNode;
  let view: NodeView;
  let hot: KeyPairSigner;
  let hot2: KeyPairSigner;
  let usdc: TestMint;
  let odd: TestMint; // on Token-2022, unlisted

  beforeEach(async () => {
    node = new SolanaNode();
    view = await node.serve();
    [hot, hot2] = [await node.wallet(100n), await node.wallet(50n)];
    usdc = await createMint(node, 6);
    odd = await createMint(node, 9, TOKEN_2022_PROGRAM);
    await fund(node, usdc, hot.address, 5_000_000n);
    await fund(node, usdc, hot2.address, 7n);
    await fund(node, odd, hot2.address, 10n ** 12n);
    node.endSlot();
  });
  afterEach(async () => {
    await node.close();
  });

  function config(rpc: string[]): BreakerConfig {
    return compileConfig(
      {
        name: 'sol-balances',
        chains: {
          sol: solanaChainInput({
            rpc,
            genesisHash: node.genesisHash,
            hotWallets: [hot.address, hot2.address],
            tokens: [{ symbol: 'USDC', contract: usdc.address, decimals: 6, usdPrice: 1 }],
          }),
        },
        limits: { global: { usd: { '1h': 1_000_000_000 } } },
      },
      'sol-balances',
    );
  }
  const reader = (rpc = [view.url]) =>
    new SolanaChainReader(config(rpc).chains.get('sol') as ChainConfig, { backoffMs: 1 });

  it('sums SOL and each token (SPL and Token-2022) over the hot wallets, in one request', async () => {
    const slot = node.finalizedSlot();
    const before = { ...view.counts };
    const balances = await reader().balancesAt({ number: slot, hash: 'unused' }, [null, usdc.address, odd.address]);
    expect(balances).toEqual(
      new Map<string | null, bigint>([
        [null, node.svm.getBalance(hot.address)! + node.svm.getBalance(hot2.address)!],
        [usdc.address, 5_000_007n],
        [odd.address, 10n ** 12n],
      ]),
    );
    // One request: the genesis probe, 2 getBalance and 4 getTokenAccountsByOwner in a batch.
    expect(view.counts.httpRequests - before.httpRequests).toBe(1);
    expect(view.counts.rpcCalls - before.rpcCalls).toBe(1 + 6);
  });

  it('what is sent in a slot not yet finalized does not show; an endpoint behind the block is not used', async () => {
    const slot = node.finalizedSlot();
    await node.send(hot, [getTransferSolInstruction({ source: hot, destination: hot2.address, amount: 1n })]);
    const r = reader();
    const [sol] = (await r.balancesAt({ number: slot, hash: 'unused' }, [null])).values();
    expect(sol).toBe(node.svm.getBalance(hot.address)! + node.svm.getBalance(hot2.address)! + 5000n); // the fee, not yet final
    await expect(r.balancesAt({ number: slot + 1, hash: 'unused' }, [null])).rejects.toThrow(ChainReadError);
  });

  it('a malformed answer is a ChainReadError naming what is wrong', async () => {
    const broken = await node.serve({
      rewrite: (method, _params, raw) =>
        method === 'getTokenAccountsByOwner'
          ? {
              ...(raw as object),
              value: [
                {
                  account: {
                    data: {
                      parsed: { info: { owner: hot.address, mint: usdc.address, tokenAmount: { amount: 1.5 } } },
                    },
                  },
                },
              ],
            }
          : raw,
    });
    const balances = reader([broken.url]).balancesAt({ number: node.finalizedSlot(), hash: 'unused' }, [usdc.address]);
    await expect(balances).rejects.toThrow(ChainReadError);
    await expect(
      reader([broken.url]).balancesAt({ number: node.finalizedSlot(), hash: 'unused' }, [usdc.address]),
    ).rejects.toThrow(/tokenAmount\.amount is not base units as digits/);
  });
});

describe('balance drawdown on a Solana chain (stand-in + dynalite + the poll use case)', () => {
  let node: SolanaNode;
  let db: TestStore;
  afterEach(async () => {
    await node?.close();
    await db?.close();
  });

  it('a drain of a token trips the chain through the drawdown rule', async () => {
    node = new SolanaNode();
    const view = await node.serve();
    db = await startTestStore();
    await initialiseForTest(db.store);
    const hot = await node.wallet(10n);
    const thief = await node.wallet(1n);
    const usdc = await createMint(node, 6);
    await fund(node, usdc, hot.address, 1_000_000n);
    await fund(node, usdc, thief.address, 0n);
    node.endSlot();
    const config = compileConfig(
      {
        name: 'sol-drawdown',
        chains: {
          sol: solanaChainInput({
            rpc: [view.url],
            genesisHash: node.genesisHash,
            hotWallets: [hot.address],
            tokens: [{ symbol: 'USDC', contract: usdc.address, decimals: 6, usdPrice: 0.000001 }],
            startBlock: node.finalizedSlot() + 1,
          }),
        },
        limits: {
          global: { usd: { '1h': 1_000_000_000 } },
          patterns: { balanceDrawdown: { window: '1h', tripPercent: 50 } },
        },
      },
      'sol-drawdown',
    );
    const chain = config.chains.get('sol') as ChainConfig;
    const reader = new SolanaChainReader(chain);
    const poll = async () =>
      (
        await pollOnce({
          config,
          chain,
          reader,
          store: db.store,
          publisher: new RecordingPublisher(),
          clock: new OffsetClock(),
          owner: 'p',
          leaseMs: 30_000,
        })
      ).result;
    const take = async (amount: bigint) => {
      await node.send(hot, [
        getTransferCheckedInstruction({
          source: await ata(usdc, hot.address),
          mint: usdc.address,
          destination: await ata(usdc, thief.address),
          authority: hot,
          amount,
          decimals: 6,
        }),
      ]);
      node.endSlot();
    };
    await take(400_000n);
    expect(await poll()).toMatchObject({ kind: 'advanced', trips: [] });
    await take(300_000n);
    const result = await poll();
    expect(result.kind === 'advanced' && result.trips.map((t) => t.ruleId)).toEqual(['pattern-drawdown-sol-1h']);
    expect((await db.store.getState()).tripped['chain:sol']).toBeDefined();
    const drained = (await db.store.outflowsSince('sol', 0)).filter((r) => r.contract === usdc.address);
    expect(drained.map((r) => r.balanceAfter)).toEqual([600_000n, 300_000n]);
  });
});
