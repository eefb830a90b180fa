import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Contract, type Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { usdToMicros } from '../../functions/core/amounts.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import { type PollResult, pollOnce } from '../../functions/core/use-cases/poll-chain.ts';
import { composeFromEnv, composeLocal, pollerDeps } from '../../functions/runtime/compose.ts';
import TestPairFactory from '../fixtures/contracts/TestPairFactory.json' with { type: 'json' };
import { type Anvil, deploy, deployTestToken, startAnvil } from '../support/anvil.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';
import { type FaultProxy, FORWARD, rpcMessages, startFaultProxy } from '../support/fault-proxy.ts';
import { configInput } from '../support/fixtures.ts';
import { initialiseForTest } from '../support/initialise.ts';
import { customer, RecordingPublisher } from './harness.ts';

/**
 * The live poller values an unlisted token at its discovered price: anvil with a Uniswap-v2-style pool
 * (TestPools.sol), the EVM reader, dynalite, and the poller built by the composition root exactly as the
 * Lambda handler and `breaker watch` build it (composeLocal + pollerDeps). The RPC endpoint is a
 * forwarding proxy that only counts requests, to measure what discovery adds to a poll.
 */
describe('price discovery in the live poll (anvil + dynalite + compose)', () => {
  let anvil: Anvil;
  let db: TestStore;
  let rpc: FaultProxy;
  let config: BreakerConfig;
  let hot: Wallet;
  let usdc: Contract; // listed, the quote asset
  let pepe: Contract; // unlisted, a $500k-deep pool at $0.50
  let thin: Contract; // unlisted, only a $20k pool: below the floor
  const publisher = new RecordingPublisher();
  const calls: { http: number; rpc: number; ethCall: number } = { http: 0, rpc: 0, ethCall: 0 };
  const E18 = 10n ** 18n;
  const E6 = 10n ** 6n;

  beforeAll(async () => {
    anvil = await startAnvil();
    db = await startTestStore();
    await initialiseForTest(db.store);
    rpc = await startFaultProxy(anvil.url, (req) => {
      const messages = rpcMessages(req);
      calls.http++;
      calls.rpc += messages.length;
      calls.ethCall += messages.filter((m) => m.method === 'eth_call').length;
      return FORWARD;
    });
    hot = anvil.accounts[1] as Wallet;
    const factory = await deploy(anvil, TestPairFactory, []);
    usdc = await deployTestToken(anvil, { symbol: 'USDC', decimals: 6 });
    pepe = await deployTestToken(anvil, { symbol: 'PEPE', decimals: 18 });
    thin = await deployTestToken(anvil, { symbol: 'THIN', decimals: 18 });
    const pool = async (token: Contract, tokenAmount: bigint, usdcAmount: bigint) => {
      const [a, b] = [await token.getAddress(), await usdc.getAddress()];
      await (await factory.getFunction('createPair')(a, b)).wait();
      const pair = (await factory.getFunction('getPair')(a, b)) as string;
      await (await token.getFunction('mint')(pair, tokenAmount)).wait();
      await (await usdc.getFunction('mint')(pair, usdcAmount)).wait();
      await (await new Contract(pair, ['function sync()'], anvil.accounts[0]).getFunction('sync')()).wait();
    };
    await pool(pepe, 1_000_000n * E18, 500_000n * E6);
    await pool(thin, 1_000n * E18, 20_000n * E6);
    for (const token of [usdc, pepe, thin]) await (await token.getFunction('mint')(hot.address, 10n ** 30n)).wait();
    config = compileConfig(
      {
        name: 'discovery-live',
        chains: {
          devnet: {
            kind: 'evm',
            chainId: 31337,
            rpc: [rpc.url],
            confirmations: 0,
            blockTimeSeconds: 1,
            maxBlocksPerPoll: 20,
            startBlock: (await anvil.provider.getBlockNumber()) + 1,
            explorer: 'https://explorer.invalid',
            hotWallets: [hot.address],
            native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
            tokens: [{ symbol: 'USDC', contract: await usdc.getAddress(), decimals: 6, usdPrice: 1 }],
          },
        },
        unknownAssets: {
          usdPerTransfer: 100,
          discovery: {
            enabled: true,
            minLiquidityUsd: 100_000,
            chains: { devnet: { uniswapV2Factories: [await factory.getAddress()], quoteAssets: ['USDC'] } },
          },
        },
        // $1M per hour: 100 transfers of an unlisted token at the $100 worst case could never reach it.
        limits: { global: { usd: { '1h': 1_000_000 } } },
      },
      'discovery-live',
    );
  }, 60_000);

  afterAll(async () => {
    await rpc?.stop();
    await anvil?.stop();
    await db?.close();
  });

  /** One poller, built as every runtime builds it; polls until caught up and counts the RPC traffic. */
  const composed = () => composeLocal({ config, table: { client: db.client, tableName: db.tableName }, publisher });
  let runtime: ReturnType<typeof composed> | undefined;
  async function pollAll(): Promise<{ results: PollResult[]; http: number; rpc: number; ethCall: number }> {
    runtime ??= composed();
    const before = { ...calls };
    const results: PollResult[] = [];
    for (let i = 0; i < 10; i++) {
      const { result } = await pollOnce(pollerDeps(runtime, 'devnet', 'poller-a'));
      results.push(result);
      if (result.kind === 'idle') break;
    }
    return {
      results,
      http: calls.http - before.http,
      rpc: calls.rpc - before.rpc,
      ethCall: calls.ethCall - before.ethCall,
    };
  }

  async function send(token: Contract, to: string, amount: bigint): Promise<void> {
    await (await token.connect(hot).getFunction('transfer')(to, amount)).wait();
  }

  const recorded = async (to: string) =>
    (await db.store.outflowsSince('devnet', 0)).filter((r) => r.to === to.toLowerCase());

  it('catches up to the head first (the deploys and mints are no outflows)', async () => {
    const { results } = await pollAll();
    expect(results.at(-1)?.kind).toBe('idle');
  });

  it('an illiquid unlisted token is valued at the worst case, never zero, and a listed-only poll pays no discovery call', async () => {
    const friend = customer();
    await send(usdc, friend, 1_000n * E6);
    const listed = await pollAll();
    expect(listed.ethCall).toBe(0);

    const other = customer();
    await send(thin, other, 500n * E18); // the pool says $20 each: $10,000 — but only $20k deep
    const unlisted = await pollAll();
    expect((await recorded(other)).map((r) => [r.asset, r.usdMicros, r.priceSource])).toEqual([
      ['UNKNOWN', usdToMicros(100), 'unknown-asset'],
    ]);
    expect(unlisted.results.flatMap((r) => (r.kind === 'advanced' ? r.trips : []))).toEqual([]);
    // The token's decimals, one getPair, and the pair's token0 and getReserves: four eth_calls, in two
    // batched HTTP requests beyond what the same poll of a listed token costs.
    expect(unlisted.ethCall).toBe(4);
    expect(unlisted.rpc - listed.rpc).toBe(4);
    expect(unlisted.http - listed.http).toBe(2);
  });

  it('an unlisted-token drain trips through its discovered price', async () => {
    const thief = customer();
    // 2.5M PEPE at the pool's $0.50: $1.25M, over the $1M hourly limit; at $100 per transfer it would be $100.
    await send(pepe, thief, 2_500_000n * E18);
    const { results, ethCall } = await pollAll();
    expect(ethCall).toBe(4);
    expect((await recorded(thief)).map((r) => [r.asset, r.usdMicros, r.priceSource])).toEqual([
      ['UNKNOWN', usdToMicros(1_250_000), 'discovered'],
    ]);
    const trips = results.flatMap((r) => (r.kind === 'advanced' ? r.trips : []));
    expect(trips.map((t) => t.ruleId)).toEqual(['global-usd-1h']);
    expect((await db.store.getState()).tripped.global?.ruleId).toBe('global-usd-1h');
  });

  it('within cacheSeconds a token already priced costs no further call', async () => {
    const thief = customer();
    await send(pepe, thief, 1_000n * E18);
    const { ethCall } = await pollAll();
    expect(ethCall).toBe(0);
    expect((await recorded(thief)).map((r) => [r.usdMicros, r.priceSource])).toEqual([
      [usdToMicros(500), 'discovered'],
    ]);
  });
});

describe('the Lambda composition builds discovery from the deployed config', () => {
  it('gives every poller the one discovery source when the config turns it on, and none when it is off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'discovery-compose-'));
    try {
      const file = join(dir, 'breaker-config.yaml');
      const input = configInput();
      input.unknownAssets = {
        usdPerTransfer: 100,
        discovery: {
          enabled: true,
          chains: {
            ethereum: { uniswapV2Factories: ['0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f'], quoteAssets: ['USDC'] },
          },
        },
      };
      writeFileSync(file, stringifyYaml(input));
      const env = { BREAKER_TABLE: 't', BREAKER_CONFIG_FILE: file };
      const c = await composeFromEnv(env);
      expect(c.discovery).toBeDefined();
      const withPager = { ...c, publisher: { publish: async () => undefined } };
      expect(pollerDeps(withPager, 'ethereum', 'a').discovery).toBe(c.discovery);
      expect(pollerDeps(withPager, 'bsc', 'b').discovery).toBe(c.discovery);
      const off = await composeFromEnv({ BREAKER_TABLE: 't', BREAKER_CONFIG_FILE: 'config/example.yaml' });
      expect(off.discovery).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
