/**
 * The spent-outpoint watermark end to end: the Bitcoin devnet (real transactions, blocks and RBF
 * mempool), dynalite, the real Bitcoin reader through Core JSON-RPC and through Esplora, the guard
 * recording the outpoints of everything the exchange's signer spends, and a thief spending hot-wallet
 * outputs with the same key.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BitcoinChainReader } from '../../functions/adapters/bitcoin/bitcoin-chain-reader.ts';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import { watermarkCheck } from '../../functions/core/use-cases/check-watermark.ts';
import { pollOnce } from '../../functions/core/use-cases/poll-chain.ts';
import { resetBreakerUseCase } from '../../functions/core/use-cases/reset-breaker.ts';
import { outpointRuleId } from '../../functions/core/watermark/rule-ids.ts';
import { type BreakerGuard, createBreakerGuard } from '../../functions/guard/guard.ts';
import { composeLocal, pollerDeps } from '../../functions/runtime/compose.ts';
import { OffsetClock, RecordingPublisher } from '../integration/harness.ts';
import { BitcoinTestNode, type TestWallet, testWallet, type Utxo } from '../support/bitcoin-node.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';
import { initialiseForTest } from '../support/initialise.ts';

const quiet = { warn() {}, error() {} };
const CHAIN = 'btc';
const RULE = outpointRuleId(CHAIN);
const BTC = 100_000_000n;
const hot = testWallet('outpoint-hot', 'p2wpkh');
const hot2 = testWallet('outpoint-hot-2', 'p2tr');
const customer = testWallet('outpoint-customer', 'p2wpkh');
const thief = testWallet('outpoint-thief', 'p2pkh');

function configFor(api: { rpc?: string; esplora?: string }, startBlock: number, pending: boolean): BreakerConfig {
  return compileConfig(
    {
      name: 'outpoint-test',
      chains: {
        [CHAIN]: {
          kind: 'bitcoin',
          network: 'regtest',
          rpc: api.rpc ? [api.rpc] : [],
          esplora: api.esplora ? [api.esplora] : [],
          confirmations: 0,
          blockTimeSeconds: 600,
          maxBlocksPerPoll: 20,
          startBlock,
          hotWallets: [hot.address, hot2.address],
          native: { symbol: 'BTC', decimals: 8, usdPrice: 100_000 },
        },
      },
      // Limits far above anything here: only the watermark can trip.
      limits: { global: { usd: { '10m': 1e12 }, count: { '10m': 1_000_000 }, singleTxUsd: 1e12 } },
      watermark: { enabled: true, chains: [CHAIN], pending },
    },
    'outpoint-test',
  );
}

describe.each([
  { name: 'Core JSON-RPC', use: 'rpc' },
  { name: 'Esplora', use: 'esplora' },
] as const)('spent-outpoint watermark on the Bitcoin devnet + dynalite, through $name', ({ use }) => {
  let node: BitcoinTestNode;
  let db: TestStore;
  let guard: BreakerGuard;
  let api: { rpc?: string; esplora?: string };
  let startBlock: number;
  let config: BreakerConfig;
  let reader: BitcoinChainReader;
  const publisher = new RecordingPublisher();
  const clock = new OffsetClock();
  /** Hot-wallet outputs nobody has spent yet (the test's own UTXO bookkeeping). */
  const unspent: { utxo: Utxo; wallet: TestWallet }[] = [];

  const take = (): { utxo: Utxo; wallet: TestWallet } => {
    const next = unspent.shift();
    if (!next) throw new Error('the test ran out of hot UTXOs');
    return next;
  };
  const outpoint = (u: Utxo) => `${u.txid}:${u.vout}`;
  const useConfig = (pending: boolean) => {
    config = configFor(api, startBlock, pending);
    reader = new BitcoinChainReader(config.chains.get(CHAIN)!);
  };
  const deps = () => {
    const chain = config.chains.get(CHAIN)!;
    const checks = [watermarkCheck({ config, chain, reader, approvals: db.store })];
    return { config, chain, reader, store: db.store, publisher, clock, owner: `poller-${use}`, checks };
  };
  /** Polls until the cursor reaches the tip (a poll is one range read plus the checks). */
  const pollToTip = async () => {
    for (let i = 0; i < 5; i++) {
      const { result } = await pollOnce(deps());
      expect(result.kind).not.toBe('busy');
      if (result.kind === 'idle') return result;
    }
    throw new Error('the poller did not reach the tip in 5 polls');
  };
  /** What the exchange's signer does before it signs: ask the guard with every outpoint it will spend. */
  const signerAsks = (withdrawalId: string, inputs: Utxo[], amount: bigint) =>
    guard.check({
      withdrawalId,
      chain: CHAIN,
      asset: 'BTC',
      destination: customer.address,
      amount: amount.toString(),
      outpoints: inputs.map(outpoint),
    });
  const reset = (reason: string) =>
    resetBreakerUseCase({ config, store: db.store, publisher, clock }, { reason, actor: 'tester' });

  beforeAll(async () => {
    node = new BitcoinTestNode();
    const urls = await node.start();
    api = use === 'rpc' ? { rpc: urls.rpcUrl } : { esplora: urls.esploraUrl };
    // Hot-wallet UTXOs: eight coinbase outputs to each hot address.
    for (let i = 0; i < 4; i++) {
      const mined = node.mine({
        coinbase: [hot, hot, hot2, hot2].map((w) => ({ to: w.address, value: 2n * BTC })),
      });
      const coinbase = mined.txids[0] as string;
      [hot, hot, hot2, hot2].forEach((wallet, vout) => {
        unspent.push({ utxo: { txid: coinbase, vout, value: 2n * BTC, script: wallet.output }, wallet });
      });
    }
    startBlock = node.height + 1;
    db = await startTestStore();
    await initialiseForTest(db.store);
    useConfig(false);
    guard = createBreakerGuard({ store: db.store, config, logger: quiet });
  }, 60_000);

  afterAll(async () => {
    await node?.stop();
    await db?.close();
  });

  it('withdrawals the guard approved never trip, nor does a replacement (RBF) of one that adds an input', async () => {
    // A plain withdrawal: one hot input, the customer paid, change back to the hot wallet.
    const a = take();
    await signerAsks('w-plain', [a.utxo], BTC);
    node.broadcast(
      node.createTx(
        [a],
        [
          { to: customer.address, value: BTC },
          { to: hot.address, value: a.utxo.value - BTC - 1_000n },
        ],
      ),
    );
    node.mine();
    // A withdrawal replaced while pending: the replacement adds a second input for a higher fee,
    // and the signer asks again with the same withdrawal id and every outpoint it spends.
    const [b, c] = [take(), take()];
    await signerAsks('w-replaced', [b.utxo], (3n * BTC) / 2n);
    const first = node.createTx(
      [b],
      [
        { to: customer.address, value: (3n * BTC) / 2n },
        { to: hot.address, value: b.utxo.value - (3n * BTC) / 2n - 1_000n },
      ],
      { rbf: true },
    );
    node.broadcast(first);
    useConfig(true);
    await pollToTip();
    await signerAsks('w-replaced', [b.utxo, c.utxo], (3n * BTC) / 2n);
    const replacement = node.createTx(
      [b, c],
      [
        { to: customer.address, value: (3n * BTC) / 2n },
        { to: hot2.address, value: b.utxo.value + c.utxo.value - (3n * BTC) / 2n - 50_000n },
      ],
      { rbf: true },
    );
    node.broadcast(replacement);
    expect(node.mempoolTxids()).toEqual([replacement.getId()]);
    await pollToTip();
    node.mine();
    useConfig(false);
    const idle = await pollToTip();
    expect(idle.lastBlock).toBe(node.height);
    expect((await db.store.getState()).tripped).toEqual({});
    expect(publisher.pages).toEqual([]);
  });

  it("a thief's spend that pays the hot wallet back to itself (moves nothing out) trips, naming the txid; a reset does not re-trip on it", async () => {
    const stolen = take();
    const tx = node.createTx([stolen], [{ to: hot2.address, value: stolen.utxo.value - 500n }]);
    node.broadcast(tx);
    node.mine();
    const { result } = await pollOnce(deps());
    // Reconciliation cannot see it: no outflow left the hot wallets.
    expect(result.kind).toBe('idle');
    const state = await db.store.getState();
    expect(state.tripped.global?.ruleId).toBe(RULE);
    expect(state.tripped.global?.evidence.summary).toContain(tx.getId());
    const page = publisher.pages.find((p) => p.kind === 'trip');
    expect(page?.subject).toContain('UNAPPROVED UTXO SPEND');
    expect(page?.text).toContain(`${tx.getId()} in a block: spends ${outpoint(stolen.utxo)}`);
    expect(page?.details).toMatchObject({
      stolenKeySignal: true,
      rule: RULE,
      transactionCount: 1,
      transactions: [{ txHash: tx.getId(), seen: 'latest', unapproved: [outpoint(stolen.utxo)] }],
    });
    // The halt reaches the signer.
    const next = take();
    await expect(signerAsks('after-trip', [next.utxo], BTC)).rejects.toThrow(new RegExp(RULE));
    unspent.unshift(next);

    await reset('reviewed: keys rotated, test');
    // The same block judged again (a re-read after a reorg or a lost lease): remembered, no new trip.
    const again = await watermarkCheck({ config, chain: config.chains.get(CHAIN)!, reader, approvals: db.store })({
      chain: CHAIN,
      nowMs: clock.now(),
      read: await reader.readRange(node.height, node.height),
    });
    expect(again?.(await db.store.getState(), clock.now())).toBeUndefined();
    await pollToTip();
    expect((await db.store.getState()).tripped).toEqual({});
  });

  it("with pending on, a thief's transfer trips while it waits in the mempool, and not again once mined", async () => {
    expect((await db.store.getState()).tripped).toEqual({});
    const stolen = take();
    const tx = node.createTx([stolen], [{ to: thief.address, value: stolen.utxo.value - 2_000n }]);
    node.broadcast(tx);
    useConfig(true);
    // Through the composition root, as `breaker watch` and the Lambda poller build it.
    const composed = composeLocal({ config, table: { client: db.client, tableName: db.tableName }, publisher, clock });
    await pollOnce(pollerDeps(composed, CHAIN, `composed-${use}`));
    let state = await db.store.getState();
    expect(state.tripped.global?.ruleId).toBe(RULE);
    expect(state.tripped.global?.evidence.summary).toContain(`${tx.getId()} (pending)`);
    expect(node.mempoolTxids()).toContain(tx.getId());

    await reset('reviewed: thief tx seen pending, test');
    node.mine();
    await pollToTip();
    state = await db.store.getState();
    expect(state.tripped).toEqual({});
    expect(state.outpointReported?.[CHAIN]).toContain(tx.getId());
  });

  it('judges the mempool once per transaction: a later poll fetches only new arrivals', async () => {
    useConfig(true);
    const a = take();
    await signerAsks('w-counted', [a.utxo], BTC);
    node.broadcast(node.createTx([a], [{ to: customer.address, value: BTC }]));
    const before = node.requests.length;
    await reader.pendingHotSpends();
    const firstCalls = node.requests.slice(before).flatMap((r) => r.calls);
    const mid = node.requests.length;
    const second = await reader.pendingHotSpends();
    const secondCalls = node.requests.slice(mid).flatMap((r) => r.calls);
    expect(second.map((s) => s.inputs.map((i) => i.outpoint))).toEqual([[outpoint(a.utxo)]]);
    if (use === 'rpc') {
      expect(firstCalls).toContain('getrawtransaction');
      expect(secondCalls).toEqual(['getrawmempool']);
    } else {
      expect(secondCalls).toEqual([`/address/${hot.address}/txs/mempool`, `/address/${hot2.address}/txs/mempool`]);
    }
    await pollToTip();
    expect((await db.store.getState()).tripped).toEqual({});
    node.mine();
  });
});
