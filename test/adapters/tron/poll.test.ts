import { parseUnits, Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import { EvmChainReader } from '../../../functions/adapters/evm/evm-chain-reader.ts';
import { tronAddressFromEvm } from '../../../functions/adapters/tron/addresses.ts';
import { TronChainReader } from '../../../functions/adapters/tron/tron-chain-reader.ts';
import { OpsConsole } from '../../../functions/console/service.ts';
import type { ChainReader } from '../../../functions/core/chain-kind.ts';
import type { BreakerConfig, ChainConfig } from '../../../functions/core/config/types.ts';
import { ChainReadError } from '../../../functions/core/errors.ts';
import { pollOnce } from '../../../functions/core/use-cases/poll-chain.ts';
import { createKillSwitch } from '../../../functions/guard/kill-switch.ts';
import { OffsetClock, RecordingPublisher, USD } from '../../integration/harness.ts';
import { deployTestToken } from '../../support/anvil.ts';
import { startTestStore, type TestStore } from '../../support/dynamo.ts';
import { initialiseForTest } from '../../support/initialise.ts';
import type { TronKey } from '../../support/tron/tron-node.ts';
import { startTronWorld, type TronWorld, transferParams } from './helpers.ts';

/**
 * A Tron chain and an EVM chain (both on the stand-ins: the Tron node over anvil, the EVM chain on the
 * same anvil), the real readers, the core poll use case and a dynalite store: Tron outflows are
 * recorded exactly once through retries, restarts and two pollers, and count toward the global USD
 * limit together with EVM outflows.
 */
describe('Tron through the poller (stand-in + dynalite)', () => {
  let w: TronWorld;
  let db: TestStore;
  let config: BreakerConfig;
  let trx: ChainConfig;
  let evm: ChainConfig;
  let evmHot: Wallet;
  const publisher = new RecordingPublisher();
  const clock = new OffsetClock();

  beforeAll(async () => {
    w = await startTronWorld();
    db = await startTestStore();
    await initialiseForTest(db.store);
    evmHot = w.anvil.accounts[1]!;
    config = compileConfig(
      {
        name: 'tron-poll',
        chains: {
          devnet: {
            kind: 'evm',
            chainId: 31337,
            rpc: [w.anvil.url],
            confirmations: 0,
            blockTimeSeconds: 1,
            startBlock: (await w.anvil.provider.getBlockNumber()) + 1,
            hotWallets: [evmHot.address],
            native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
          },
          trx: {
            kind: 'tron',
            http: [w.server.url],
            jsonRpc: [`${w.server.url}/jsonrpc`],
            genesisBlockId: w.node.genesisBlockId,
            confirmations: 0,
            blockTimeSeconds: 3,
            maxBlocksPerPoll: 4,
            startBlock: 1,
            explorer: 'https://tronscan.example.test',
            // 41-hex is accepted and stored as the T… address.
            hotWallets: [`41${Buffer.from(w.hot.evm.address.slice(2), 'hex').toString('hex')}`],
            ownAddresses: [w.cold.address],
            native: { symbol: 'TRX', decimals: 6, usdPrice: 0.25 },
            tokens: [
              { symbol: 'USDT', contract: w.usdt.address, decimals: 6, usdPrice: 1 },
              { symbol: 'BTT', contract: '1002000', decimals: 6, usdPrice: 0.000001 },
            ],
          },
        },
        unknownAssets: { usdPerTransfer: 100 },
        limits: { global: { usd: { '1h': 1_000_000 } } },
      },
      'tron poll test',
    );
    trx = config.chains.get('trx')!;
    evm = config.chains.get('devnet')!;
  });
  afterAll(async () => {
    await w?.stop();
    await db?.close();
  });

  const poll = (chain: ChainConfig, reader: ChainReader, owner: string) =>
    pollOnce({ config, chain, reader, store: db.store, publisher, clock, owner, leaseMs: 30_000 });

  async function catchUp(chain: ChainConfig, reader: ChainReader, owner: string) {
    for (let i = 0; i < 100; i++) {
      const r = await poll(chain, reader, owner).catch((e: unknown) => {
        if (e instanceof ChainReadError) return undefined;
        throw e;
      });
      if (r?.result.kind === 'idle') return;
    }
    throw new Error('did not catch up within 100 polls');
  }

  it('records TRX, TRC-10 and TRC-20 outflows exactly once through retries, a restart and two pollers', async () => {
    const payees: TronKey[] = [];
    for (let i = 0; i < 4; i++) payees.push(await w.node.key());
    const expected: string[] = [];
    for (let b = 0; b < 15; b++) {
      const to = payees[b % 4]!.address;
      expected.push(await w.node.sendTrx(w.hot, to, BigInt(1_000_000 + b)));
      expected.push(await w.node.sendToken(w.hot, to, BigInt(10 + b), '1002000'));
      expected.push(
        await w.node.call(
          w.hot,
          w.usdt.address,
          'transfer(address,uint256)',
          transferParams(to, BigInt(5_000_000 + b)),
        ),
      );
      await w.node.produce();
      await w.node.produce();
    }
    // A sweep to the cold wallet: recorded, marked own.
    const sweep = await w.node.sendTrx(w.hot, w.cold.address, 42n);
    // A TRC-20 nobody configured: recorded as UNKNOWN, valued at unknownAssets.usdPerTransfer.
    const odd = await deployTestToken(w.anvil, { symbol: 'ODD', decimals: 18 });
    const oddAddress = tronAddressFromEvm(await odd.getAddress());
    await w.mint(odd, w.hot, 10n ** 20n);
    const unknown = await w.node.call(
      w.hot,
      oddAddress,
      'transfer(address,uint256)',
      transferParams(payees[0]!.address, 10n ** 19n),
    );
    await w.node.produce();

    // Fault injection (no stand-in makes a Lambda fail after reading): every second read is thrown away
    // after the reader did its work, as a timeout after the read would.
    const real = new TronChainReader(trx);
    let reads = 0;
    const flaky: ChainReader = {
      chain: real.chain,
      head: () => real.head(),
      blockRefs: (n) => real.blockRefs(n),
      async readRange(from, to) {
        const read = await real.readRange(from, to);
        if (reads++ % 2 === 1) throw new ChainReadError('injected: poller died after reading');
        return read;
      },
    };
    for (let i = 0; i < 3; i++) await poll(trx, flaky, 'poller-a').catch(() => undefined);
    // A restart: a new reader and a new owner, after poller-a's lease ran out.
    clock.offsetMs += 60_000;
    await Promise.all([
      catchUp(trx, new TronChainReader(trx), 'poller-b'),
      catchUp(trx, new TronChainReader(trx), 'poller-c'),
    ]);
    await catchUp(trx, flaky, 'poller-a');

    const out = await db.store.outflowsSince('trx', 0);
    expect(new Set(out.map((r) => r.id)).size).toBe(out.length);
    expect(out.map((r) => r.txHash).sort()).toEqual([...expected, sweep, unknown].sort());
    expect(out.find((r) => r.txHash === sweep)).toMatchObject({ own: true, asset: 'TRX', amount: 42n });
    expect(out.find((r) => r.txHash === unknown)).toMatchObject({
      asset: 'UNKNOWN',
      known: false,
      contract: oddAddress,
      amount: 10n ** 19n,
      usdMicros: 100n * USD,
    });
    const usdt = out.filter((r) => r.asset === 'USDT');
    expect(usdt.map((r) => r.amount).reduce((a, b) => a + b)).toBe(15n * 5_000_000n + 105n);
    expect(out.filter((r) => r.asset === 'BTT')).toHaveLength(15);
    expect(out.every((r) => r.from === w.hot.address)).toBe(true);
  });

  it('a Tron outflow counts toward the global USD limit together with an EVM one, and trips it', async () => {
    const killSwitch = createKillSwitch(db.store);
    // $600,000 of ETH on the EVM chain: under the $1M global limit.
    await (await evmHot.sendTransaction({ to: Wallet.createRandom().address, value: parseUnits('300', 18) })).wait();
    await catchUp(evm, new EvmChainReader(evm), 'evm-poller');
    expect(await killSwitch.isHalted({ chain: 'trx' })).toEqual({ halted: false });
    // $500,000 of USDT on Tron: $1.1M across the two chains.
    await w.mint(w.usdt.contract, w.hot, 500_000n * 10n ** 6n);
    const id = await w.node.call(
      w.hot,
      w.usdt.address,
      'transfer(address,uint256)',
      transferParams((await w.node.key()).address, 500_000n * 10n ** 6n),
    );
    await w.node.produce();
    await catchUp(trx, new TronChainReader(trx), 'poller-b');
    expect((await killSwitch.isHalted({ chain: 'trx' })).halted).toBe(true);
    const trip = publisher.ofKind('trip').at(-1)!;
    expect(trip.text).toContain('global-usd-1h');
    expect(trip.text).toContain(`https://tronscan.example.test/#/transaction/${id}`);
    const recorded = (await db.store.outflowsSince('trx', 0)).find((r) => r.txHash === id)!;
    expect(recorded.usdMicros).toBe(500_000n * USD);

    // The ops console shows the Tron chain's health (head read through the Tron reader) and the trip's
    // Tron transaction with its Tronscan link.
    const reader = new TronChainReader(trx);
    const ops = new OpsConsole({ config, store: db.store, publisher, clock, probeHead: () => reader.head() });
    const status = await ops.status('operator@test');
    expect(status.chains.find((c) => c.chain === 'trx')).toMatchObject({
      kind: 'tron',
      halted: true,
      lastBlock: w.node.solidHead,
      head: w.node.solidHead,
      rpc: { status: 'ok' },
    });
    const shown = status.trips.flatMap((t) => t.transactions).find((t) => t.txHash === id);
    expect(shown).toMatchObject({
      chain: 'trx',
      asset: 'USDT',
      link: `https://tronscan.example.test/#/transaction/${id}`,
    });
  });
});
