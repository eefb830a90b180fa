/**
 * Catch-up throughput of EvmChainReader on anvil over loopback, against a naive ethers reader
 * (JsonRpcProvider: getBlock with transactions + one receipt per transaction). A benchmark, not a
 * test: `npx tsx test/adapters/evm/reader-throughput.ts [blocks] [nativeEvery]`, or import `measureReaderThroughput`.
 */
import { pathToFileURL } from 'node:url';
import { JsonRpcProvider, parseUnits } from 'ethers';
import { EvmChainReader } from '../../../functions/adapters/evm/evm-chain-reader.ts';
import { type Anvil, deployTestToken, startAnvil } from '../../support/anvil.ts';
import { evmChainConfig, mineBlockWith, mintData, transferData } from './fixtures.ts';

export interface ThroughputResult {
  blocks: number;
  transfersPerBlock: number;
  /** Blocks per second, EvmChainReader polling `pollSize` blocks at a time (head() + readRange). */
  readerBlocksPerSecond: number;
  rpcCallsPerBlock: number;
  httpRequestsPerBlock: number;
  /** Blocks per second of the naive ethers reader (measured on at most `baselineBlocks`). */
  baselineBlocksPerSecond: number;
  speedup: number;
}

export interface ThroughputOptions {
  /** @default 1000 */
  readonly blocks?: number;
  /** Blocks per poll, as maxBlocksPerPoll. @default 100 */
  readonly pollSize?: number;
  /** @default 100 */
  readonly rpcBatchSize?: number;
  /** @default 300 */
  readonly baselineBlocks?: number;
  /**
   * A hot wallet sends native coin in every `nativeEvery`-th block (1: every block, the worst case for
   * calls per block, as each such block needs its receipts). @default 1
   */
  readonly nativeEvery?: number;
}

export async function measureReaderThroughput(options: ThroughputOptions = {}): Promise<ThroughputResult> {
  const blocks = options.blocks ?? 1000;
  const pollSize = options.pollSize ?? 100;
  const anvil = await startAnvil();
  try {
    const { first, last, hot, transfers } = await buildTransferChain(anvil, blocks, options.nativeEvery ?? 1);

    const reader = new EvmChainReader(
      evmChainConfig({ rpc: [anvil.url], hotWallets: hot, rpcBatchSize: options.rpcBatchSize ?? 100 }),
    );
    const started = performance.now();
    let found = 0;
    for (let from = first; from <= last; from += pollSize) {
      const head = await reader.head();
      const read = await reader.readRange(from, Math.min(from + pollSize - 1, last, head));
      found += read.transfers.length;
    }
    const readerSeconds = (performance.now() - started) / 1000;
    if (found !== transfers(first, last))
      throw new Error(`read ${found} transfers, expected ${transfers(first, last)}`);
    const counters = reader.counters();

    const baselineBlocks = Math.min(blocks, options.baselineBlocks ?? 300);
    const baselineLast = first + baselineBlocks - 1;
    const baselineSeconds = await naiveEthersRead(anvil.url, first, baselineLast, hot, transfers(first, baselineLast));

    const readerBlocksPerSecond = blocks / readerSeconds;
    const baselineBlocksPerSecond = baselineBlocks / baselineSeconds;
    return {
      blocks,
      transfersPerBlock: transfers(first, last) / blocks,
      readerBlocksPerSecond,
      rpcCallsPerBlock: counters.rpcCalls / blocks,
      httpRequestsPerBlock: counters.httpRequests / blocks,
      baselineBlocksPerSecond,
      speedup: readerBlocksPerSecond / baselineBlocksPerSecond,
    };
  } finally {
    await anvil.stop();
  }
}

/**
 * Each block: two token transfers out of hot wallets, a native send out of a hot wallet in every
 * `nativeEvery`-th block (counted), a deposit into a hot wallet and a transfer between other accounts
 * (not counted). Returns the blocks built, the hot wallets and how many counted transfers a range holds.
 */
export async function buildTransferChain(anvil: Anvil, blocks: number, nativeEvery: number) {
  const [deployer, hot1, hot2, user1, user2] = anvil.accounts.map((w) => w.address) as [
    string,
    string,
    string,
    string,
    string,
  ];
  const token = await (await deployTestToken(anvil, { symbol: 'USDT', decimals: 6 })).getAddress();
  await mineBlockWith(
    anvil,
    [hot1, hot2, user1]
      .map((to) => ({ from: deployer, to, data: mintData(to, parseUnits('1000000000', 6)) }))
      .map((t) => ({ ...t, to: token })),
  );
  await anvil.setAutomine(false);
  const nonces = new Map<string, number>();
  for (const a of [hot1, hot2, user1, user2]) {
    nonces.set(a, Number(await anvil.rpc<string>('eth_getTransactionCount', [a, 'pending'])));
  }
  const send = (from: string, to: string, value: bigint, data = '0x') => {
    const nonce = nonces.get(from)!;
    nonces.set(from, nonce + 1);
    const gas = data === '0x' ? 21_000 : 80_000;
    return {
      method: 'eth_sendTransaction',
      params: [
        {
          from,
          to,
          value: `0x${value.toString(16)}`,
          data,
          gas: `0x${gas.toString(16)}`,
          nonce: `0x${nonce.toString(16)}`,
        },
      ],
    };
  };
  const first = (await anvil.provider.getBlockNumber()) + 1;
  for (let i = 0; i < blocks; i++) {
    const calls = [
      ...(i % nativeEvery === 0 ? [send(hot1, user2, 1_000_000_000n + BigInt(i))] : []),
      send(hot1, token, 0n, transferData(user2, 1000n + BigInt(i))),
      send(hot2, token, 0n, transferData(user1, 2000n + BigInt(i))),
      send(user1, token, 0n, transferData(hot1, 3000n)),
      send(user2, user1, 1n),
    ];
    await rawBatch(anvil.url, calls);
    await anvil.rpc('evm_mine');
  }
  await anvil.setAutomine(true);
  const transfers = (from: number, to: number) => {
    let n = 0;
    for (let b = from; b <= to; b++) n += (b - first) % nativeEvery === 0 ? 3 : 2;
    return n;
  };
  return { first, last: first + blocks - 1, hot: [hot1, hot2], transfers };
}

async function rawBatch(url: string, calls: { method: string; params: unknown[] }[]): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(calls.map((c, id) => ({ jsonrpc: '2.0', id, ...c }))),
  });
  const answers = (await response.json()) as { error?: { message: string } }[];
  const failed = answers.find((a) => a.error);
  if (failed) throw new Error(`anvil refused a transaction: ${failed.error!.message}`);
}

/** What a first attempt with ethers looks like: every block with its transactions, every receipt. */
async function naiveEthersRead(
  url: string,
  from: number,
  to: number,
  hot: string[],
  expected: number,
): Promise<number> {
  const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, cacheTimeout: -1 });
  const hotSet = new Set(hot.map((h) => h.toLowerCase()));
  const transferTopic = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';
  const started = performance.now();
  let found = 0;
  for (let n = from; n <= to; n++) {
    const block = (await provider.getBlock(n, true))!;
    const receipts = await Promise.all(
      block.prefetchedTransactions.map((tx) => provider.getTransactionReceipt(tx.hash)),
    );
    block.prefetchedTransactions.forEach((tx, i) => {
      const receipt = receipts[i]!;
      if (receipt.status !== 1) return;
      if (hotSet.has(tx.from.toLowerCase()) && tx.value > 0n) found++;
      for (const log of receipt.logs) {
        if (log.topics.length === 3 && log.topics[0] === transferTopic && hotSet.has(`0x${log.topics[1]!.slice(26)}`))
          found++;
      }
    });
  }
  const seconds = (performance.now() - started) / 1000;
  provider.destroy();
  if (found !== expected) throw new Error(`baseline read ${found} transfers, expected ${expected}`);
  return seconds;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const blocks = Number(process.argv[2] ?? 1000);
  const nativeEvery = Number(process.argv[3] ?? 1);
  const result = await measureReaderThroughput({ blocks, nativeEvery });
  console.log(JSON.stringify(result, null, 2));
}
