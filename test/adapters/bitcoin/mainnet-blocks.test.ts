import { readFileSync } from 'node:fs';
import { networks } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BitcoinTestNode } from '../../support/bitcoin-node.ts';
import { bitcoinReader } from './helpers.ts';

/** Real mainnet blocks (see the fixture's `about`): known hashes, txids and amounts, checked end to end. */
const fixture = JSON.parse(
  readFileSync(new URL('../../fixtures/bitcoin/mainnet-blocks.json', import.meta.url), 'utf8'),
);
const { genesis, block9Coinbase, block170 } = fixture;
const SATOSHI = block170.payment.from as string;
const HAL = block170.payment.to as string;

const APIS = [
  { name: 'Core v25 (getblock verbosity 3)', use: 'rpc', coreVersion: 250000 },
  { name: 'Core v22 (verbosity 2 + getrawtransaction)', use: 'rpc', coreVersion: 220000 },
  { name: 'Esplora', use: 'esplora', coreVersion: 250000 },
] as const;

describe.each(APIS)('real mainnet blocks through $name', (api) => {
  let node: BitcoinTestNode;
  const reader = (hotWallets: string[]) =>
    bitcoinReader({
      network: 'mainnet',
      hotWallets,
      ...(api.use === 'rpc' ? { rpc: [node.rpcUrl] } : { esplora: [node.esploraUrl] }),
    });

  beforeAll(async () => {
    node = new BitcoinTestNode({ network: networks.bitcoin, coreVersion: api.coreVersion });
    expect(node.importBlock(genesis.hex, 0).hash).toBe(genesis.hash);
    expect(node.addConfirmedTx(block9Coinbase.hex, 9, block9Coinbase.blockHash)).toBe(block9Coinbase.txid);
    const imported = node.importBlock(block170.hex, 170);
    expect(imported.hash).toBe(block170.hash);
    expect(imported.txids).toEqual([block170.coinbaseTxid, block170.payment.txid]);
    await node.start();
  });
  afterAll(async () => {
    await node.stop();
  });

  it('reads the first bitcoin payment, Satoshi to Hal Finney, as one 10 BTC outflow without the 40 BTC change', async () => {
    const read = await reader([SATOSHI]).readRange(170, 170);
    expect(read.blocks).toEqual([
      { number: 170, hash: block170.hash, parentHash: block170.parentHash, time: block170.time },
    ]);
    expect(read.transfers).toEqual([
      {
        chain: 'btc',
        block: 170,
        blockHash: block170.hash,
        blockTime: 1231731025,
        txHash: 'f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16',
        index: 0,
        contract: null,
        from: '12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S',
        to: '1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3',
        amount: 1_000_000_000n,
        fee: 0n,
      },
    ]);
  });

  it('sees no outflow for the receiver, nor for the coinbase of the genesis block', async () => {
    expect((await reader([HAL]).readRange(170, 170)).transfers).toEqual([]);
    const read = await reader([genesis.coinbaseAddress]).readRange(0, 0);
    expect(read.blocks).toEqual([{ number: 0, hash: genesis.hash, parentHash: '0'.repeat(64), time: 1231006505 }]);
    expect(read.transfers).toEqual([]);
  });

  it('serves the real headers and head', async () => {
    const r = reader([SATOSHI]);
    expect(await r.head()).toBe(170);
    expect(await r.blockRefs([170, 0])).toEqual([
      { number: 170, hash: block170.hash, parentHash: block170.parentHash, time: 1231731025 },
      { number: 0, hash: genesis.hash, parentHash: '0'.repeat(64), time: 1231006505 },
    ]);
  });
});
