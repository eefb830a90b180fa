/**
 * Tron catch-up benchmark: ≥ 2,000 blocks of traffic on the Tron stand-in (test/support/tron: tronweb-
 * signed transactions, TRC-20 calls executed on anvil), with ground truth, read by the TronChainReader
 * both ways (JSON-RPC eth_getLogs + candidate info, and info per block) and by the poller into dynalite.
 * Measures blocks/s, reader calls and HTTP requests per block, and exactness: outflows found must equal
 * outflows sent (id and amount), or the run fails.
 *
 *   npm run bench -- --only tron [--blocks 2000]   (writes its `## Tron` section into BENCHMARKS.md)
 */
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { tronAddressFromEvm } from '../../functions/adapters/tron/addresses.ts';
import { TronChainReader } from '../../functions/adapters/tron/tron-chain-reader.ts';
import type { ChainConfig } from '../../functions/core/config/types.ts';
import type { ChainTransfer } from '../../functions/core/model.ts';
import { pollOnce } from '../../functions/core/use-cases/poll-chain.ts';
import { deployTestToken, startAnvil } from '../support/anvil.ts';
import { startTestStore } from '../support/dynamo.ts';
import { initialiseForTest } from '../support/initialise.ts';
import { type TronKey, TronNode } from '../support/tron/tron-node.ts';
import { serveTron } from '../support/tron/tron-server.ts';
import { writeBenchPart } from './bench-part.ts';

export interface TronTrafficStats {
  blocks: number;
  transactions: number;
  outflows: number;
  revertedHotCalls: number;
  spenderTransferFroms: number;
  generationSeconds: number;
}

export interface TronReadRun {
  name: string;
  blocksPerSecond: number;
  callsPerBlock: number;
  httpRequestsPerBlock: number;
  found: number;
  missing: number;
  extra: number;
}

export interface TronCatchUpResults {
  traffic: TronTrafficStats;
  runs: TronReadRun[];
}

type Log = (message: string) => void;

interface Expected {
  id: string;
  amount: bigint;
}

/** A deterministic generator (mulberry32) so every run sends the same traffic. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function tronCatchUp(blocks: number, log: Log): Promise<TronCatchUpResults> {
  const anvil = await startAnvil();
  const node = new TronNode({ anvil, saveInternalTx: false });
  const server = await serveTron(node);
  const db = await startTestStore();
  try {
    const started = performance.now();
    const hot = [await node.key(), await node.key(), await node.key()];
    const others = [await node.key(), await node.key(), await node.key(), await node.key()];
    const spender = others[0] as TronKey;
    const token = await deployTestToken(anvil, { symbol: 'USDT', decimals: 6 });
    const usdt = tronAddressFromEvm(await token.getAddress());
    for (const k of [...hot, ...others]) await (await token.getFunction('mint')(k.evm.address, 10n ** 15n)).wait();
    await node.call(hot[0] as TronKey, usdt, 'approve(address,uint256)', [
      { type: 'address', value: spender.address },
      { type: 'uint256', value: (10n ** 15n).toString() },
    ]);
    const first = (await node.produce()) + 1;
    const expected: Expected[] = [];
    const stats = { transactions: 1, revertedHotCalls: 0, spenderTransferFroms: 0 };
    const rnd = random(17);
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)] as T;
    const amount = () => BigInt(1 + Math.floor(rnd() * 5_000_000_000));
    const transfer = (to: string, value: bigint) => [
      { type: 'address', value: to },
      { type: 'uint256', value: value.toString() },
    ];
    for (let b = 0; b < blocks; b++) {
      // Third-party traffic every block: what a real block is mostly made of.
      for (let i = 0; i < 2; i++) {
        const from = Math.floor(rnd() * others.length);
        const to = (from + 1 + Math.floor(rnd() * (others.length - 1))) % others.length;
        await node.sendTrx(others[from] as TronKey, (others[to] as TronKey).address, amount());
      }
      stats.transactions += 2;
      const r = rnd();
      if (r < 0.15) {
        const v = amount();
        expected.push({ id: `${await node.sendTrx(pick(hot), pick(others).address, v)}:native`, amount: v });
      } else if (r < 0.22) {
        const v = amount();
        expected.push({
          id: `${await node.sendToken(pick(hot), pick(others).address, v, '1002000')}:native`,
          amount: v,
        });
      } else if (r < 0.32) {
        const v = amount();
        expected.push({
          id: `${await node.call(pick(hot), usdt, 'transfer(address,uint256)', transfer(pick(others).address, v))}:0`,
          amount: v,
        });
      } else if (r < 0.34) {
        await node.call(pick(hot), usdt, 'transfer(address,uint256)', transfer(pick(others).address, 10n ** 20n));
        stats.revertedHotCalls++;
      } else if (r < 0.36) {
        const v = amount();
        const id = await node.call(spender, usdt, 'transferFrom(address,address,uint256)', [
          { type: 'address', value: (hot[0] as TronKey).address },
          ...transfer(spender.address, v),
        ]);
        expected.push({ id: `${id}:0`, amount: v });
        stats.spenderTransferFroms++;
      } else if (r < 0.4) {
        // A TRC-20 transfer between third parties: a log, not an outflow.
        await node.call(
          others[1] as TronKey,
          usdt,
          'transfer(address,uint256)',
          transfer((others[2] as TronKey).address, amount()),
        );
      }
      if (r < 0.4) stats.transactions++;
      await node.produce();
      if ((b + 1) % 500 === 0) log(`  tron: ${b + 1}/${blocks} blocks`);
    }
    const last = node.fullHead;
    const traffic = {
      blocks: last - first + 1,
      ...stats,
      outflows: expected.length,
      generationSeconds: (performance.now() - started) / 1000,
    };
    log(`  tron: ${traffic.blocks} blocks, ${traffic.transactions} transactions, ${traffic.outflows} outflows to find`);

    const compile = (jsonRpc: boolean) =>
      compileConfig(
        {
          name: 'tron-bench',
          chains: {
            trx: {
              kind: 'tron',
              http: [server.url],
              ...(jsonRpc && { jsonRpc: [`${server.url}/jsonrpc`] }),
              genesisBlockId: node.genesisBlockId,
              confirmations: 0,
              blockTimeSeconds: 3,
              maxBlocksPerPoll: 100,
              startBlock: first,
              hotWallets: hot.map((k) => k.address),
              native: { symbol: 'TRX', decimals: 6, usdPrice: 0.25 },
              tokens: [{ symbol: 'USDT', contract: usdt, decimals: 6, usdPrice: 1 }],
            },
          },
          // High enough never to trip: the bench measures reading and recording.
          limits: { global: { usd: { '1h': 1e12 } } },
        },
        'tron bench',
      );
    const chainConfig = (jsonRpc: boolean) => compile(jsonRpc).chains.get('trx') as ChainConfig;

    const runs: TronReadRun[] = [];
    for (const jsonRpc of [true, false]) {
      const name = `reader alone, ${jsonRpc ? 'JSON-RPC eth_getLogs + candidate info' : 'info per block (no JSON-RPC)'}, 100 blocks per read`;
      const reader = new TronChainReader(chainConfig(jsonRpc));
      const t0 = performance.now();
      const found: ChainTransfer[] = [];
      for (let from = first; from <= last; from += 100)
        found.push(...(await reader.readRange(from, Math.min(last, from + 99))).transfers);
      runs.push(
        measure(
          name,
          performance.now() - t0,
          traffic.blocks,
          reader,
          found.map((t) => ({ id: `${t.txHash}:${t.index ?? 'native'}`, amount: t.amount })),
          expected,
        ),
      );
      log(`  tron: ${name}: ${runs.at(-1)!.blocksPerSecond.toFixed(0)} blocks/s`);
    }

    await initialiseForTest(db.store);
    const config = compile(true);
    const chain = config.chains.get('trx') as ChainConfig;
    const reader = new TronChainReader(chain);
    const t0 = performance.now();
    for (let i = 0; i < 10 * Math.ceil(traffic.blocks / 100) + 10; i++) {
      const r = await pollOnce({
        config,
        chain,
        reader,
        store: db.store,
        publisher: { publish: async () => undefined },
        clock: { now: () => Date.now() },
        owner: 'bench',
      });
      if (r.result.kind === 'idle') break;
    }
    const recorded = await db.store.outflowsSince('trx', 0);
    runs.push(
      measure(
        'breaker (pollOnce + dynalite), JSON-RPC path, 100 blocks per poll',
        performance.now() - t0,
        traffic.blocks,
        reader,
        recorded.map((o) => ({ id: `${o.txHash}:${o.index ?? 'native'}`, amount: o.amount })),
        expected,
      ),
    );
    log(`  tron: breaker: ${runs.at(-1)!.blocksPerSecond.toFixed(0)} blocks/s`);
    for (const run of runs) {
      if (run.missing > 0 || run.extra > 0)
        throw new Error(`tron bench: ${run.name}: ${run.missing} missing, ${run.extra} extra`);
    }
    return { traffic, runs };
  } finally {
    await db.close();
    await server.close();
    await anvil.stop();
  }
}

function measure(
  name: string,
  ms: number,
  blocks: number,
  reader: TronChainReader,
  found: Expected[],
  expected: Expected[],
): TronReadRun {
  const want = new Map(expected.map((e) => [e.id, e.amount]));
  const got = new Map<string, bigint>();
  let extra = 0;
  for (const f of found) {
    if (got.has(f.id) || want.get(f.id) !== f.amount) extra++;
    got.set(f.id, f.amount);
  }
  const missing = expected.filter((e) => got.get(e.id) !== e.amount).length;
  const c = reader.counters();
  return {
    name,
    blocksPerSecond: blocks / (ms / 1000),
    callsPerBlock: c.rpcCalls / blocks,
    httpRequestsPerBlock: c.httpRequests / blocks,
    found: got.size,
    missing,
    extra,
  };
}

export function renderTron(r: TronCatchUpResults, measuredAt: string): string {
  const t = r.traffic;
  return [
    '## Tron',
    '',
    `Measured ${measuredAt} by \`npm run bench -- --only tron\` (test/bench/tron-catch-up.ts) on the Tron stand-in`,
    '(test/support/tron: tronweb-signed transactions, TRC-20 calls executed on anvil, served over loopback).',
    `Traffic: ${t.blocks} blocks, ${t.transactions} transactions (two third-party TRX transfers per block), ${t.outflows}`,
    `outflows from 3 hot wallets (TRX, TRC-10, TRC-20 incl. ${t.spenderTransferFroms} transferFrom by an approved spender),`,
    `${t.revertedHotCalls} reverted TRC-20 calls by hot wallets (must count nothing); generated in ${t.generationSeconds.toFixed(0)} s.`,
    '',
    '| run | blocks/s | reader calls / block | HTTP requests / block | outflows found | missing | extra |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...r.runs.map(
      (x) =>
        `| ${x.name} | ${x.blocksPerSecond.toFixed(0)} | ${x.callsPerBlock.toFixed(3)} | ${x.httpRequestsPerBlock.toFixed(3)} | ${x.found} | ${x.missing} | ${x.extra} |`,
    ),
    '',
    'Calls include the genesis pin (once per reader). "Reader calls" counts HTTP API calls and JSON-RPC calls;',
    'on the JSON-RPC path the eth_getBlockByNumber + eth_getLogs pair travels in one HTTP request per range.',
    '',
  ].join('\n');
}

/** `--only tron`: measure, then write the `## Tron` section at the end of BENCHMARKS.md (replacing an earlier one). */
export async function tronOnly(out: string, blocks: number, log: Log): Promise<void> {
  log(`tron catch-up: ${blocks} blocks on the Tron stand-in`);
  const results = await tronCatchUp(blocks, log);
  writeBenchPart(out, 'tron', renderTron(results, new Date().toISOString().slice(0, 10)));
  log('wrote the Tron section into BENCHMARKS.md');
}
