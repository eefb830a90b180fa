/**
 * The signed-nonce watermark end to end: anvil, dynalite, the real EVM reader, the guard recording the
 * nonce of everything the exchange's signer signs, and a thief signing with the same hot key.
 */

import { Interface, MaxUint256, Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { EvmChainReader } from '../../functions/adapters/evm/evm-chain-reader.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import { watermarkCheck } from '../../functions/core/use-cases/check-watermark.ts';
import { pollOnce } from '../../functions/core/use-cases/poll-chain.ts';
import { resetBreakerUseCase } from '../../functions/core/use-cases/reset-breaker.ts';
import { watermarkRuleId } from '../../functions/core/watermark/rule-ids.ts';
import { type BreakerGuard, createBreakerGuard } from '../../functions/guard/guard.ts';
import { TestToken } from '../../functions/local/contracts/artifacts.ts';
import { composeLocal, pollerDeps } from '../../functions/runtime/compose.ts';
import type { SignedTx } from '../bench/chain-tools.ts';
import { generateTraffic, type Traffic } from '../bench/traffic.ts';
import { OffsetClock, RecordingPublisher } from '../integration/harness.ts';
import { type Anvil, startAnvil } from '../support/anvil.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';
import { initialiseForTest } from '../support/initialise.ts';

const quiet = { warn() {}, error() {} };
const CHAIN = 'devnet';
const RULE = watermarkRuleId(CHAIN);
const erc20 = new Interface(TestToken.abi);
const CUSTOMER = '0x00000000000000000000000000000000c0ffee01';

function configFor(traffic: Traffic, pending: boolean): BreakerConfig {
  return compileConfig(
    {
      name: 'watermark-test',
      chains: {
        [CHAIN]: {
          kind: 'evm',
          chainId: 31337,
          rpc: [traffic.url],
          confirmations: 0,
          blockTimeSeconds: 1,
          maxBlocksPerPoll: 100,
          startBlock: traffic.firstBlock,
          hotWallets: traffic.hotWallets,
          ownAddresses: [traffic.cold],
          native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
          tokens: [{ symbol: 'USDT', contract: traffic.tokens.usdt, decimals: 6, usdPrice: 1 }],
        },
      },
      // Limits far above anything here: only the watermark can trip.
      limits: { global: { usd: { '10m': 1e12 }, count: { '10m': 1_000_000 }, singleTxUsd: 1e12 } },
      watermark: { enabled: true, pending },
    },
    'watermark-test',
  );
}

describe('nonce watermark on anvil + dynalite', () => {
  let anvil: Anvil;
  let db: TestStore;
  let traffic: Traffic;
  let config: BreakerConfig;
  let guard: BreakerGuard;
  const publisher = new RecordingPublisher();
  const clock = new OffsetClock();
  let approvals = 0;

  /** What the exchange's signer does before it signs anything with a hot key: ask the guard, with the nonce. */
  async function signerAsks(tx: Pick<SignedTx, 'hash' | 'from' | 'nonce'>, id = tx.hash): Promise<void> {
    approvals++;
    await guard.check({
      withdrawalId: id,
      chain: CHAIN,
      asset: 'ETH',
      destination: CUSTOMER,
      amount: '1',
      nonce: tx.nonce,
      hotWallet: tx.from,
    });
  }

  let reader: EvmChainReader;
  /** The poller's deps as compose.ts builds them: the watermark is one of the poll's checks. */
  const deps = () => {
    const chain = config.chains.get(CHAIN)!;
    const checks = [watermarkCheck({ config, chain, reader, approvals: db.store })];
    return { config, chain, reader, store: db.store, publisher, clock, owner: 'poller-a', checks };
  };
  /** One poll of the chain: new blocks recorded and evaluated, and the watermark judged. */
  const poll = async () => {
    const { result } = await pollOnce(deps());
    expect(result.kind).not.toBe('busy');
  };

  beforeAll(async () => {
    anvil = await startAnvil({ noMining: true });
    db = await startTestStore();
    await initialiseForTest(db.store);
    // The guard needs the config for hotWallet checks; the traffic tells us the addresses, so a first
    // guard is built from a config with the traffic's well-known dev accounts (anvil's 2nd and 3rd).
    const hotWallets = anvil.accounts.slice(1, 3).map((a) => a.address.toLowerCase());
    const provisional = configFor(
      {
        url: anvil.url,
        hotWallets,
        cold: anvil.accounts[3]!.address,
        firstBlock: 1,
        tokens: { usdt: anvil.accounts[0]!.address, wbtc: '', odd: '' },
      } as unknown as Traffic,
      false,
    );
    guard = createBreakerGuard({ store: db.store, config: provisional, logger: quiet });
    traffic = await generateTraffic(anvil.url, {
      blocks: 12,
      chain: CHAIN,
      beforeSend: async (txs) => {
        for (const tx of txs) if (hotWallets.includes(tx.from)) await signerAsks(tx);
      },
    });
    expect(traffic.hotWallets).toEqual(hotWallets);
    config = configFor(traffic, false);
    reader = new EvmChainReader(config.chains.get(CHAIN)!);
    await anvil.setAutomine(false);
  }, 120_000);

  afterAll(async () => {
    await anvil?.stop();
    await db?.close();
  });

  it('never trips on the bench traffic the guarded signer sent, and costs one request per poll', async () => {
    expect(approvals).toBeGreaterThan(traffic.stats.blocks * 3);
    const chain = config.chains.get(CHAIN)!;
    // Read every traffic block the way the poller does, counting RPC calls without and with the watermark.
    const withoutCheck = { ...deps(), checks: [] };
    reader.resetCounters();
    for (let i = 0; i < 10; i++) if ((await pollOnce(withoutCheck)).result.kind === 'idle') break;
    const reads = reader.counters();
    reader.resetCounters();
    const step = await watermarkCheck({ config, chain, reader, approvals: db.store })({ chain: CHAIN, nowMs: 0 });
    const check = reader.counters();
    expect(step).toBeUndefined();
    await poll();
    const blocks = traffic.lastBlock - (chain.startBlock as number) + 1;
    console.log(
      `watermark cost: ${blocks} blocks read with ${reads.rpcCalls} calls / ${reads.httpRequests} requests; ` +
        `one watermark check: +${check.rpcCalls} calls (one per hot wallet) in ${check.httpRequests} request`,
    );
    expect(check.rpcCalls).toBe(traffic.hotWallets.length);
    expect(check.httpRequests).toBe(1);
    const state = await db.store.getState();
    expect(state.tripped).toEqual({});
    expect(publisher.pages).toEqual([]);
  });

  it("a replacement of the signer's own pending transaction (same nonce, higher fee) never trips, pending or mined", async () => {
    const hot = anvil.accounts[1]!;
    const nonce = await anvil.provider.getTransactionCount(hot.address, 'pending');
    const send = async (tip: bigint) => {
      const signed = await hot.signTransaction({
        type: 2,
        chainId: 31337,
        nonce,
        to: CUSTOMER,
        value: 1000n,
        gasLimit: 21_000n,
        maxFeePerGas: 100n * tip,
        maxPriorityFeePerGas: tip,
      });
      // Asked again with the same withdrawal id and nonce: the guard's approval is idempotent.
      await signerAsks({ hash: '', from: hot.address.toLowerCase(), nonce }, 'replaced-withdrawal');
      await anvil.rpc('eth_sendRawTransaction', [signed]);
    };
    await send(1_000_000_000n);
    await send(2_000_000_000n);
    for (const pending of [true, false]) {
      config = configFor(traffic, pending);
      await poll();
    }
    await anvil.mine();
    await poll();
    expect((await db.store.getState()).tripped).toEqual({});
    expect(await anvil.provider.getTransactionCount(hot.address, 'latest')).toBe(nonce + 1);
  });

  it('a withdrawal approved and broadcast between the check reading the watermarks and the nonces never trips', async () => {
    const hot = anvil.accounts[1]!;
    const chain = config.chains.get(CHAIN)!;
    for (const pending of [true, false]) {
      config = configFor(traffic, pending);
      const nonce = await anvil.provider.getTransactionCount(hot.address, 'pending');
      // Timing injected at the store: the signer's guard call and broadcast land right after the check
      // reads the watermarks (a real signer does this at any moment; here at the worst one).
      const racing = {
        nonceWatermarks: async (c: string) => {
          const marks = await db.store.nonceWatermarks(c);
          await signerAsks({ hash: '', from: hot.address.toLowerCase(), nonce }, `racing-${pending}`);
          await hot.sendTransaction({ to: CUSTOMER, value: 1n, nonce, gasLimit: 21_000n });
          if (!pending) await anvil.mine();
          return marks;
        },
      };
      const step = await watermarkCheck({ config, chain, reader, approvals: racing })({ chain: CHAIN, nowMs: 0 });
      expect(step, `pending ${pending}`).toBeUndefined();
    }
    await anvil.mine();
    await poll();
    expect((await db.store.getState()).tripped).toEqual({});
  });

  it("a thief's approve (moves nothing) trips with the stolen-key page; a reset does not re-trip on it; his transfer trips again", async () => {
    config = configFor(traffic, false);
    const thief = Wallet.createRandom().address;
    const [hot1, hot2] = [anvil.accounts[1]!, anvil.accounts[2]!];
    await hot1.sendTransaction({
      to: traffic.tokens.usdt,
      data: erc20.encodeFunctionData('approve', [thief, MaxUint256]),
      gasLimit: 80_000n,
    });
    await anvil.mine();
    await poll();
    let state = await db.store.getState();
    expect(state.tripped.global?.ruleId).toBe(RULE);
    const page = publisher.pages.find((p) => p.kind === 'trip');
    expect(page?.subject).toContain('NONCE ABOVE WATERMARK');
    expect(page?.text).toContain('STOLEN-KEY SIGNAL');
    expect(page?.text).toContain(hot1.address.toLowerCase());
    expect(page?.details).toMatchObject({ stolenKeySignal: true, rule: RULE });
    // The halt reaches the signer: the guard now refuses the exchange's next withdrawal.
    await expect(
      guard.check({
        withdrawalId: 'after-trip',
        chain: CHAIN,
        asset: 'ETH',
        destination: CUSTOMER,
        amount: '1',
        nonce: 1_000_000,
        hotWallet: hot1.address,
      }),
    ).rejects.toThrow(new RegExp(RULE));

    await resetBreakerUseCase(
      { config, store: db.store, publisher, clock },
      { reason: 'reviewed: keys rotated, test', actor: 'tester' },
    );
    await poll();
    expect((await db.store.getState()).tripped).toEqual({});

    await hot2.sendTransaction({
      to: traffic.tokens.usdt,
      data: erc20.encodeFunctionData('transfer', [thief, 1_000_000n]),
      gasLimit: 90_000n,
    });
    await anvil.mine();
    await poll();
    state = await db.store.getState();
    expect(state.tripped.global?.ruleId).toBe(RULE);
    expect(state.tripped.global?.evidence.summary).toContain(hot2.address.toLowerCase());
  });

  it("judging the pending nonce, a thief's transaction trips while it still waits in the mempool", async () => {
    await resetBreakerUseCase(
      { config, store: db.store, publisher, clock },
      { reason: 'reviewed: second key rotation, test', actor: 'tester' },
    );
    const hot1 = anvil.accounts[1]!;
    await hot1.sendTransaction({ to: hot1.address, value: 0n, gasLimit: 21_000n });
    config = configFor(traffic, false);
    await poll();
    expect((await db.store.getState()).tripped).toEqual({});
    // Through the composition root, as `breaker watch` and the Lambda poller build it.
    config = configFor(traffic, true);
    const composed = composeLocal({ config, table: { client: db.client, tableName: db.tableName }, publisher, clock });
    await pollOnce(pollerDeps(composed, CHAIN, 'poller-b'));
    const state = await db.store.getState();
    expect(state.tripped.global?.ruleId).toBe(RULE);
    expect(state.tripped.global?.evidence.summary).toContain('(pending)');
    // Still not in a block: the signal came before inclusion.
    expect(await anvil.provider.getTransactionCount(hot1.address, 'latest')).toBeLessThan(
      await anvil.provider.getTransactionCount(hot1.address, 'pending'),
    );
  });
});
