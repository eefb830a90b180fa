import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChainReadError, ConfigError, isBreakerError } from '../../../functions/core/errors.ts';
import { BitcoinTestNode, testWallet } from '../../support/bitcoin-node.ts';
import { bitcoinReader, deadUrl, silentServer } from './helpers.ts';

const hot = testWallet('hot-a', 'p2wpkh');
const payee = testWallet('payee', 'p2pkh');

/** A node with one block holding a 1 BTC payout from `hot`. */
async function nodeWithPayout(options: ConstructorParameters<typeof BitcoinTestNode>[0] = {}) {
  const node = new BitcoinTestNode(options);
  await node.start();
  const funded = node.mine({ coinbase: [{ to: hot.address, value: 2_00000000n }] });
  const tx = node.createTx(
    [{ utxo: { txid: funded.txids[0] as string, vout: 0, value: 2_00000000n, script: hot.output }, wallet: hot }],
    [
      { to: payee.address, value: 1_00000000n },
      { to: hot.address, value: 99_990_000n },
    ],
  );
  node.broadcast(tx);
  const block = node.mine();
  return { node, txid: tx.getId(), height: block.height };
}

describe('BitcoinChainReader endpoints', () => {
  let node: BitcoinTestNode;
  let txid: string;
  let height: number;

  beforeEach(async () => {
    ({ node, txid, height } = await nodeWithPayout({ rpcAuth: { user: 'watcher', password: 's3cret' } }));
  });
  afterEach(async () => {
    await node.stop();
  });

  it('fails over from a dead first endpoint to the next one', async () => {
    const reader = bitcoinReader({ hotWallets: [hot.address], rpc: [await deadUrl(), node.rpcUrl] });
    const read = await reader.readRange(height, height);
    expect(read.transfers.map((t) => [t.txHash, t.amount])).toEqual([[txid, 1_00000000n]]);
  });

  it('fails over from Core to Esplora, and keeps using the endpoint that worked', async () => {
    const reader = bitcoinReader({ hotWallets: [hot.address], rpc: [node.rpcUrl], esplora: [node.esploraUrl] });
    expect(await reader.head()).toBe(height);
    node.failNextRequests(1);
    node.requests.length = 0;
    const read = await reader.readRange(height, height);
    expect(read.transfers.map((t) => t.txHash)).toEqual([txid]);
    expect(node.requests[0]?.api).toBe('rpc');
    expect(node.requests.slice(1).every((r) => r.api === 'esplora')).toBe(true);
    expect(reader.counters().endpointFailures).toBe(1);

    node.requests.length = 0;
    expect(await reader.head()).toBe(height);
    expect(node.requests.map((r) => r.api)).toEqual(['esplora']);
  });

  it('throws ChainReadError naming every endpoint and its reason when all fail', async () => {
    const dead = await deadUrl();
    const reader = bitcoinReader({ hotWallets: [hot.address], rpc: [dead], esplora: [node.esploraUrl] });
    node.failNextRequests(10);
    const error = await reader.readRange(height, height).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChainReadError);
    expect(isBreakerError(error, 'CHAIN_READ')).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain(`btc: readRange(${height}, ${height}) failed on every endpoint`);
    expect(message).toContain(`rpc ${dead.replace(/\/$/, '')}: request failed: ECONNREFUSED`);
    expect(message).toContain(`esplora ${node.esploraUrl}: GET /block-height/0: HTTP 503 Service Unavailable`);
  });

  it('sends the credentials in the RPC URL as basic auth, and never prints the password', async () => {
    const good = bitcoinReader({ hotWallets: [hot.address], rpc: [node.rpcUrl] });
    expect(await good.head()).toBe(height);

    const wrong = node.rpcUrl.replace('s3cret', 'guess');
    const error = await bitcoinReader({ hotWallets: [hot.address], rpc: [wrong] })
      .head()
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /rpc http:\/\/127\.0\.0\.1:\d+: HTTP 401: the node refused the RPC credentials/,
    );
    expect((error as Error).message).not.toContain('guess');
    expect((error as Error).message).not.toContain('watcher');
  });

  it('gives up on an endpoint that does not answer within rpcTimeoutMs', async () => {
    const silent = await silentServer();
    try {
      const reader = bitcoinReader({ hotWallets: [hot.address], esplora: [silent.url], rpcTimeoutMs: 200 });
      const started = Date.now();
      await expect(reader.head()).rejects.toThrow(/timed out after 200 ms/);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await silent.close();
    }
  });

  it('refuses an endpoint of another network instead of silently matching no wallet', async () => {
    const reader = bitcoinReader({
      network: 'mainnet',
      hotWallets: ['bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq'],
      esplora: [node.esploraUrl],
    });
    await expect(reader.head()).rejects.toThrow(
      /serves regtest \(genesis 0f9188f1.*\), but the config says network mainnet/,
    );
  });
});

describe('BitcoinChainReader config', () => {
  it('rejects a hot wallet or own address that is not an address of the configured network, naming its path', () => {
    const typo = `${hot.address.slice(0, -1)}${hot.address.endsWith('q') ? 'p' : 'q'}`;
    let error: unknown;
    try {
      bitcoinReader({
        network: 'regtest',
        rpc: ['http://127.0.0.1:1/'],
        hotWallets: [hot.address, '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2'],
        ownAddresses: [typo],
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      'chains.btc.hotWallets[1]: 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 is a base58 address of another network (version byte 0)',
      expect.stringMatching(new RegExp(`^chains\\.btc\\.ownAddresses\\[0\\]: ${typo} is not a valid address`)),
    ]);
  });
});
