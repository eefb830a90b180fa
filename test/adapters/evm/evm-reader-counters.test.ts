import { afterAll, beforeAll, expect, it } from 'vitest';
import { EvmChainReader } from '../../../functions/adapters/evm/evm-chain-reader.ts';
import { type Anvil, startAnvil } from '../../support/anvil.ts';
import { evmChainConfig } from './fixtures.ts';
import { buildTransferChain } from './reader-throughput.ts';

let anvil: Anvil;
let chain: Awaited<ReturnType<typeof buildTransferChain>>;

beforeAll(async () => {
  anvil = await startAnvil();
  // 100 blocks, each with two token transfers out of hot wallets, every other one a native send too.
  chain = await buildTransferChain(anvil, 100, 2);
});

afterAll(async () => {
  await anvil?.stop();
});

it('a 100-block poll costs one call per block, one per block with a native send, one eth_getLogs and head()', async () => {
  const reader = new EvmChainReader(evmChainConfig({ rpc: [anvil.url], hotWallets: chain.hot, rpcBatchSize: 100 }));
  await reader.blockRefs([0]); // the endpoint's one-off chain-id check
  reader.resetCounters();

  const head = await reader.head();
  const read = await reader.readRange(chain.first, chain.last);

  expect(head).toBeGreaterThanOrEqual(chain.last);
  expect(read.blocks).toHaveLength(100);
  expect(read.transfers).toHaveLength(chain.transfers(chain.first, chain.last));
  const { rpcCalls, httpRequests } = reader.counters();
  // head 1 + blocks 100 + eth_getLogs 1 + block receipts 50
  expect(rpcCalls).toBe(152);
  // head 1 + 101 calls in 2 requests + 50 receipts in 1
  expect(httpRequests).toBe(4);
  expect(rpcCalls / 100).toBeLessThanOrEqual(2);
  expect(httpRequests / 100).toBeLessThanOrEqual(0.05);
});
