import { Interface, parseEther, parseUnits } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvmChainReader } from '../../../functions/adapters/evm/evm-chain-reader.ts';
import { isBreakerError } from '../../../functions/core/errors.ts';
import { type ChainTransfer, outflowId } from '../../../functions/core/model.ts';
import { Disperse, ForwardingWallet } from '../../../functions/local/contracts/artifacts.ts';
import {
  type Anvil,
  deploy,
  deployDisperse,
  deployRevertOnReceive,
  deployTestToken,
  startAnvil,
} from '../../support/anvil.ts';
import { type FaultServer, startFaultServer } from './fault-server.ts';
import {
  approveData,
  evmChainConfig,
  lower,
  mineBlockWith,
  mintData,
  receipt,
  transferData,
  transferFromData,
} from './fixtures.ts';

const walletAbi = new Interface(ForwardingWallet.abi);
const disperseAbi = new Interface(Disperse.abi);

let anvil: Anvil;
let blocksReader: EvmChainReader;
let tracesReader: EvmChainReader;
let hot1: string;
let hot2: string;
/** The contract hot wallet; `owner` signs its transactions (and is not a hot wallet itself). */
let wallet: string;
let owner: string;
let outsider: string;
let spender: string;
let recipients: string[];
let usdt: string;
let refuser: string;
let disperse: string;
const servers: FaultServer[] = [];

function readerFor(nativeSource: 'blocks' | 'traces', rpc = anvil.url, maxAttempts?: number): EvmChainReader {
  return new EvmChainReader(
    evmChainConfig({
      rpc: [rpc],
      hotWallets: [hot1, hot2, wallet],
      tokens: [{ symbol: 'USDT', contract: usdt, decimals: 6 }],
      nativeSource,
    }),
    maxAttempts === undefined ? {} : { maxAttempts },
  );
}

beforeAll(async () => {
  anvil = await startAnvil();
  const a = anvil.accounts.map((w) => w.address);
  [hot1, hot2, outsider, owner, spender] = [a[1]!, a[2]!, a[3]!, a[4]!, a[5]!];
  recipients = a.slice(6);
  usdt = await (await deployTestToken(anvil, { symbol: 'USDT', decimals: 6 })).getAddress();
  refuser = await (await deployRevertOnReceive(anvil)).getAddress();
  disperse = await (await deployDisperse(anvil)).getAddress();
  wallet = await (await deploy(anvil, ForwardingWallet, [], anvil.accounts[4]!)).getAddress();
  await mineBlockWith(anvil, [
    ...[hot1, hot2, outsider].map((holder) => ({
      from: a[0]!,
      to: usdt,
      data: mintData(holder, parseUnits('1000000', 6)),
    })),
    { from: a[0]!, to: wallet, value: parseEther('100') },
  ]);
  blocksReader = readerFor('blocks');
  tracesReader = readerFor('traces');
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await anvil?.stop();
});

async function readBoth(block: number): Promise<{ blocks: ChainTransfer[]; traces: ChainTransfer[] }> {
  const [b, t] = await Promise.all([blocksReader.readRange(block, block), tracesReader.readRange(block, block)]);
  expect(t.blocks).toEqual(b.blocks);
  return { blocks: b.transfers, traces: t.transfers };
}

const withoutFee = ({ fee: _fee, ...rest }: ChainTransfer): ChainTransfer => rest;

describe('EvmChainReader with nativeSource: traces, on anvil', () => {
  it('finds the same outflows as blocks mode on mixed traffic (fees aside: traces mode reads no receipts)', async () => {
    await mineBlockWith(anvil, [{ from: hot1, to: usdt, data: approveData(spender, parseUnits('500', 6)) }]);
    const { block, hashes } = await mineBlockWith(anvil, [
      { from: hot1, to: recipients[0]!, value: parseEther('1.5') },
      { from: hot2, to: usdt, data: transferData(recipients[1]!, parseUnits('250', 6)) },
      { from: hot1, to: refuser, value: parseEther('7'), gas: 100_000 },
      { from: spender, to: usdt, data: transferFromData(hot1, outsider, parseUnits('500', 6)) },
      { from: outsider, to: hot1, value: parseEther('3') },
      { from: outsider, to: usdt, data: transferData(hot2, parseUnits('9', 6)) },
      { from: outsider, to: recipients[2]!, value: parseEther('4') },
      {
        from: hot2,
        to: disperse,
        value: parseEther('3'),
        data: disperseAbi.encodeFunctionData('disperseEther', [
          recipients.slice(0, 2),
          [parseEther('1'), parseEther('2')],
        ]),
      },
      { from: hot2, to: recipients[3]!, value: parseEther('0.25') },
    ]);
    expect((await receipt(anvil, hashes[2]!)).status).toBe('0x0');

    const { blocks, traces } = await readBoth(block);
    expect(traces).toEqual(blocks.map(withoutFee));
    expect(traces.map((t) => [t.txHash, t.index, t.contract, t.from, t.to, t.amount])).toEqual([
      [hashes[0], null, null, lower(hot1), lower(recipients[0]!), parseEther('1.5')],
      [hashes[1], 0, lower(usdt), lower(hot2), lower(recipients[1]!), parseUnits('250', 6)],
      [hashes[3], 1, lower(usdt), lower(hot1), lower(outsider), parseUnits('500', 6)],
      // Disperse's own payouts are internal calls from Disperse, not from the hot wallet.
      [hashes[7], null, null, lower(hot2), lower(disperse), parseEther('3')],
      [hashes[8], null, null, lower(hot2), lower(recipients[3]!), parseEther('0.25')],
    ]);
  });

  it('counts native value a CONTRACT hot wallet moves by internal calls, with stable ids (blocks mode cannot see it)', async () => {
    const { block, hashes } = await mineBlockWith(anvil, [
      {
        from: owner,
        to: wallet,
        data: walletAbi.encodeFunctionData('send', [recipients.slice(0, 2), [parseEther('1'), parseEther('2')]]),
      },
    ]);
    const trace = await anvil.rpc<{ traceAddress: number[] }[]>('trace_transaction', [hashes[0]]);
    expect(trace.map((t) => t.traceAddress)).toEqual([[], [0], [1]]);

    const { blocks, traces } = await readBoth(block);
    expect(blocks).toEqual([]);
    expect(traces.map((t) => [t.txHash, t.index, t.contract, t.from, t.to, t.amount])).toEqual([
      [hashes[0], -2, null, lower(wallet), lower(recipients[0]!), parseEther('1')],
      [hashes[0], -3, null, lower(wallet), lower(recipients[1]!), parseEther('2')],
    ]);
    const ids = traces.map((t) => outflowId(t.chain, t.txHash, t.index));
    expect(new Set(ids).size).toBe(2);
    const again = await readerFor('traces').readRange(block, block);
    expect(again.transfers.map((t) => outflowId(t.chain, t.txHash, t.index))).toEqual(ids);
  });

  it('does not count an internal send undone by a revert above it, nor an inner call that failed', async () => {
    const { block, hashes } = await mineBlockWith(anvil, [
      {
        from: owner,
        to: wallet,
        data: walletAbi.encodeFunctionData('sendThenRevert', [recipients[0]!, parseEther('3')]),
      },
      { from: owner, to: wallet, data: walletAbi.encodeFunctionData('trySend', [refuser, parseEther('4')]) },
      { from: owner, to: wallet, data: walletAbi.encodeFunctionData('trySend', [recipients[1]!, parseEther('5')]) },
    ]);
    expect((await receipt(anvil, hashes[0]!)).status).toBe('0x0');
    expect((await receipt(anvil, hashes[1]!)).status).toBe('0x1');
    // The undone send itself carries no error: only its reverted parent, which trace_filter does not return.
    const filtered = await anvil.rpc<{ transactionHash: string; error?: string }[]>('trace_filter', [
      { fromBlock: `0x${block.toString(16)}`, toBlock: `0x${block.toString(16)}`, fromAddress: [lower(wallet)] },
    ]);
    expect(filtered.find((t) => t.transactionHash === hashes[0])?.error).toBeUndefined();

    const { traces } = await readBoth(block);
    expect(traces.map((t) => [t.txHash, t.index, t.to, t.amount])).toEqual([
      [hashes[2], -2, lower(recipients[1]!), parseEther('5')],
    ]);
  });

  it('reads a 200-block range with a native send in every block in ≤ 1.1 JSON-RPC calls per block', async () => {
    const first = (await anvil.provider.getBlockNumber()) + 1;
    // One block per send, mined explicitly: under automine anvil answers eth_sendTransaction before
    // the block it mines is visible, so a head read right after the last send could be one short.
    let last = first - 1;
    for (let i = 0; i < 200; i++) {
      const to = recipients[i % recipients.length]!;
      ({ block: last } = await mineBlockWith(anvil, [{ from: hot1, to, value: BigInt(i + 1) }]));
    }
    expect(last).toBe(first + 199);
    const reader = readerFor('traces');
    const head = await reader.head();
    expect(head).toBe(last);
    const transfers: ChainTransfer[] = [];
    for (let from = first; from <= last; from += 100) {
      transfers.push(...(await reader.readRange(from, from + 99)).transfers);
    }
    const { rpcCalls, httpRequests } = reader.counters();
    expect(transfers.map((t) => t.amount)).toEqual(Array.from({ length: 200 }, (_, i) => BigInt(i + 1)));
    // head + chain-id probe + per 100 blocks: 100 headers, eth_getLogs, trace_filter.
    expect(rpcCalls / 200).toBeLessThanOrEqual(1.1);
    expect(rpcCalls).toBe(2 + 2 * 102);
    expect(httpRequests).toBeLessThanOrEqual(5);
  });

  it('fails loudly, naming the fix, on an endpoint without trace_filter (no silent fallback)', async () => {
    const noTraces = await startFaultServer(async (messages, forward) => {
      const answers = await forward(messages.filter((m) => !m.method.startsWith('trace_')));
      return {
        body: messages.map(
          (m) =>
            answers.find((r) => r.id === m.id) ?? {
              jsonrpc: '2.0',
              id: m.id,
              error: { code: -32601, message: `the method ${m.method} does not exist/is not available` },
            },
        ),
      };
    }, anvil.url);
    servers.push(noTraces);
    const head = await anvil.provider.getBlockNumber();

    const error = await readerFor('traces', noTraces.url, 1)
      .readRange(head, head)
      .catch((e: unknown) => e);
    expect(isBreakerError(error, 'CHAIN_READ')).toBe(true);
    expect((error as Error).message).toContain(
      'nativeSource: traces needs trace_filter (Erigon, Reth, Nethermind, anvil); use nativeSource: blocks',
    );
    expect((await readerFor('blocks', noTraces.url).readRange(head, head)).blocks).toHaveLength(1);
  });
});
