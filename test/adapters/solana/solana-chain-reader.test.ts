import type { Address, KeyPairSigner } from '@solana/kit';
import { getTransferSolInstruction } from '@solana-program/system';
import {
  getApproveInstruction,
  getBurnCheckedInstruction,
  getCloseAccountInstruction,
  getTransferCheckedInstruction,
  getTransferInstruction,
} from '@solana-program/token';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TOKEN_2022_PROGRAM } from '../../../functions/adapters/solana/solana-outflows.ts';
import { type NodeView, SolanaNode } from '../../support/solana/solana-node.ts';
import { ata, createAtaInstruction, createMint, fund, type TestMint } from '../../support/solana/tokens.ts';
import { solanaReader } from './helpers.ts';

const SOL = 1_000_000_000n;

describe('SolanaChainReader over the LiteSVM stand-in', () => {
  let node: SolanaNode;
  let view: NodeView;
  let hot: KeyPairSigner;
  let cold: KeyPairSigner;
  let usdc: TestMint;
  let pyusd: TestMint; // a Token-2022 mint
  let customer: () => Promise<Address>;

  beforeAll(async () => {
    node = new SolanaNode();
    view = await node.serve();
    hot = await node.wallet(1_000n);
    cold = await node.wallet(1n);
    usdc = await createMint(node, 6);
    pyusd = await createMint(node, 6, TOKEN_2022_PROGRAM);
    await fund(node, usdc, hot.address, 1_000_000n * 10n ** 6n);
    await fund(node, pyusd, hot.address, 1_000_000n * 10n ** 6n);
    node.endSlot();
    customer = async () => (await node.wallet(1n)).address;
  });
  afterAll(async () => {
    await node.close();
  });

  let from: number;
  beforeEach(() => {
    from = node.finalizedSlot() + 1;
  });

  const reader = (extra: { tokenAccounts?: string[] } = {}) =>
    solanaReader({
      rpc: [view.url],
      genesisHash: node.genesisHash,
      hotWallets: [hot.address],
      ownAddresses: [cold.address],
      tokens: [{ symbol: 'USDC', contract: usdc.address, decimals: 6, usdPrice: 1 }],
      ...extra,
    });

  it('counts a SOL transfer, with the fee recorded apart, and an own-address sweep', async () => {
    const a = await customer();
    const pay = await node.send(hot, [getTransferSolInstruction({ source: hot, destination: a, amount: 3n * SOL })]);
    const sweep = await node.send(hot, [
      getTransferSolInstruction({ source: hot, destination: cold.address, amount: 100n * SOL }),
    ]);
    const to = node.endSlot();
    const read = await reader().readRange(from, to);
    expect(read.blocks.map((b) => b.number)).toEqual([to]);
    expect(read.transfers.map((t) => [t.txHash, t.to, t.amount, t.contract, t.index, t.fee]).sort()).toEqual(
      [
        [pay.signature, a, 3n * SOL, null, 0, 5000n],
        [sweep.signature, cold.address, 100n * SOL, null, 0, 5000n],
      ].sort(),
    );
  });

  it('counts SPL Token transfer and transferChecked, and Token-2022, by owner, to the owner of the destination account', async () => {
    const b = await customer();
    const c = await customer();
    const t1 = await node.send(hot, [
      await createAtaInstruction(usdc, hot, b),
      getTransferCheckedInstruction({
        source: await ata(usdc, hot.address),
        mint: usdc.address,
        destination: await ata(usdc, b),
        authority: hot,
        amount: 2_500_000_000n,
        decimals: 6,
      }),
    ]);
    const t2 = await node.send(hot, [
      await createAtaInstruction(pyusd, hot, c),
      getTransferCheckedInstruction(
        {
          source: await ata(pyusd, hot.address),
          mint: pyusd.address,
          destination: await ata(pyusd, c),
          authority: hot,
          amount: 7_000_000n,
          decimals: 6,
        },
        { programAddress: pyusd.program },
      ),
    ]);
    const to = node.endSlot();
    const read = await reader().readRange(from, to);
    const tokens = read.transfers.filter((t) => t.contract !== null);
    expect(tokens.map((t) => [t.txHash, t.contract, t.to, t.amount, t.index])).toEqual(
      [
        [t1.signature, usdc.address, b, 2_500_000_000n, 1000],
        [t2.signature, pyusd.address, c, 7_000_000n, 1000],
        // The reader orders a slot's transactions by signature, code unit by code unit (not by locale).
      ].sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1)),
    );
    // Creating each payee's token account was paid by the hot wallet through the ATA program's CPI
    // into System: the rent counts as SOL out, to the new token account, at an inner position.
    const rent = read.transfers.filter((t) => t.contract === null);
    expect(rent.map((r) => r.to).sort()).toEqual([await ata(usdc, b), await ata(pyusd, c)].sort());
    for (const r of rent) {
      expect(r.amount).toBe(node.svm.getBalance(r.to as Address));
      expect(r.index).toBeGreaterThan(0);
      expect(r.index).toBeLessThan(1000);
    }
  });

  it('counts only the fee of a failed transaction: nothing', async () => {
    const before = node.svm.getBalance(hot.address)!;
    const failed = await node.send(hot, [
      getTransferSolInstruction({ source: hot, destination: await customer(), amount: 1_000_000n * SOL }),
    ]);
    expect(failed.ok).toBe(false);
    const to = node.endSlot();
    expect(before - node.svm.getBalance(hot.address)!).toBe(5000n);
    const read = await reader().readRange(from, to);
    expect(read.transfers).toEqual([]);
  });

  it('counts a delegate debit of a listed token account, which the owner never signed', async () => {
    const spender = await node.wallet(1n);
    const hotUsdc = await ata(usdc, hot.address);
    await node.send(hot, [
      getApproveInstruction({ source: hotUsdc, delegate: spender.address, owner: hot, amount: 10n ** 12n }),
    ]);
    const d = await customer();
    const theft = await node.send(spender, [
      await createAtaInstruction(usdc, spender, d),
      getTransferInstruction({
        source: hotUsdc,
        destination: await ata(usdc, d),
        authority: spender,
        amount: 900_000_000n,
      }),
    ]);
    expect(theft.ok).toBe(true);
    const to = node.endSlot();
    // Read per owner only, the delegate's transaction does not name the hot wallet: not seen.
    const blind = await reader().readRange(from, to);
    expect(blind.transfers.find((t) => t.txHash === theft.signature)).toBeUndefined();
    // With the token account listed, it is.
    const read = await reader({ tokenAccounts: [hotUsdc] }).readRange(from, to);
    const seen = read.transfers.filter((t) => t.txHash === theft.signature);
    expect(seen.map((t) => [t.from, t.to, t.amount, t.contract])).toEqual([
      [hot.address, d, 900_000_000n, usdc.address],
    ]);
  });

  it('counts a burn, and a token account closed after emptying it (its rent refund is not the wallet SOL)', async () => {
    const burn = await node.send(hot, [
      getBurnCheckedInstruction({
        account: await ata(usdc, hot.address),
        mint: usdc.address,
        authority: hot,
        amount: 5n,
        decimals: 6,
      }),
    ]);
    const e = await customer();
    const pyusdAccount = await ata(pyusd, hot.address);
    const balance = 1_000_000n * 10n ** 6n - 7_000_000n;
    const empty = await node.send(hot, [
      await createAtaInstruction(pyusd, hot, e),
      getTransferCheckedInstruction(
        {
          source: pyusdAccount,
          mint: pyusd.address,
          destination: await ata(pyusd, e),
          authority: hot,
          amount: balance,
          decimals: 6,
        },
        { programAddress: pyusd.program },
      ),
      getCloseAccountInstruction(
        { account: pyusdAccount, destination: hot.address, owner: hot },
        { programAddress: pyusd.program },
      ),
    ]);
    expect(empty.ok).toBe(true);
    const to = node.endSlot();
    const read = await reader().readRange(from, to);
    expect(read.transfers.filter((t) => t.txHash === burn.signature).map((t) => [t.to, t.amount])).toEqual([
      [usdc.address, 5n],
    ]);
    const tokens = read.transfers.filter((t) => t.txHash === empty.signature && t.contract === pyusd.address);
    expect(tokens.map((t) => [t.to, t.amount])).toEqual([[e, balance]]);
  });

  it('reads amounts above 2^53 lamports exactly', async () => {
    const whale = await node.wallet(1n);
    node.setLamports(whale.address, 20_000_000n * SOL);
    const amount = 2n ** 53n + 12_345n;
    const r = await solanaReader({ rpc: [view.url], genesisHash: node.genesisHash, hotWallets: [whale.address] });
    const big = await node.send(whale, [
      getTransferSolInstruction({ source: whale, destination: await customer(), amount }),
    ]);
    const to = node.endSlot();
    const read = await r.readRange(from, to);
    expect(read.transfers.map((t) => [t.txHash, t.amount])).toEqual([[big.signature, amount]]);
  });

  it('reads a range with skipped slots at both edges and inside: produced blocks only, each linked to the last', async () => {
    node.skipSlots(2);
    const first = await node.send(hot, [
      getTransferSolInstruction({ source: hot, destination: await customer(), amount: 1n }),
    ]);
    const s1 = node.endSlot();
    node.skipSlots(3);
    const s2 = node.endSlot();
    const second = await node.send(hot, [
      getTransferSolInstruction({ source: hot, destination: await customer(), amount: 2n }),
    ]);
    const s3 = node.endSlot();
    node.skipSlots(2);
    const to = node.finalizedSlot();
    const read = await reader().readRange(from, to);
    expect(read.blocks.map((b) => b.number)).toEqual([s1, s2, s3]);
    expect(read.blocks[1]!.parentHash).toBe(read.blocks[0]!.hash);
    expect(read.blocks[2]!.parentHash).toBe(read.blocks[1]!.hash);
    expect(read.transfers.map((t) => t.txHash)).toEqual([first.signature, second.signature]);
    // Only skipped slots: no blocks, no transfers, no error.
    expect(await reader().readRange(to - 1, to)).toEqual({ blocks: [], transfers: [] });
    // The same range read again: the same transfers.
    expect((await reader().readRange(from, to)).transfers).toEqual(read.transfers);
    // blockRefs leaves skipped slots out.
    expect((await reader().blockRefs([s3, from, s1])).map((b) => b.number)).toEqual([s1, s3]);
  });

  it('records a token of a mint the config does not list, under its case-sensitive mint', async () => {
    const odd = await createMint(node, 0);
    await fund(node, odd, hot.address, 50n);
    node.endSlot();
    from = node.finalizedSlot() + 1;
    const f = await customer();
    await node.send(hot, [
      await createAtaInstruction(odd, hot, f),
      getTransferCheckedInstruction({
        source: await ata(odd, hot.address),
        mint: odd.address,
        destination: await ata(odd, f),
        authority: hot,
        amount: 7n,
        decimals: 0,
      }),
    ]);
    const to = node.endSlot();
    const read = await reader().readRange(from, to);
    expect(read.transfers.filter((t) => t.contract !== null).map((t) => [t.contract, t.amount])).toEqual([
      [odd.address, 7n],
    ]);
  });

  it('refuses an endpoint of another cluster, naming it', async () => {
    const wrong = await node.serve({ genesisHash: 'EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG' });
    try {
      const r = solanaReader({ rpc: [wrong.url], genesisHash: node.genesisHash, hotWallets: [hot.address] });
      await expect(r.head()).rejects.toThrow(/serves devnet \(genesis EtWTRABZ.*\), but the config expects genesis/);
    } finally {
      await wrong.close();
    }
  });
});
