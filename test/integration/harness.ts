/**
 * End-to-end harness: a real anvil chain, a real dynalite store, the real EVM reader and the core
 * poll use case. Blocks are mined by hand (automine off) so each test controls what a poll sees.
 */

import { type Contract, parseUnits, Wallet } from 'ethers';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { EvmChainReader } from '../../functions/adapters/evm/evm-chain-reader.ts';
import { createChainlinkPriceSource } from '../../functions/adapters/prices/chainlink-price-source.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import type { OutflowRecord } from '../../functions/core/model.ts';
import type { BreakerStore, PagePublisher } from '../../functions/core/ports.ts';
import type { Page } from '../../functions/core/state.ts';
import type { Clock } from '../../functions/core/time.ts';
import { type PollResult, pollOnce } from '../../functions/core/use-cases/poll-chain.ts';
import TestAggregator from '../fixtures/contracts/TestAggregator.json' with { type: 'json' };
import { type Anvil, deploy, deployTestToken, startAnvil } from '../support/anvil.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';
import { initialiseForTest } from '../support/initialise.ts';

export const USD = 1_000_000n;

/**
 * Records pages in memory. A test double for the PagePublisher port, used where the test is about
 * the breaker's decisions; the SNS path itself is exercised against the local SNS server.
 */
export class RecordingPublisher implements PagePublisher {
  readonly pages: Page[] = [];
  failNext = 0;
  async publish(page: Page): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('injected publish failure');
    }
    this.pages.push(page);
  }
  ofKind(kind: Page['kind']): Page[] {
    return this.pages.filter((p) => p.kind === kind);
  }
}

/** Wall clock plus an adjustable offset (to let leases expire without waiting). */
export class OffsetClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

export interface HarnessOptions {
  /** Value ETH from a Chainlink-style aggregator on the chain ($2,500, 8 decimals; worst case $5,000). */
  ethPriceFeed?: boolean;
  confirmations?: number;
  globalUsd10m?: number;
  warnRatio?: number;
  /** `limits.patterns.balanceDrawdown` (config docs/RULES.md); none by default. */
  balanceDrawdown?: Record<string, unknown>;
}

export interface Harness {
  anvil: Anvil;
  db: TestStore;
  store: BreakerStore;
  config: BreakerConfig;
  reader: EvmChainReader;
  publisher: RecordingPublisher;
  clock: OffsetClock;
  hot: Wallet;
  cold: string;
  usdt: Contract;
  unknownToken: Contract;
  /** The ETH/USD aggregator, when ethPriceFeed was asked for. */
  feed: Contract | undefined;
  /** Poll as `owner` (defaults to 'poller-a'); returns the result. */
  poll(owner?: string, store?: BreakerStore, publisher?: PagePublisher): Promise<PollResult>;
  /** Poll until caught up. */
  catchUp(owner?: string): Promise<PollResult[]>;
  outflows(): Promise<OutflowRecord[]>;
  stop(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const anvil = await startAnvil({ noMining: true });
  const db = await startTestStore();
  await initialiseForTest(db.store);
  try {
    const [deployer, hot, , coldWallet] = anvil.accounts as [Wallet, Wallet, Wallet, Wallet];
    await anvil.setAutomine(true);
    const usdt = await deployTestToken(anvil, { symbol: 'USDT', decimals: 6 }, deployer);
    const unknownToken = await deployTestToken(anvil, { symbol: 'ODD', decimals: 18 }, deployer);
    await (await usdt.getFunction('mint')(hot.address, parseUnits('100000000', 6))).wait();
    await (await unknownToken.getFunction('mint')(hot.address, parseUnits('1000000', 18))).wait();
    const feed = options.ethPriceFeed ? await deploy(anvil, TestAggregator, [8, 2_500_00000000n], deployer) : undefined;
    await anvil.setAutomine(false);
    const config = compileConfig(
      {
        name: 'it-test',
        chains: {
          devnet: {
            kind: 'evm',
            chainId: 31337,
            rpc: [anvil.url],
            confirmations: options.confirmations ?? 0,
            blockTimeSeconds: 1,
            maxBlocksPerPoll: 20,
            startBlock: (await anvil.provider.getBlockNumber()) + 1,
            explorer: 'https://explorer.invalid',
            hotWallets: [hot.address],
            ownAddresses: [coldWallet.address],
            native: {
              symbol: 'ETH',
              decimals: 18,
              usdPrice: 2000,
              ...(feed && {
                priceFeed: { address: await feed.getAddress(), maxAgeSeconds: 600 },
                worstCaseUsdPrice: 5000,
              }),
            },
            tokens: [{ symbol: 'USDT', contract: await usdt.getAddress(), decimals: 6, usdPrice: 1 }],
          },
        },
        unknownAssets: { usdPerTransfer: 100 },
        limits: {
          warnRatio: options.warnRatio ?? 0.8,
          global: { usd: { '10m': options.globalUsd10m ?? 10_000_000 }, count: { '10m': 1000 } },
          ...(options.balanceDrawdown && { patterns: { balanceDrawdown: options.balanceDrawdown } }),
        },
      },
      'harness',
    );
    const chain = config.chains.get('devnet')!;
    const reader = new EvmChainReader(chain);
    const publisher = new RecordingPublisher();
    const prices = feed ? createChainlinkPriceSource(config) : undefined;
    const clock = new OffsetClock();
    const deps = (owner: string, store: BreakerStore, pub: PagePublisher) => ({
      config,
      chain,
      reader,
      store,
      publisher: pub,
      clock,
      owner,
      leaseMs: 30_000,
      prices,
    });
    const harness: Harness = {
      anvil,
      db,
      store: db.store,
      config,
      reader,
      publisher,
      clock,
      hot,
      cold: coldWallet.address,
      usdt,
      unknownToken,
      feed,
      async poll(owner = 'poller-a', store = db.store, pub = publisher) {
        return (await pollOnce(deps(owner, store, pub))).result;
      },
      async catchUp(owner = 'poller-a') {
        const results: PollResult[] = [];
        for (let i = 0; i < 50; i++) {
          const r = await harness.poll(owner);
          results.push(r);
          if (r.kind === 'idle') return results;
        }
        throw new Error('did not catch up within 50 polls');
      },
      async outflows() {
        return db.store.outflowsSince('devnet', 0);
      },
      async stop() {
        await anvil.stop();
        await db.close();
      },
    };
    return harness;
  } catch (e) {
    await anvil.stop();
    await db.close();
    throw e;
  }
}

/** A fresh random customer address. */
export function customer(): string {
  return Wallet.createRandom().address;
}
