import { Interface, parseEther, parseUnits } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvmChainReader } from '../../../functions/adapters/evm/evm-chain-reader.ts';
import { addressTopic, TRANSFER_TOPIC } from '../../../functions/adapters/evm/rpc-shapes.ts';
import type { ChainTransfer } from '../../../functions/core/model.ts';
import { Disperse, LogEmitter } from '../../../functions/local/contracts/artifacts.ts';
import {
  type Anvil,
  deployDisperse,
  deployLogEmitter,
  deployRevertOnReceive,
  deployTestToken,
  startAnvil,
} from '../../support/anvil.ts';
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

const disperseAbi = new Interface(Disperse.abi);
const emitterAbi = new Interface(LogEmitter.abi);

let anvil: Anvil;
let reader: EvmChainReader;
let hot1: string;
let hot2: string;
let outsider: string;
let spender: string;
let recipients: string[];
let usdt: string;
let unlisted: string;
let disperse: string;
let refuser: string;
let emitter: string;

beforeAll(async () => {
  anvil = await startAnvil();
  const a = anvil.accounts.map((w) => w.address);
  [hot1, hot2, outsider, spender] = [a[1]!, a[2]!, a[3]!, a[5]!];
  recipients = a.slice(6);
  usdt = await (await deployTestToken(anvil, { symbol: 'USDT', decimals: 6 })).getAddress();
  unlisted = await (await deployTestToken(anvil, { symbol: 'SCAM', decimals: 18 })).getAddress();
  disperse = await (await deployDisperse(anvil)).getAddress();
  refuser = await (await deployRevertOnReceive(anvil)).getAddress();
  emitter = await (await deployLogEmitter(anvil)).getAddress();
  await mineBlockWith(
    anvil,
    [hot1, hot2, outsider].flatMap((holder) => [
      { from: a[0]!, to: usdt, data: mintData(holder, parseUnits('1000000', 6)) },
      { from: a[0]!, to: unlisted, data: mintData(holder, parseEther('1000000')) },
    ]),
  );
  reader = new EvmChainReader(
    evmChainConfig({
      rpc: [anvil.url],
      hotWallets: [hot1, hot2],
      tokens: [{ symbol: 'USDT', contract: usdt, decimals: 6 }],
    }),
  );
});

afterAll(async () => {
  await anvil?.stop();
});

async function readBlock(n: number): Promise<ChainTransfer[]> {
  const { blocks, transfers } = await reader.readRange(n, n);
  expect(blocks.map((b) => b.number)).toEqual([n]);
  return transfers;
}

describe('EvmChainReader on anvil', () => {
  it('head() is the node’s latest block', async () => {
    await anvil.mine(3);
    expect(await reader.head()).toBe(await anvil.provider.getBlockNumber());
  });

  it('finds a native outflow with its block, hash, time and fee', async () => {
    const { block, hashes } = await mineBlockWith(anvil, [
      { from: hot1, to: recipients[0]!, value: parseEther('1.5') },
    ]);
    const header = (await anvil.provider.getBlock(block))!;
    const r = await receipt(anvil, hashes[0]!);

    expect(await readBlock(block)).toEqual([
      {
        chain: 'local',
        block,
        blockHash: header.hash,
        blockTime: header.timestamp,
        txHash: hashes[0],
        index: null,
        contract: null,
        from: lower(hot1),
        to: lower(recipients[0]!),
        amount: parseEther('1.5'),
        fee: BigInt(r.gasUsed) * BigInt(r.effectiveGasPrice),
      },
    ]);
  });

  it('drops a reverted native send (and a reverted token transfer) but keeps the good send beside it', async () => {
    const { block, hashes } = await mineBlockWith(anvil, [
      { from: hot1, to: refuser, value: parseEther('7'), gas: 100_000 },
      { from: hot1, to: usdt, data: transferData(outsider, parseUnits('99999999', 6)), gas: 100_000 },
      { from: hot1, to: recipients[1]!, value: parseEther('2') },
    ]);
    expect((await receipt(anvil, hashes[0]!)).status).toBe('0x0');
    expect((await receipt(anvil, hashes[1]!)).status).toBe('0x0');

    const transfers = await readBlock(block);
    expect(transfers.map((t) => [t.txHash, t.to, t.amount])).toEqual([
      [hashes[2], lower(recipients[1]!), parseEther('2')],
    ]);
  });

  it('finds an ERC-20 transfer with its amount, log index and lower-case contract', async () => {
    const amount = parseUnits('1234.5', 6);
    const { block, hashes } = await mineBlockWith(anvil, [
      { from: outsider, to: usdt, data: transferData(recipients[0]!, 1n) },
      { from: hot2, to: usdt, data: transferData(recipients[2]!, amount) },
    ]);
    const log = (await receipt(anvil, hashes[1]!)).logs[0]!;

    expect(await readBlock(block)).toEqual([
      expect.objectContaining({
        txHash: hashes[1],
        index: Number(log.logIndex),
        contract: lower(usdt),
        from: lower(hot2),
        to: lower(recipients[2]!),
        amount,
      }),
    ]);
    expect(Number(log.logIndex)).toBe(1);
  });

  it('counts a third party’s transferFrom out of a hot wallet', async () => {
    await mineBlockWith(anvil, [{ from: hot1, to: usdt, data: approveData(spender, parseUnits('500', 6)) }]);
    const { block, hashes } = await mineBlockWith(anvil, [
      { from: spender, to: usdt, data: transferFromData(hot1, outsider, parseUnits('500', 6)) },
    ]);

    expect(await readBlock(block)).toEqual([
      expect.objectContaining({
        txHash: hashes[0],
        from: lower(hot1),
        to: lower(outsider),
        amount: parseUnits('500', 6),
      }),
    ]);
  });

  it('ignores zero-value transferFrom spam out of a hot wallet', async () => {
    const { block, hashes } = await mineBlockWith(anvil, [
      { from: outsider, to: usdt, data: transferFromData(hot1, outsider, 0n) },
    ]);
    expect((await receipt(anvil, hashes[0]!)).logs).toHaveLength(1);
    expect(await readBlock(block)).toEqual([]);
  });

  it('gives one transfer per recipient of a disperse batch payout', async () => {
    const values = [parseUnits('10', 6), parseUnits('20', 6), parseUnits('30', 6)];
    await mineBlockWith(anvil, [{ from: hot1, to: usdt, data: approveData(disperse, 2n ** 255n) }]);
    const { block, hashes } = await mineBlockWith(anvil, [
      {
        from: hot1,
        to: disperse,
        data: disperseAbi.encodeFunctionData('disperseToken', [usdt, recipients.slice(0, 3), values]),
      },
      {
        from: hot1,
        to: disperse,
        value: parseEther('3'),
        data: disperseAbi.encodeFunctionData('disperseEther', [
          recipients.slice(0, 3),
          [parseEther('0.5'), parseEther('1'), parseEther('1.5')],
        ]),
      },
    ]);
    const logs = (await receipt(anvil, hashes[0]!)).logs;

    const transfers = await readBlock(block);
    expect(transfers.map((t) => [t.txHash, t.index, t.contract, t.to, t.amount])).toEqual([
      [hashes[0], Number(logs[0]!.logIndex), lower(usdt), lower(recipients[0]!), values[0]],
      [hashes[0], Number(logs[1]!.logIndex), lower(usdt), lower(recipients[1]!), values[1]],
      [hashes[0], Number(logs[2]!.logIndex), lower(usdt), lower(recipients[2]!), values[2]],
      // The native payout leaves the hot wallet once, as the value sent to the contract.
      [hashes[1], null, null, lower(disperse), parseEther('3')],
    ]);
  });

  it('returns transfers of a token the config does not know', async () => {
    const { block, hashes } = await mineBlockWith(anvil, [
      { from: hot2, to: unlisted, data: transferData(outsider, parseEther('42')) },
    ]);
    expect(await readBlock(block)).toEqual([
      expect.objectContaining({
        txHash: hashes[0],
        contract: lower(unlisted),
        from: lower(hot2),
        amount: parseEther('42'),
      }),
    ]);
  });

  it('ignores transfers into a hot wallet, between hot-wallet-less accounts, and mints', async () => {
    const { block } = await mineBlockWith(anvil, [
      { from: outsider, to: hot1, value: parseEther('5') },
      { from: outsider, to: usdt, data: transferData(hot2, parseUnits('5', 6)) },
      { from: outsider, to: unlisted, data: transferData(recipients[0]!, parseEther('5')) },
      { from: outsider, to: recipients[1]!, value: parseEther('5') },
      { from: spender, to: usdt, data: mintData(hot1, parseUnits('5', 6)) },
      // A hot wallet calling a contract without value moves nothing by itself.
      { from: hot1, to: usdt, data: approveData(outsider, 1n) },
    ]);
    expect(await readBlock(block)).toEqual([]);
  });

  it('skips Transfer-like logs that are not ERC-20 transfers without failing the read', async () => {
    const word = (n: bigint) => `0x${n.toString(16).padStart(64, '0')}`;
    const emit = (topics: string[], data: string) => ({
      from: hot1,
      to: emitter,
      data: emitterAbi.encodeFunctionData('emitLog', [topics, data]),
    });
    const from = addressTopic(hot1);
    const to = addressTopic(outsider);
    const { block, hashes } = await mineBlockWith(anvil, [
      emit([TRANSFER_TOPIC, from, to, word(77n)], '0x'), // ERC-721: the token id is the 4th topic
      emit([TRANSFER_TOPIC, from, to], `${word(5n)}${word(6n).slice(2)}`), // 64 bytes of data
      emit([TRANSFER_TOPIC, from, to], '0x'), // no value
      emit([TRANSFER_TOPIC, from, `0xff${to.slice(4)}`], word(9n)), // not an address topic
      emit([TRANSFER_TOPIC, from, to], word(8n)), // a well-formed ERC-20 Transfer
    ]);
    for (const h of hashes) expect((await receipt(anvil, h)).logs).toHaveLength(1);

    expect(await readBlock(block)).toEqual([
      expect.objectContaining({ txHash: hashes[4], contract: lower(emitter), to: lower(outsider), amount: 8n }),
    ]);
  });

  it('orders a block’s transfers by transaction, native before that transaction’s logs', async () => {
    const { block, hashes } = await mineBlockWith(anvil, [
      { from: hot2, to: usdt, data: transferData(recipients[0]!, 7n) },
      { from: hot1, to: recipients[3]!, value: 11n },
      { from: hot1, to: unlisted, data: transferData(recipients[0]!, 13n) },
    ]);
    const transfers = await readBlock(block);
    expect(transfers.map((t) => [t.txHash, t.amount])).toEqual([
      [hashes[0], 7n],
      [hashes[1], 11n],
      [hashes[2], 13n],
    ]);
  });

  it('reads a range spanning several batches: every block linked, the same transfers as one batch', async () => {
    const first = (await anvil.provider.getBlockNumber()) + 1;
    const sent: string[] = [];
    for (let i = 0; i < 23; i++) {
      if (i % 4 === 3) {
        await anvil.mine(1);
        continue;
      }
      const { hashes } = await mineBlockWith(anvil, [
        { from: i % 2 ? hot1 : hot2, to: usdt, data: transferData(recipients[i % 4]!, BigInt(1000 + i)) },
        ...(i % 3 === 0 ? [{ from: hot1, to: recipients[2]!, value: BigInt(i + 1) }] : []),
      ]);
      sent.push(...hashes);
    }
    const last = first + 22;
    const small = new EvmChainReader(evmChainConfig({ rpc: [anvil.url], hotWallets: [hot1, hot2], rpcBatchSize: 5 }));
    await small.head(); // checks the endpoint's chain id once, so the counters below are the range's own
    small.resetCounters();

    const read = await small.readRange(first, last);
    const once = await reader.readRange(first, last);

    expect(read.blocks.map((b) => b.number)).toEqual(Array.from({ length: 23 }, (_, i) => first + i));
    for (let i = 1; i < read.blocks.length; i++) expect(read.blocks[i]!.parentHash).toBe(read.blocks[i - 1]!.hash);
    expect(read.transfers.map((t) => t.txHash)).toEqual(sent);
    expect(read).toEqual(once);
    // 23 blocks + 1 eth_getLogs in ceil(24 / 5) = 5 requests; 6 blocks with native sends in 2 more.
    expect(small.counters().httpRequests).toBe(5 + 2);
    expect(small.counters().rpcCalls).toBe(24 + 6);
  });

  it('blockRefs() returns the requested headers', async () => {
    const head = await anvil.provider.getBlockNumber();
    const refs = await reader.blockRefs([head, head - 2, head - 1, head - 2]);
    const expected = await Promise.all([head, head - 2, head - 1].map((n) => anvil.provider.getBlock(n)));
    expect(refs).toEqual(
      expected.map((b) => ({ number: b!.number, hash: b!.hash, parentHash: b!.parentHash, time: b!.timestamp })),
    );
  });

  it('throws a RangeError for a reversed range', async () => {
    await expect(reader.readRange(5, 4)).rejects.toThrow(RangeError);
  });
});
