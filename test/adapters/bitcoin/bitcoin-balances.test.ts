import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BitcoinChainReader } from '../../../functions/adapters/bitcoin/bitcoin-chain-reader.ts';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import type { ChainConfig } from '../../../functions/core/config/types.ts';
import { ChainReadError } from '../../../functions/core/errors.ts';
import { pollOnce } from '../../../functions/core/use-cases/poll-chain.ts';
import { RecordingPublisher } from '../../integration/harness.ts';
import { BitcoinTestNode, type TestWallet, testWallet, type Utxo } from '../../support/bitcoin-node.ts';
import { startTestStore } from '../../support/dynamo.ts';
import { FORWARD, rpcMessages, startFaultProxy } from '../../support/fault-proxy.ts';
import { initialiseForTest } from '../../support/initialise.ts';
import { bitcoinReader } from './helpers.ts';

/**
 * Bitcoin balances for the balance-drawdown rule, on the devnet (real transactions and blocks), through
 * both ways a reader lists the hot addresses' coins: Core `scantxoutset` and Esplora `/address/:a/utxo`.
 */
const APIS = [
  { name: 'Core (scantxoutset)', use: 'rpc' },
  { name: 'Esplora (/address/:a/utxo)', use: 'esplora' },
] as const;

const BTC = 100_000_000n;
const hotA = testWallet('bal-hot-a', 'p2wpkh');
const hotB = testWallet('bal-hot-b', 'p2tr');
const payee = testWallet('bal-payee', 'p2wpkh');
const cold = testWallet('bal-cold', 'p2wpkh');

describe.each(APIS)('BitcoinChainReader.balancesAt through $name', (api) => {
  let node: BitcoinTestNode;
  const url = () => (api.use === 'rpc' ? node.rpcUrl : node.esploraUrl);
  const endpoints = (u: string) => (api.use === 'rpc' ? { rpc: [u] } : { esplora: [u] });
  const reader = (u = url()) => bitcoinReader({ hotWallets: [hotA.address, hotB.address], ...endpoints(u) });
  const at = (height: number) => ({ number: height, hash: node.blockHashAt(height) });
  const unspentSats = (w: TestWallet) => node.utxosOf(w.output).reduce((s, u) => s + u.value, 0n);

  beforeEach(async () => {
    node = new BitcoinTestNode();
    await node.start();
  });
  afterEach(async () => {
    await node.stop();
  });

  function fund(wallets: TestWallet[], value: bigint): Utxo[] {
    const mined = node.mine({ coinbase: wallets.map((w) => ({ to: w.address, value })) });
    return wallets.map((w, vout) => ({ txid: mined.txids[0] as string, vout, value, script: w.output }));
  }

  it('sums the hot addresses’ coins at the head exactly; at an earlier block, never more than it held', async () => {
    const [a] = fund([hotA, hotB], 2n * BTC);
    const funded = node.height;
    node.broadcast(
      node.createTx(
        [{ utxo: a as Utxo, wallet: hotA }],
        [
          { to: payee.address, value: 15n * (BTC / 10n) },
          { to: hotA.address, value: BTC / 2n - 10_000n },
        ],
      ),
    );
    node.mine();
    const spent = node.height;
    fund([hotB], 1n);
    const r = reader();
    expect(await r.balancesAt(at(spent), [null])).toEqual(new Map([[null, 2n * BTC + BTC / 2n - 10_000n]]));
    // The coin created in a later block does not count at `spent`; at the head it does, exactly.
    expect(await r.balancesAt(at(node.height), [null])).toEqual(
      new Map([[null, unspentSats(hotA) + unspentSats(hotB)]]),
    );
    // At `funded` the wallets held 4 BTC, but hot A's 2 BTC coin has been spent since: the listing
    // cannot show it, so the answer is the lower bound (hot B's coin), never above the balance then.
    expect(await r.balancesAt(at(funded), [null])).toEqual(new Map([[null, 2n * BTC]]));
    // Bitcoin has no tokens: nothing to read for a contract.
    expect(await r.balancesAt(at(spent), ['not-a-token'])).toEqual(new Map());
  });

  it('a block no longer on the endpoint’s chain, or a malformed listing, is a ChainReadError', async () => {
    fund([hotA], BTC);
    const old = at(node.height);
    node.reorg(1, [{}]);
    await expect(reader().balancesAt(old, [null])).rejects.toThrow(/the chain changed/);

    // The proxy forwards to the node's origin; the Esplora API lives under its path.
    const proxy = await startFaultProxy(new URL(url()).origin, (req) => {
      const listing =
        api.use === 'rpc' ? rpcMessages(req).some((m) => m.method === 'scantxoutset') : req.path.endsWith('/utxo');
      if (!listing) return FORWARD;
      const coin = {
        txid: 'ab'.repeat(32),
        vout: 0,
        height: 1,
        amount: -1,
        value: -1,
        status: { confirmed: true, block_height: 1 },
      };
      return {
        kind: 'answer',
        status: 200,
        body:
          api.use === 'rpc'
            ? { result: { success: true, unspents: [coin] }, error: null, id: rpcMessages(req)[0]?.id }
            : [coin],
      };
    });
    const proxied = new URL(new URL(url()).pathname, proxy.url).toString();
    try {
      const failed = reader(proxied).balancesAt(at(node.height), [null]);
      await expect(failed).rejects.toThrow(ChainReadError);
      await expect(reader(proxied).balancesAt(at(node.height), [null])).rejects.toThrow(/is not an amount/);
    } finally {
      await proxy.stop();
    }
  });
});

describe('balance drawdown on a Bitcoin chain (devnet + dynalite + the poll use case)', () => {
  it('a drain of most of the hot wallets’ BTC trips the chain; a sweep to cold does not count', async () => {
    const node = new BitcoinTestNode();
    await node.start();
    const db = await startTestStore();
    try {
      await initialiseForTest(db.store);
      const [a, b] = [hotA, hotB].map((w) => {
        const mined = node.mine({
          coinbase: [{ to: w.address, value: 10n * BTC }],
          time: Math.floor(Date.now() / 1000),
        });
        return { txid: mined.txids[0] as string, vout: 0, value: 10n * BTC, script: w.output };
      });
      const config = compileConfig(
        {
          name: 'btc-drawdown',
          chains: {
            btc: {
              kind: 'bitcoin',
              network: 'regtest',
              esplora: [node.esploraUrl],
              confirmations: 0,
              blockTimeSeconds: 600,
              startBlock: node.height + 1,
              explorer: 'https://mempool.space',
              hotWallets: [hotA.address, hotB.address],
              ownAddresses: [cold.address],
              native: { symbol: 'BTC', decimals: 8, usdPrice: 1 },
            },
          },
          limits: {
            global: { usd: { '1h': 1_000_000_000 } },
            patterns: { balanceDrawdown: { window: '1h', tripPercent: 50 } },
          },
        },
        'btc-drawdown',
      );
      const chain = config.chains.get('btc') as ChainConfig;
      const reader = new BitcoinChainReader(chain);
      const publisher = new RecordingPublisher();
      const poll = async () =>
        (
          await pollOnce({
            config,
            chain,
            reader,
            store: db.store,
            publisher,
            clock: Date,
            owner: 'p',
            leaseMs: 30_000,
          })
        ).result;
      const now = () => Math.floor(Date.now() / 1000);
      // Hot A sweeps 9 BTC to cold (own, not taken) and pays a customer 3 BTC of its 20: no trip.
      node.broadcast(
        node.createTx(
          [{ utxo: a as Utxo, wallet: hotA }],
          [
            { to: cold.address, value: 6n * BTC },
            { to: payee.address, value: 3n * BTC },
            { to: hotA.address, value: BTC - 10_000n },
          ],
        ),
      );
      node.mine({ time: now() });
      expect(await poll()).toMatchObject({ kind: 'advanced', trips: [] });
      // Hot B's 10 BTC leave for the thief: 13 BTC of the 14 left after the sweep, within the hour.
      node.broadcast(
        node.createTx([{ utxo: b as Utxo, wallet: hotB }], [{ to: payee.address, value: 10n * BTC - 10_000n }]),
      );
      node.mine({ time: now() });
      const result = await poll();
      expect(result.kind === 'advanced' && result.trips.map((t) => t.ruleId)).toEqual(['pattern-drawdown-btc-1h']);
      expect((await db.store.getState()).tripped['chain:btc']).toBeDefined();
      const paid = (await db.store.outflowsSince('btc', 0)).filter((r) => r.to === payee.address);
      expect(paid.map((r) => r.balanceAfter)).toEqual([11n * BTC - 10_000n, BTC - 10_000n]);
    } finally {
      await node.stop();
      await db.close();
    }
  });
});
