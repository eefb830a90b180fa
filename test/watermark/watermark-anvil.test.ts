/**
 * The signed-nonce watermark end to end: anvil, dynalite, the real EVM reader, the guard recording the
 * nonce of everything the exchange's signer signs, and a thief signing with the same hot key.
 */

import { Interface, MaxUint256, Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { EvmChainReader } from '../../functions/adapters/evm/evm-chain-reader.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import { checkNonceWatermark } from '../../functions/core/use-cases/check-watermark.ts';
import { pollOnce } from '../../functions/core/use-cases/poll-chain.ts';
import { resetBreakerUseCase } from '../../functions/core/use-cases/reset-breaker.ts';
import { watermarkRuleId } from '../../functions/core/watermark/watermark.ts';
import { type BreakerGuard, createBreakerGuard } from '../../functions/guard/guard.ts';
import { TestToken } from '../../functions/local/contracts/artifacts.ts';
import type { SignedTx } from '../bench/chain-tools.ts';
import { generateTraffic, type Traffic } from '../bench/traffic.ts';
import { OffsetClock, RecordingPublisher } from '../integration/harness.ts';
import { type Anvil, startAnvil } from '../support/anvil.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';

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

  const deps = () => ({ config, chain: config.chains.get(CHAIN)!, reader, store: db.store, publisher, clock });
  let reader: EvmChainReader;

  beforeAll(async () => {
    anvil = await startAnvil({ noMining: true });
    db = await startTestStore();
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
    const pollDeps = { ...deps(), owner: 'poller-a' };
    // Read every traffic block the way the poller does, counting RPC calls without and with the watermark.
    reader.resetCounters();
    for (let i = 0; i < 10; i++) if ((await pollOnce(pollDeps)).result.kind === 'idle') break;
    const reads = reader.counters();
    reader.resetCounters();
    await checkNonceWatermark(deps());
    const check = reader.counters();
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
      await checkNonceWatermark(deps());
    }
    await anvil.mine();
    await checkNonceWatermark(deps());
    expect((await db.store.getState()).tripped).toEqual({});
    expect(await anvil.provider.getTransactionCount(hot.address, 'latest')).toBe(nonce + 1);
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
    await checkNonceWatermark(deps());
    let state = await db.store.getState();
    expect(state.tripped.global?.ruleId).toBe(RULE);
    const page = publisher.pages.find((p) => p.kind === 'trip');
    expect(page?.subject).toContain('NONCE ABOVE WATERMARK');
    expect(page?.text).toContain('STOLEN-KEY SIGNAL');
    expect(page?.text).toContain(hot1.address.toLowerCase());
    expect(page?.details).toMatchObject({ stolenKeySignal: true, rule: RULE });

    await resetBreakerUseCase(
      { config, store: db.store, publisher, clock },
      { reason: 'reviewed: keys rotated, test', actor: 'tester' },
    );
    await checkNonceWatermark(deps());
    expect((await db.store.getState()).tripped).toEqual({});

    await hot2.sendTransaction({
      to: traffic.tokens.usdt,
      data: erc20.encodeFunctionData('transfer', [thief, 1_000_000n]),
      gasLimit: 90_000n,
    });
    await anvil.mine();
    await checkNonceWatermark(deps());
    state = await db.store.getState();
    expect(state.tripped.global?.ruleId).toBe(RULE);
    expect(state.tripped.global?.evidence.summary).toContain(hot2.address.toLowerCase());
  });
});
