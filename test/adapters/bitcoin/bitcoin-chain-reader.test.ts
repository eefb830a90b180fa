import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BitcoinChainReader } from '../../../functions/adapters/bitcoin/bitcoin-chain-reader.ts';
import { isBreakerError } from '../../../functions/core/errors.ts';
import type { ChainTransfer } from '../../../functions/core/model.ts';
import { BitcoinTestNode, type TestWallet, testWallet, type Utxo } from '../../support/bitcoin-node.ts';
import { type BitcoinChainInput, bitcoinChainConfig, bitcoinReader } from './helpers.ts';

/** The same scenarios through every way the reader can get blocks. */
const APIS = [
  { name: 'Core v25 (getblock verbosity 3)', use: 'rpc', coreVersion: 250000 },
  { name: 'Core v22 (verbosity 2 + getrawtransaction)', use: 'rpc', coreVersion: 220000 },
  { name: 'Core v0.21 (scriptPubKey.addresses)', use: 'rpc', coreVersion: 210000 },
  { name: 'Esplora', use: 'esplora', coreVersion: 250000 },
] as const;

const BTC = 100_000_000n;

const hotA = testWallet('hot-a', 'p2wpkh');
const hotB = testWallet('hot-b', 'p2tr');
const hotC = testWallet('hot-c', 'p2pkh');
const hotD = testWallet('hot-d', 'p2sh-p2wpkh');
const cold = testWallet('cold', 'p2wpkh');
const payees = [1, 2, 3, 4, 5].map((i) => testWallet(`payee-${i}`, i % 2 ? 'p2wpkh' : 'p2pkh'));
const [payee1, payee2] = payees as [TestWallet, TestWallet];
const HOT = [hotA, hotB, hotC, hotD].map((w) => w.address);

describe.each(APIS)('BitcoinChainReader through $name', (api) => {
  let node: BitcoinTestNode;
  let reader: BitcoinChainReader;

  const connect = (input: Omit<BitcoinChainInput, 'rpc' | 'esplora'>) =>
    bitcoinReader({ ...input, ...(api.use === 'rpc' ? { rpc: [node.rpcUrl] } : { esplora: [node.esploraUrl] }) });

  /** Mine a block paying each wallet `value` from the coinbase; returns their outputs. */
  function fund(wallets: TestWallet[], value: bigint): Utxo[] {
    const mined = node.mine({ coinbase: wallets.map((w) => ({ to: w.address, value })) });
    const coinbase = mined.txids[0] as string;
    return wallets.map((w, vout) => ({ txid: coinbase, vout, value, script: w.output }));
  }

  async function readBlock(height: number): Promise<ChainTransfer[]> {
    const read = await reader.readRange(height, height);
    expect(read.blocks.map((b) => b.hash)).toEqual([node.blockHashAt(height)]);
    return read.transfers;
  }

  beforeEach(async () => {
    node = new BitcoinTestNode({ coreVersion: api.coreVersion });
    await node.start();
    reader = connect({ hotWallets: HOT, ownAddresses: [cold.address] });
  });

  afterEach(async () => {
    await node.stop();
  });

  it('counts a spend from two hot addresses of different script types once, without the change', async () => {
    const [a, b] = fund([hotA, hotB], 2n * BTC);
    const tx = node.createTx(
      [
        { utxo: a as Utxo, wallet: hotA },
        { utxo: b as Utxo, wallet: hotB },
      ],
      [
        { to: payee1.address, value: 3n * BTC },
        { to: hotA.address, value: BTC - 10_000n },
      ],
    );
    node.broadcast(tx);
    const block = node.mine({ time: 1_700_003_000 });

    expect(await readBlock(block.height)).toEqual([
      {
        chain: 'btc',
        block: block.height,
        blockHash: block.hash,
        blockTime: 1_700_003_000,
        txHash: tx.getId(),
        index: 0,
        contract: null,
        from: hotA.address,
        to: payee1.address,
        amount: 3n * BTC,
        fee: 10_000n,
      },
    ]);
  });

  it('recognises hot wallets of every standard script type, change to another hot wallet included', async () => {
    const utxos = fund([hotC, hotD, hotA, hotB], BTC);
    const txs = [hotC, hotD, hotA, hotB].map((wallet, i) =>
      node.createTx(
        [{ utxo: utxos[i] as Utxo, wallet }],
        [
          { to: payee2.address, value: 40_000_000n + BigInt(i) },
          { to: HOT[(i + 1) % 4] as string, value: 59_990_000n - BigInt(i) },
        ],
      ),
    );
    for (const tx of txs) node.broadcast(tx);
    const block = node.mine();

    const transfers = await readBlock(block.height);
    expect(transfers.map((t) => [t.txHash, t.from, t.to, t.amount, t.fee])).toEqual(
      [hotC, hotD, hotA, hotB].map((w, i) => [
        (txs[i] as { getId(): string }).getId(),
        w.address,
        payee2.address,
        40_000_000n + BigInt(i),
        10_000n,
      ]),
    );
  });

  it('emits a sweep to an own (cold) address, which the core then marks own', async () => {
    const [utxo] = fund([hotA], 5n * BTC);
    const tx = node.createTx([{ utxo: utxo as Utxo, wallet: hotA }], [{ to: cold.address, value: 5n * BTC - 2_000n }]);
    node.broadcast(tx);
    const block = node.mine();

    const transfers = await readBlock(block.height);
    expect(transfers).toMatchObject([
      { txHash: tx.getId(), index: 0, to: cold.address, amount: 5n * BTC - 2_000n, fee: 2_000n },
    ]);
    const config = bitcoinChainConfig({ hotWallets: HOT, ownAddresses: [cold.address], rpc: [node.rpcUrl] });
    expect(config.ownAddresses.has((transfers[0] as ChainTransfer).to)).toBe(true);
  });

  it('lists each destination of a batch payout, the fee on the first only', async () => {
    const [utxo] = fund([hotA], 20n * BTC);
    const tx = node.createTx(
      [{ utxo: utxo as Utxo, wallet: hotA }],
      [
        ...payees.map((p, i) => ({ to: p.address, value: BigInt(i + 1) * BTC })),
        { to: hotA.address, value: 5n * BTC - 7_500n },
      ],
    );
    node.broadcast(tx);
    const block = node.mine();

    const transfers = await readBlock(block.height);
    expect(transfers.map((t) => [t.index, t.to, t.amount, t.fee])).toEqual(
      payees.map((p, i) => [i, p.address, BigInt(i + 1) * BTC, i === 0 ? 7_500n : undefined]),
    );
    expect(new Set(transfers.map((t) => t.txHash))).toEqual(new Set([tx.getId()]));
  });

  it('counts only the mined version of a transaction replaced by fee (RBF)', async () => {
    const [utxo] = fund([hotA], BTC);
    const original = node.createTx(
      [{ utxo: utxo as Utxo, wallet: hotA }],
      [
        { to: payee1.address, value: BTC / 2n },
        { to: hotA.address, value: BTC / 2n - 1_000n },
      ],
      { rbf: true },
    );
    const replacement = node.createTx(
      [{ utxo: utxo as Utxo, wallet: hotA }],
      [
        { to: payee2.address, value: BTC / 2n },
        { to: hotA.address, value: BTC / 2n - 5_000n },
      ],
    );
    node.broadcast(original);
    node.broadcast(replacement);
    expect(node.mempoolTxids()).toEqual([replacement.getId()]);
    const block = node.mine();

    const transfers = await readBlock(block.height);
    expect(transfers).toMatchObject([
      { txHash: replacement.getId(), to: payee2.address, amount: BTC / 2n, fee: 5_000n },
    ]);
    expect(transfers.some((t) => t.txHash === original.getId())).toBe(false);
  });

  it('returns the new block hashes after a reorg, and the outflow where it is mined again', async () => {
    const [utxo] = fund([hotA], BTC);
    const tx = node.createTx([{ utxo: utxo as Utxo, wallet: hotA }], [{ to: payee1.address, value: BTC - 1_000n }]);
    node.broadcast(tx);
    const first = node.mine();
    const before = await reader.readRange(first.height, first.height);
    expect(before.transfers.map((t) => t.txHash)).toEqual([tx.getId()]);

    const { disconnected, mined } = node.reorg(1, [{ txs: [] }, { txs: [] }]);
    expect(disconnected).toEqual([first.hash]);
    const after = await reader.readRange(first.height, first.height + 1);
    expect(after.blocks.map((b) => b.hash)).toEqual(mined.map((m) => m.hash));
    expect(after.blocks[0]?.hash).not.toBe(first.hash);
    expect(after.blocks[1]?.parentHash).toBe(after.blocks[0]?.hash);
    expect(after.transfers).toEqual([]);
    expect(await reader.blockRefs([first.height])).toMatchObject([{ number: first.height, hash: mined[0]?.hash }]);

    const again = node.mine();
    expect(await readBlock(again.height)).toMatchObject([
      { txHash: tx.getId(), blockHash: again.hash, block: again.height },
    ]);
  });

  it('reads amounts exactly, from 1 sat to 19,999,999.99999999 BTC', async () => {
    const [utxo] = fund([hotA], 21_000_000n * BTC);
    const amounts = [1n, 29_000_000n, 1_999_999_999_999_999n];
    const tx = node.createTx(
      [{ utxo: utxo as Utxo, wallet: hotA }],
      [
        ...amounts.map((value, i) => ({ to: (payees[i] as TestWallet).address, value })),
        { to: hotA.address, value: 21_000_000n * BTC - amounts.reduce((a, b) => a + b) - 333n },
      ],
    );
    node.broadcast(tx);
    const block = node.mine();

    const transfers = await readBlock(block.height);
    expect(transfers.map((t) => t.amount)).toEqual(amounts);
    expect(transfers[0]?.fee).toBe(333n);
  });

  it('attributes a coinjoin at most the hot input minus its change', async () => {
    const foreign = testWallet('coinjoin-peer', 'p2wpkh');
    const [mine, theirs] = fund([hotA, foreign], 2n * BTC);
    const tx = node.createTx(
      [
        { utxo: mine as Utxo, wallet: hotA },
        { utxo: theirs as Utxo, wallet: foreign },
      ],
      [
        { to: payee1.address, value: BTC },
        { to: foreign.address, value: BTC },
        { to: payee2.address, value: BTC },
        { to: hotA.address, value: BTC - 20_000n },
      ],
    );
    node.broadcast(tx);
    const block = node.mine();

    const transfers = await readBlock(block.height);
    expect(transfers.reduce((sum, t) => sum + t.amount, 0n)).toBe(2n * BTC - (BTC - 20_000n));
    expect(transfers.map((t) => [t.index, t.amount])).toEqual([
      [0, BTC],
      [1, 20_000n],
    ]);
  });

  it('does not count coinbase rewards or payments into a hot wallet', async () => {
    const [utxo] = fund([cold], BTC);
    const tx = node.createTx([{ utxo: utxo as Utxo, wallet: cold }], [{ to: hotA.address, value: BTC - 1_000n }]);
    node.broadcast(tx);
    const block = node.mine({ coinbase: [{ to: hotB.address, value: 50n * BTC }] });
    expect(await readBlock(block.height)).toEqual([]);
  });

  it('reads a range: blocks ascending and linked, transfers of every block', async () => {
    const [a, b] = fund([hotA, hotB], BTC);
    const start = node.height + 1;
    node.broadcast(node.createTx([{ utxo: a as Utxo, wallet: hotA }], [{ to: payee1.address, value: BTC - 1_000n }]));
    node.mine();
    node.mine({ txs: [] });
    node.broadcast(node.createTx([{ utxo: b as Utxo, wallet: hotB }], [{ to: payee2.address, value: BTC - 1_000n }]));
    node.mine();

    const read = await reader.readRange(start, start + 2);
    expect(read.blocks.map((r) => r.number)).toEqual([start, start + 1, start + 2]);
    expect(read.blocks.map((r) => r.hash)).toEqual([0, 1, 2].map((i) => node.blockHashAt(start + i)));
    expect(read.blocks[0]?.parentHash).toBe(node.blockHashAt(start - 1));
    expect(read.blocks[2]?.parentHash).toBe(read.blocks[1]?.hash);
    expect(read.transfers.map((t) => [t.block, t.to])).toEqual([
      [start, payee1.address],
      [start + 2, payee2.address],
    ]);
  });

  it('reports the head and the headers asked for, in any order', async () => {
    node.mine();
    node.mine();
    node.mine({ time: 1_800_000_000 });
    expect(await reader.head()).toBe(3);
    const refs = await reader.blockRefs([3, 0, 2]);
    expect(refs).toEqual([
      { number: 3, hash: node.blockHashAt(3), parentHash: node.blockHashAt(2), time: 1_800_000_000 },
      { number: 0, hash: node.blockHashAt(0), parentHash: '0'.repeat(64), time: 1296688602 },
      { number: 2, hash: node.blockHashAt(2), parentHash: node.blockHashAt(1), time: 1_700_000_600 },
    ]);
  });

  it('fails with ChainReadError for heights past the tip', async () => {
    node.mine();
    const error = await reader.readRange(1, 5).catch((e: unknown) => e);
    expect(isBreakerError(error, 'CHAIN_READ')).toBe(true);
    expect((error as Error).message).toMatch(api.use === 'rpc' ? /Block height out of range/ : /404 Block not found/);
  });
});

describe('BitcoinChainReader on Core before v23 (no prevouts in getblock)', () => {
  let node: BitcoinTestNode;
  afterEach(async () => {
    await node.stop();
  });

  it('fetches missing prevouts in one getrawtransaction batch, skipping outputs created inside the range', async () => {
    node = new BitcoinTestNode({ coreVersion: 220000 });
    await node.start();
    const coinbaseA = node.mine({ coinbase: [{ to: hotA.address, value: BTC }] }).txids[0] as string;
    const coinbaseB = node.mine({ coinbase: [{ to: hotB.address, value: BTC }] }).txids[0] as string;
    const first = node.createTx(
      [
        { utxo: { txid: coinbaseA, vout: 0, value: BTC, script: hotA.output }, wallet: hotA },
        { utxo: { txid: coinbaseB, vout: 0, value: BTC, script: hotB.output }, wallet: hotB },
      ],
      [
        { to: payee1.address, value: BTC },
        { to: hotA.address, value: BTC - 2_000n },
      ],
    );
    node.broadcast(first);
    const h1 = node.mine();
    const second = node.createTx(
      [{ utxo: { txid: first.getId(), vout: 1, value: BTC - 2_000n, script: hotA.output }, wallet: hotA }],
      [{ to: payee2.address, value: BTC - 3_000n }],
    );
    node.broadcast(second);
    node.mine();
    const reader = bitcoinReader({ hotWallets: HOT, rpc: [node.rpcUrl] });

    node.requests.length = 0;
    const read = await reader.readRange(h1.height, h1.height + 1);
    expect(read.transfers.map((t) => [t.txHash, t.to, t.amount, t.fee])).toEqual([
      [first.getId(), payee1.address, BTC, 2_000n],
      [second.getId(), payee2.address, BTC - 3_000n, 1_000n],
    ]);
    // getblockhash 0 (network check), one getblockhash batch, two getblock, one getrawtransaction batch
    expect(reader.counters()).toMatchObject({ httpRequests: 5, rpcCalls: 7 });
    const lookups = node.requests.filter((r) => r.calls.includes('getrawtransaction'));
    expect(lookups).toHaveLength(1);
    expect(lookups[0]?.params).toEqual([
      [coinbaseA, true],
      [coinbaseB, true],
    ]);
  });

  it('explains that the fallback needs -txindex when the node has none', async () => {
    node = new BitcoinTestNode({ coreVersion: 220000, txindex: false });
    await node.start();
    const funded = node.mine({ coinbase: [{ to: hotA.address, value: BTC }] });
    node.broadcast(
      node.createTx(
        [{ utxo: { txid: funded.txids[0] as string, vout: 0, value: BTC, script: hotA.output }, wallet: hotA }],
        [{ to: payee1.address, value: BTC - 1_000n }],
      ),
    );
    const block = node.mine();
    const reader = bitcoinReader({ hotWallets: HOT, rpc: [node.rpcUrl] });
    await expect(reader.readRange(block.height, block.height)).rejects.toThrow(/-txindex=1/);
  });
});

describe('BitcoinChainReader when the chain moves during a read', () => {
  let node: BitcoinTestNode;
  beforeEach(async () => {
    node = new BitcoinTestNode();
    await node.start();
    node.mine();
    node.mine();
  });
  afterEach(async () => {
    await node.stop();
  });

  it('Esplora: a block whose parent is not the block read before it fails the read; a retry sees the new chain', async () => {
    const reader = bitcoinReader({ hotWallets: HOT, esplora: [node.esploraUrl] });
    let reorged = false;
    node.onRequest = (entry) => {
      if (!reorged && entry.calls[0] === '/block-height/2') {
        reorged = true;
        node.reorg(2, [{ txs: [] }, { txs: [] }]);
      }
    };
    const old1 = node.blockHashAt(1);
    await expect(reader.readRange(1, 2)).rejects.toThrow(
      /has parent .* not block 1 \(.*\): the chain changed during the read/,
    );
    const retry = await reader.readRange(1, 2);
    expect(retry.blocks[0]?.hash).not.toBe(old1);
    expect(retry.blocks[1]?.parentHash).toBe(retry.blocks[0]?.hash);
  });

  it('Core: a block that left the best chain between getblockhash and getblock fails the read', async () => {
    const reader = bitcoinReader({ hotWallets: HOT, rpc: [node.rpcUrl] });
    let reorged = false;
    node.onRequest = (entry) => {
      if (!reorged && entry.calls[0] === 'getblock') {
        reorged = true;
        node.reorg(2, [{ txs: [] }, { txs: [] }]);
      }
    };
    await expect(reader.readRange(1, 2)).rejects.toThrow(/left the best chain during the read/);
    expect((await reader.readRange(1, 2)).blocks.map((b) => b.hash)).toEqual([
      node.blockHashAt(1),
      node.blockHashAt(2),
    ]);
  });
});

describe('BitcoinChainReader over Esplora pages', () => {
  it('reads a block of 60 transactions from pages 0, 25 and 50', async () => {
    const node = new BitcoinTestNode();
    await node.start();
    try {
      const funded = node.mine({ coinbase: Array.from({ length: 59 }, () => ({ to: hotA.address, value: BTC })) });
      const txs = Array.from({ length: 59 }, (_, vout) =>
        node.createTx(
          [{ utxo: { txid: funded.txids[0] as string, vout, value: BTC, script: hotA.output }, wallet: hotA }],
          [{ to: payee1.address, value: BTC - BigInt(1_000 + vout) }],
        ),
      );
      for (const tx of txs) node.broadcast(tx);
      const block = node.mine();
      const reader = bitcoinReader({ hotWallets: HOT, esplora: [node.esploraUrl] });

      node.requests.length = 0;
      const read = await reader.readRange(block.height, block.height);
      expect(read.transfers.map((t) => t.txHash)).toEqual(txs.map((t) => t.getId()));
      const pages = node.requests.map((r) => r.calls[0]).filter((p) => p?.includes('/txs/'));
      expect(pages.sort()).toEqual([0, 25, 50].map((s) => `/block/${block.hash}/txs/${s}`));
      // genesis check, block-height, block, three pages
      expect(reader.counters()).toEqual({ httpRequests: 6, rpcCalls: 0, endpointFailures: 0 });
    } finally {
      await node.stop();
    }
  });
});
