import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainReadError } from '../../../functions/core/errors.ts';
import { TronNode } from '../../support/tron/tron-node.ts';
import { serveTron } from '../../support/tron/tron-server.ts';
import { deadUrl } from '../bitcoin/helpers.ts';
import { startTronWorld, type TronWorld, tronReader } from './helpers.ts';

/** How the reader treats endpoints that are down, behind, on another chain, or lying. */
describe('TronChainReader endpoints', () => {
  let w: TronWorld;
  let first: number;
  let last: number;

  beforeAll(async () => {
    w = await startTronWorld();
    first = w.node.fullHead + 1;
    const payee = await w.node.key();
    for (let i = 0; i < 5; i++) {
      await w.node.sendTrx(w.hot, payee.address, BigInt(100 + i));
      await w.node.produce();
    }
    last = w.node.fullHead;
  });
  afterAll(async () => {
    await w.stop();
  });

  const connect = (
    http: string[],
    more: { jsonRpc?: string[]; genesisBlockId?: string; blocksPerRequest?: number } = {},
  ) => tronReader({ http, genesisBlockId: w.node.genesisBlockId, hotWallets: [w.hot.address], ...more });
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e as Error,
    );

  it('refuses an endpoint that serves another chain (genesis pin), naming both block IDs', async () => {
    const other = new TronNode({ genesisSeed: 'another chain' });
    const s = await serveTron(other);
    try {
      const err = await failure(connect([s.url]).head());
      expect(err).toBeInstanceOf(ChainReadError);
      expect(err!.message).toContain(other.genesisBlockId);
      expect(err!.message).toContain(w.node.genesisBlockId);
    } finally {
      await s.close();
    }
  });

  it('pins the genesis by its blockID alone (mainnet block 0 has no number, timestamp or owned transactions)', async () => {
    const genesisLikeMainnet = await w.serve({
      rewrite: (path, answer) => {
        const a = answer as { blockID?: string };
        if (!path.endsWith('getblockbynum') || a.blockID !== w.node.genesisBlockId) return answer;
        // Shaped like mainnet's: allocations without owner_address or ret.
        const allocation = {
          raw_data: {
            contract: [
              { type: 'TransferContract', parameter: { value: { amount: 1, to_address: '41'.padEnd(42, '1') } } },
            ],
          },
        };
        return { ...a, transactions: [allocation] };
      },
    });
    expect(await connect([genesisLikeMainnet.url]).head()).toBe(last);
  });

  it('fails over to the next endpoint when one is down or erroring, and reads the same transfers', async () => {
    const broken = await w.serve({ failPath: 'getblockbylimitnext' });
    const r = connect([await deadUrl(), broken.url, w.server.url]);
    const read = await r.readRange(first, last);
    expect(read.transfers.map((t) => t.amount)).toEqual([100n, 101n, 102n, 103n, 104n]);
    expect(r.counters().endpointFailures).toBeGreaterThanOrEqual(2);
  });

  it('never reads blocks that are not solidified: head is the solidified head, and a range past it fails', async () => {
    const behind = await w.serve({ lagBlocks: 3 });
    const r = connect([behind.url]);
    expect(await r.head()).toBe(last - 3);
    const err = await failure(r.readRange(last - 3, last));
    expect(err).toBeInstanceOf(ChainReadError);
    expect(err!.message).toContain(`getblockbylimitnext(${last - 3}, ${last + 1}) served 1 of 4 blocks`);
  });

  it('names the endpoint, the method and the field of a malformed answer', async () => {
    const liar = await w.serve({
      rewrite: (path, answer) =>
        path.endsWith('getblockbylimitnext')
          ? JSON.parse(JSON.stringify(answer).replace(/"amount":\d+/, '"amount":"lots"'))
          : answer,
    });
    const err = await failure(connect([liar.url]).readRange(first, last));
    expect(err).toBeInstanceOf(ChainReadError);
    expect(err!.message).toMatch(
      /http http:\/\/127\.0\.0\.1:\d+: malformed response: getblockbylimitnext\(\d+, \d+\)\.block\[0\]\.transactions\[0\]\.raw_data\.contract\[0\]\.parameter\.value\.amount is not a non-negative integer amount/,
    );
  });

  it('refuses a block whose blockID does not start with its number', async () => {
    const liar = await w.serve({
      rewrite: (path, answer) =>
        path.endsWith('getnowblock') ? { ...(answer as object), blockID: 'ff'.repeat(32) } : answer,
    });
    const err = await failure(connect([liar.url]).head());
    expect(err!.message).toContain('does not start with block number');
  });

  it('reads more than 100 blocks in requests of at most blocksPerRequest (java-tron caps at 100)', async () => {
    await w.node.produceMany(230);
    const r = connect([w.server.url], { blocksPerRequest: 100 });
    const before = w.server.requests.get('/walletsolidity/getblockbylimitnext') ?? 0;
    const read = await r.readRange(1, 230);
    expect(read.blocks.map((b) => b.number)).toEqual(Array.from({ length: 230 }, (_, i) => i + 1));
    expect((w.server.requests.get('/walletsolidity/getblockbylimitnext') ?? 0) - before).toBe(3);
  });

  it('refuses a JSON-RPC endpoint that lags the range (its logs could be missing) or is on another chain', async () => {
    const lagging = await w.serve({ jsonRpcLagBlocks: w.node.fullHead - last + 1 });
    const err = await failure(connect([w.server.url], { jsonRpc: [`${lagging.url}/jsonrpc`] }).readRange(first, last));
    expect(err).toBeInstanceOf(ChainReadError);
    expect(err!.message).toContain('eth_getBlockByNumber');

    const other = new TronNode({ genesisSeed: 'another chain' });
    await other.produceMany(last);
    const s = await serveTron(other);
    try {
      const e2 = await failure(connect([w.server.url], { jsonRpc: [`${s.url}/jsonrpc`] }).readRange(first, last));
      expect(e2!.message).toContain("the HTTP API's solidified block");
    } finally {
      await s.close();
    }
  });

  it('refuses transaction info that contradicts the block (SUCCESS in the block, REVERT in the info)', async () => {
    const usdtCall = await w.node.call(w.hot, w.usdt.address, 'transfer(address,uint256)', [
      { type: 'address', value: w.hot.address },
      { type: 'uint256', value: '1' },
    ]);
    const n = await w.node.produce();
    const liar = await w.serve({
      rewrite: (path, answer) =>
        path.endsWith('gettransactioninfobyblocknum')
          ? (answer as { id: string }[]).map((i) => (i.id === usdtCall ? { ...i, receipt: { result: 'REVERT' } } : i))
          : answer,
    });
    const err = await failure(connect([liar.url]).readRange(n, n));
    expect(err).toBeInstanceOf(ChainReadError);
    expect(err!.message).toContain(`transaction ${usdtCall}: block says SUCCESS, its info says REVERT`);
  });
});

describe('TronChainReader head cross-check', () => {
  let w: TronWorld;
  beforeAll(async () => {
    w = await startTronWorld();
    await w.node.produceMany(40);
  });
  afterAll(async () => {
    await w.stop();
  });

  const connect = (http: string[]) =>
    tronReader({
      http,
      genesisBlockId: w.node.genesisBlockId,
      hotWallets: [w.hot.address],
      rpcCrossCheckEveryPolls: 1,
    });

  it('does not read from an endpoint lagging the best solidified head by more than rpcMaxLagBlocks', async () => {
    const lagging = await w.serve({ lagBlocks: 30 });
    const r = connect([lagging.url, w.server.url]);
    expect(await r.head()).toBe(w.node.solidHead);
    const err = await connect([lagging.url])
      .readRange(w.node.solidHead, w.node.solidHead)
      .catch((e: Error) => e);
    expect(err).toBeInstanceOf(ChainReadError);
  });

  it('suspends the minority endpoint on another fork; with no majority it throws until they agree', async () => {
    const fork = new TronNode({ genesisSeed: 'hot-wallet-breaker' });
    expect(fork.genesisBlockId).toBe(w.node.genesisBlockId);
    await fork.produceMany(40);
    const forked = await serveTron(fork);
    const twin = await w.serve();
    try {
      const majority = connect([forked.url, w.server.url, twin.url]);
      expect(await majority.head()).toBe(w.node.solidHead);
      const read = await majority.readRange(w.node.solidHead, w.node.solidHead);
      expect(read.blocks[0]!.hash).toBe(w.node.blocks[w.node.solidHead]!.block.blockID);

      const err = await connect([forked.url, w.server.url])
        .head()
        .catch((e: Error) => e);
      expect(err).toBeInstanceOf(ChainReadError);
      expect((err as Error).message).toContain('disagree on solidified block');
    } finally {
      await forked.close();
    }
  });
});
