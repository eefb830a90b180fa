import { parseUnits } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import { createChainReader } from '../../../functions/adapters/chain-readers.ts';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import { OpsConsole } from '../../../functions/console/service.ts';
import type { ChainReader } from '../../../functions/core/chain-kind.ts';
import type { BreakerConfig, ChainConfig } from '../../../functions/core/config/types.ts';
import { txLink } from '../../../functions/core/pages/breach-pages.ts';
import type { PollResult } from '../../../functions/core/use-cases/poll-chain.ts';
import { pollOnce } from '../../../functions/core/use-cases/poll-chain.ts';
import { RecordingPublisher } from '../../integration/harness.ts';
import { type Anvil, startAnvil } from '../../support/anvil.ts';
import { startTestStore, type TestStore } from '../../support/dynamo.ts';
import { initialiseForTest } from '../../support/initialise.ts';
import { RIPPLE_EPOCH_OFFSET, XrplLedgerEngine } from '../../support/xrpl/ledger-engine.ts';
import { XrplLedgerServer } from '../../support/xrpl/ledger-server.ts';
import { oracleLosses, transferLosses, USD_DECIMALS } from './helpers.ts';

/**
 * The XRPL reader under the real poll use case and a DynamoDB stand-in (dynalite): every outflow
 * recorded exactly once through failed polls, restarted pollers and two pollers at once, and an
 * XRPL outflow counting toward the global USD limit with an EVM one.
 */

const clock = { now: () => Date.now() };

interface World {
  engine: XrplLedgerEngine;
  server: XrplLedgerServer;
  db: TestStore;
  anvil?: Anvil;
  stop(): Promise<void>;
}

let world: World | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

async function startWorld(): Promise<World> {
  // Ledgers close "now", so the rules' windows see them.
  const engine = new XrplLedgerEngine(Math.floor(Date.now() / 1000) - RIPPLE_EPOCH_OFFSET - 600);
  const server = new XrplLedgerServer(engine);
  await server.start();
  const db = await startTestStore();
  await initialiseForTest(db.store);
  const w: World = {
    engine,
    server,
    db,
    async stop() {
      await server.stop();
      await db.close();
      await w.anvil?.stop();
    },
  };
  return w;
}

function xrplChainInput(w: World, hot: string, cold: string, issuer: string) {
  return {
    kind: 'xrpl',
    rpc: [w.server.url],
    confirmations: 0,
    blockTimeSeconds: 4,
    maxBlocksPerPoll: 4,
    startBlock: w.engine.validatedIndex + 1,
    explorer: 'https://livenet.xrpl.org',
    hotWallets: [hot],
    ownAddresses: [cold],
    native: { symbol: 'XRP', decimals: 6, usdPrice: 2 },
    tokens: [{ symbol: 'USD', contract: `USD.${issuer}`, decimals: USD_DECIMALS, usdPrice: 1 }],
  };
}

async function poll(
  config: BreakerConfig,
  chain: ChainConfig,
  reader: ChainReader,
  w: World,
  owner: string,
  publisher = new RecordingPublisher(),
) {
  return (await pollOnce({ config, chain, reader, store: w.db.store, publisher, clock, owner, leaseMs: 30_000 }))
    .result;
}

describe('XRPL outflows through the poller, exactly once', () => {
  it('records every XRP and IOU outflow once through failed polls, restarts and two pollers', async () => {
    const w = await startWorld();
    world = w;
    const hot = w.engine.fund(100_000_000_000n);
    const cold = w.engine.fund(50_000_000n);
    const customer = w.engine.fund(50_000_000n);
    const issuer = w.engine.fund(50_000_000n);
    for (const holder of [hot, cold, customer]) w.engine.trustSet(holder, 'USD', issuer.classicAddress);
    w.engine.close();
    w.engine.payIou(issuer, hot.classicAddress, 'USD', issuer.classicAddress, '1000000');
    w.engine.close();
    const config = compileConfig(
      {
        name: 'xrpl-poll',
        chains: { xrpl: xrplChainInput(w, hot.classicAddress, cold.classicAddress, issuer.classicAddress) },
        limits: { global: { usd: { '1h': 100_000_000 } } },
      },
      'xrpl-poll',
    );
    const chain = config.chains.get('xrpl') as ChainConfig;
    const first = w.engine.validatedIndex + 1;
    for (let i = 0; i < 30; i++) {
      w.engine.payXrp(hot, customer.classicAddress, BigInt(1_000_000 + i));
      if (i % 3 === 0)
        w.engine.payIou(hot, customer.classicAddress, 'USD', issuer.classicAddress, `${i}.5`, { transferRate: 1.001 });
      if (i % 5 === 0) w.engine.payXrp(hot, cold.classicAddress, 7_000_000n);
      if (i % 7 === 0) w.engine.payXrp(hot, customer.classicAddress, 1n, { result: 'tecNO_DST_INSUF_XRP' });
      w.engine.payXrp(customer, hot.classicAddress, 3n);
      w.engine.close();
    }

    // Poller A reads a little, then its endpoint fails for a poll (nothing recorded), then it restarts.
    expect(await poll(config, chain, createChainReader(chain), w, 'poller-a')).toMatchObject({ kind: 'advanced' });
    w.server.faults.fail503 = 1;
    await expect(poll(config, chain, createChainReader(chain), w, 'poller-a')).rejects.toThrow(/HTTP 503/);
    // Two pollers at once, each with its own reader (two Lambda invocations). A poll that loses the
    // race for the cursor fails and records nothing; what counts is the ledger afterwards.
    const outcomes: string[] = [];
    await Promise.all(
      ['poller-b', 'poller-c'].map(async (owner) => {
        const reader = createChainReader(chain);
        for (let k = 0; k < 6; k++) {
          outcomes.push(
            await poll(config, chain, reader, w, owner).then(
              (r: PollResult) => r.kind,
              () => 'failed',
            ),
          );
        }
      }),
    );
    expect(outcomes.filter((o) => o === 'advanced').length).toBeGreaterThan(0);
    const restarted = createChainReader(chain);
    for (let k = 0; k < 20; k++) {
      const r = await poll(config, chain, restarted, w, 'poller-d');
      if (r.kind === 'idle') break;
    }
    expect(await poll(config, chain, createChainReader(chain), w, 'poller-e')).toMatchObject({ kind: 'idle' });

    const recorded = await w.db.store.outflowsSince('xrpl', 0);
    expect(new Set(recorded.map((r) => r.id)).size).toBe(recorded.length);
    const ledgers = w.engine.ledgers.filter((l) => l.ledger_index >= first);
    // Exact: what was recorded per transaction is what xrpl.js says each hot wallet lost.
    expect(transferLosses(recorded)).toEqual(oracleLosses(ledgers, new Set([hot.classicAddress]), () => USD_DECIMALS));
    expect(recorded.filter((r) => r.own).every((r) => r.to === cold.classicAddress)).toBe(true);
    expect(recorded.some((r) => r.asset === 'USD' && r.known)).toBe(true);
    expect(txLink(config, recorded[0] as { chain: string; txHash: string })).toBe(
      `https://livenet.xrpl.org/transactions/${recorded[0]?.txHash}`,
    );
  });
});

describe('an XRPL outflow counts toward the global USD limit with an EVM one', () => {
  it('trips the global limit only with both chains’ outflows', async () => {
    const w = await startWorld();
    world = w;
    w.anvil = await startAnvil({ noMining: true });
    const [, evmHot] = w.anvil.accounts;
    const hot = w.engine.fund(100_000_000_000n);
    const customer = w.engine.fund(50_000_000n);
    w.engine.close();
    const config = compileConfig(
      {
        name: 'cross-chain',
        chains: {
          xrpl: {
            ...xrplChainInput(w, hot.classicAddress, customer.classicAddress, customer.classicAddress),
            ownAddresses: [],
            tokens: [],
          },
          devnet: {
            kind: 'evm',
            chainId: 31337,
            rpc: [w.anvil.url],
            confirmations: 0,
            blockTimeSeconds: 1,
            startBlock: (await w.anvil.provider.getBlockNumber()) + 1,
            hotWallets: [evmHot!.address],
            native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
          },
        },
        limits: { global: { usd: { '1h': 1000 } } },
      },
      'cross-chain',
    );
    const publisher = new RecordingPublisher();
    const xrpl = config.chains.get('xrpl') as ChainConfig;
    const evm = config.chains.get('devnet') as ChainConfig;

    // $600 on Ethereum: under the $1,000 global limit.
    await evmHot!.sendTransaction({
      to: customer.classicAddress.length ? '0x000000000000000000000000000000000000dEaD' : '',
      value: parseUnits('0.3', 18),
    });
    await w.anvil.mine(1);
    expect(await poll(config, evm, createChainReader(evm), w, 'evm', publisher)).toMatchObject({
      kind: 'advanced',
      trips: [],
    });
    // $600 on the XRP Ledger (300 XRP at $2): $1,200 across chains in the hour → the global trip.
    w.engine.payXrp(hot, customer.classicAddress, 300_000_000n);
    w.engine.close();
    const result = await poll(config, xrpl, createChainReader(xrpl), w, 'xrpl', publisher);
    expect(result).toMatchObject({ kind: 'advanced', trips: [expect.objectContaining({ ruleId: 'global-usd-1h' })] });
    expect((await w.db.store.getState()).tripped.global).toBeDefined();
    const page = publisher.ofKind('trip')[0];
    expect(page?.text).toContain('$1,200.00');
    expect(page?.text).toContain('https://livenet.xrpl.org/transactions/');

    // The ops console shows the XRPL chain's health (head probed through its reader) and the trip's
    // XRPL transaction with its explorer link.
    const ops = new OpsConsole({
      config,
      store: w.db.store,
      publisher,
      clock,
      probeHead: (id) => createChainReader(config.chains.get(id) as ChainConfig).head(),
    });
    const status = await ops.status('operator');
    expect(status.chains.find((c) => c.chain === 'xrpl')).toMatchObject({
      kind: 'xrpl',
      lastBlock: w.engine.validatedIndex,
      head: w.engine.validatedIndex,
      lagBlocks: 0,
      rpc: { status: 'ok' },
    });
    expect(JSON.stringify(status.trips)).toContain('https://livenet.xrpl.org/transactions/');
  });
});
