import type { KeyPairSigner } from '@solana/kit';
import { getTransferSolInstruction } from '@solana-program/system';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainReadError } from '../../../functions/core/errors.ts';
import { type NodeView, SolanaNode } from '../../support/solana/solana-node.ts';
import { deadUrl, silentServer } from '../bitcoin/helpers.ts';
import { solanaReader } from './helpers.ts';

/** Failover, lag, the head cross-check and malformed answers, on stand-in views of one chain. */
describe('Solana endpoints', () => {
  let node: SolanaNode;
  let good: NodeView;
  let hot: KeyPairSigner;
  let from: number;
  let to: number;
  const sent: string[] = [];

  beforeAll(async () => {
    node = new SolanaNode();
    good = await node.serve();
    hot = await node.wallet(100n);
    node.endSlot();
    from = node.finalizedSlot() + 1;
    for (let slot = 0; slot < 12; slot++) {
      if (slot % 4 === 3) {
        node.skipSlots(1);
        continue;
      }
      const r = await node.send(hot, [
        getTransferSolInstruction({
          source: hot,
          destination: (await node.wallet(1n)).address,
          amount: BigInt(1000 + slot),
        }),
      ]);
      sent.push(r.signature);
      node.endSlot();
    }
    to = node.finalizedSlot();
  });
  afterAll(async () => {
    await node.close();
  });

  const reader = (rpc: string[], extra: Record<string, number> = {}) =>
    solanaReader({ rpc, genesisHash: node.genesisHash, hotWallets: [hot.address], ...extra });

  it('reads a range in two HTTP requests: block list and signatures, then headers and transactions', async () => {
    const r = reader([good.url]);
    const read = await r.readRange(from, to);
    expect(read.transfers.map((t) => t.txHash).sort()).toEqual([...sent].sort());
    // 1 genesis probe + getBlocks + 1 signature page; then 9 headers + 9 transactions.
    expect(r.counters()).toEqual({ httpRequests: 2, rpcCalls: 1 + 2 + 9 + 9, failedRequests: 0 });
  });

  it('catching up, signatures fetched once from the tip serve the later ranges; new ones are fetched down to what is known', async () => {
    const pagesAsked: (string | undefined)[] = [];
    const answered: number[] = [];
    const counting = await node.serve({
      rewrite: (method, params, result) => {
        if (method === 'getSignaturesForAddress') {
          pagesAsked.push((params[1] as { before?: string }).before);
          answered.push((result as unknown[]).length);
        }
        return result;
      },
    });
    try {
      const r = solanaReader(
        { rpc: [counting.url], genesisHash: node.genesisHash, hotWallets: [hot.address] },
        { signaturePageSize: 2 },
      );
      const found: string[] = [];
      for (let start = from; start <= to; start += 4) {
        const read = await r.readRange(start, Math.min(to, start + 3));
        found.push(...read.transfers.map((t) => t.txHash));
        // Only the first range pages (down from the tip, two signatures a page, to below `from`).
        if (start === from) expect(pagesAsked.length).toBe(Math.ceil((sent.length + 1) / 2));
      }
      expect(found).toEqual(sent);
      const pagesBefore = pagesAsked.length;
      // New traffic above `to`: the next range fetches from the tip down to `to` only.
      const extra = await node.send(hot, [
        getTransferSolInstruction({ source: hot, destination: (await node.wallet(1n)).address, amount: 7n }),
      ]);
      const next = node.endSlot();
      const read = await r.readRange(to + 1, next);
      expect(read.transfers.map((t) => t.txHash)).toEqual([extra.signature]);
      // One page, holding only the new signature (`until` the newest known one).
      expect(pagesAsked.length - pagesBefore).toBe(1);
      expect(answered.at(-1)).toBe(1);
      // A rewind below what is kept fetches afresh, and finds the same transfers.
      expect((await r.readRange(from, to)).transfers.map((t) => t.txHash)).toEqual(sent);
    } finally {
      await counting.close();
    }
  });

  it('splits batches at rpcBatchSize (providers that cap batches)', async () => {
    const r = reader([good.url], { rpcBatchSize: 5 });
    await r.readRange(from, to);
    expect(r.counters().httpRequests).toBe(1 + Math.ceil(18 / 5));
  });

  it('a lagging endpoint answers −32016 for the range and the read moves to the next endpoint', async () => {
    const lagging = await node.serve({ lagSlots: 6 });
    try {
      const r = reader([lagging.url, good.url]);
      const read = await r.readRange(from, to);
      expect(read.transfers.map((t) => t.txHash).sort()).toEqual([...sent].sort());
      expect(r.counters().failedRequests).toBe(1);
    } finally {
      await lagging.close();
    }
  });

  it('the head cross-check sets aside an endpoint lagging more than rpcMaxLagSlots, and the head comes from another', async () => {
    const lagging = await node.serve({ lagSlots: 8 });
    const second = await node.serve();
    try {
      const r = reader([lagging.url, good.url, second.url], { rpcMaxLagSlots: 5 });
      expect(await r.head()).toBe(node.finalizedSlot());
      const before = lagging.counts.rpcCalls;
      await r.readRange(from, to);
      expect(lagging.counts.rpcCalls).toBe(before);
    } finally {
      await lagging.close();
      await second.close();
    }
  });

  it('one endpoint claiming a far higher finalized slot is set aside, not the others', async () => {
    const liar = await node.serve({
      rewrite: (method, _params, result) => (method === 'getSlot' ? (result as number) + 10_000 : result),
    });
    const second = await node.serve();
    try {
      const r = reader([liar.url, good.url, second.url], { rpcMaxLagSlots: 5 });
      expect(await r.head()).toBe(node.finalizedSlot());
      expect((await r.readRange(from, to)).transfers).toHaveLength(sent.length);
    } finally {
      await liar.close();
      await second.close();
    }
  });

  it('an endpoint on another fork is set aside by the majority; with no majority nothing is trusted', async () => {
    const forked = await node.serve({
      rewrite: (method, _params, result) =>
        method === 'getBlock' ? { ...(result as object), blockhash: node.genesisHash } : result,
    });
    const second = await node.serve();
    try {
      const majority = reader([forked.url, good.url, second.url]);
      expect(await majority.head()).toBe(node.finalizedSlot());
      const before = forked.counts.rpcCalls;
      expect((await majority.readRange(from, to)).transfers).toHaveLength(sent.length);
      expect(forked.counts.rpcCalls).toBe(before);

      const tie = reader([forked.url, good.url]);
      await expect(tie.head()).rejects.toThrow(/disagree on the hash of a finalized block with no majority/);
    } finally {
      await forked.close();
      await second.close();
    }
  });

  it('a malformed answer is a ChainReadError naming the endpoint, the method and what is wrong', async () => {
    const broken = await node.serve({
      rewrite: (method, _params, result) =>
        method === 'getTransaction'
          ? { ...(result as object), meta: { ...(result as { meta: object }).meta, preBalances: 'lots' } }
          : result,
    });
    try {
      const error = await reader([broken.url])
        .readRange(from, to)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ChainReadError);
      expect(String(error)).toMatch(
        /getTransaction failed on http:\/\/127\.0\.0\.1:\d+: invalid-result \(transaction \w+ preBalances is not an array\)/,
      );
    } finally {
      await broken.close();
    }
  });

  it('an endpoint leaving a signature out of getSignaturesForAddress: another endpoint’s list brings it back; alone, it hides it', async () => {
    const hidden = sent[0]!;
    const liar = await node.serve({
      rewrite: (method, _params, result) =>
        method === 'getSignaturesForAddress'
          ? (result as { signature: string }[]).filter((s) => s.signature !== hidden)
          : result,
    });
    try {
      expect((await reader([liar.url, good.url]).readRange(from, to)).transfers.map((t) => t.txHash)).toEqual(sent);
      // With one endpoint nothing in its answers contradicts the omission (docs/SOLANA.md, "A lying endpoint").
      const read = await reader([liar.url]).readRange(from, to);
      expect(read.transfers.map((t) => t.txHash)).toEqual(sent.slice(1));
    } finally {
      await liar.close();
    }
  });

  it('a signature the endpoint lists in a slot getBlocks says is empty fails the read', async () => {
    const liar = await node.serve({
      rewrite: (method, _params, result) => (method === 'getBlocks' ? (result as number[]).slice(0, -1) : result),
    });
    try {
      await expect(reader([liar.url]).readRange(from, to)).rejects.toThrow(/getBlocks\(\d+, \d+\) has no block there/);
      // The first block left out instead: the next block's parent is then not below the range.
      const first = await node.serve({
        rewrite: (method, _params, result) => (method === 'getBlocks' ? (result as number[]).slice(1) : result),
      });
      await expect(reader([first.url]).readRange(from, to)).rejects.toThrow(
        /sol: block \d+ names slot \d+ .* as its parent, not a slot below/,
      );
      await first.close();
    } finally {
      await liar.close();
    }
  });

  it('an unreachable or silent endpoint fails over; when all fail, the error names each', async () => {
    const silent = await silentServer();
    try {
      const dead = await deadUrl();
      const ok = reader([dead, silent.url, good.url], { rpcTimeoutMs: 300 });
      expect((await ok.readRange(from, to)).transfers).toHaveLength(sent.length);
      const none = reader([dead, silent.url], { rpcTimeoutMs: 300 });
      await expect(none.head()).rejects.toThrow(ChainReadError);
    } finally {
      await silent.close();
    }
  });

  it('an answer larger than rpcMaxResponseBytes fails that endpoint', async () => {
    const huge = await node.serve({
      rewrite: (method, _params, result) =>
        method === 'getSignaturesForAddress'
          ? [...(result as object[]), ...new Array(20_000).fill((result as object[])[0])]
          : result,
    });
    try {
      await expect(reader([huge.url], { rpcMaxResponseBytes: 1024 * 1024 }).readRange(from, to)).rejects.toThrow(
        /too-large/,
      );
    } finally {
      await huge.close();
    }
  });
});
