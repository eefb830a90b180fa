import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import { tronAddressFromEvm } from '../../../functions/adapters/tron/addresses.ts';
import { TronChainReader } from '../../../functions/adapters/tron/tron-chain-reader.ts';
import type { ChainConfig } from '../../../functions/core/config/types.ts';
import { ChainReadError } from '../../../functions/core/errors.ts';
import { pollOnce } from '../../../functions/core/use-cases/poll-chain.ts';
import { OffsetClock, RecordingPublisher } from '../../integration/harness.ts';
import { deployLogEmitter, deployTestToken } from '../../support/anvil.ts';
import { startTestStore } from '../../support/dynamo.ts';
import { initialiseForTest } from '../../support/initialise.ts';
import type { TronKey } from '../../support/tron/tron-node.ts';
import { startTronWorld, type TronWorld, transferParams, tronReader } from './helpers.ts';

/**
 * Tron balances for the balance-drawdown rule on the stand-in (tronweb-signed transactions, TRC-20 run
 * on anvil; the node keeps each block's TRX/TRC-10 balances): getaccount and triggerconstantcontract
 * at the solidified head, which must be at or past the block.
 */
const TRC10 = '1002000';

describe('TronChainReader.balancesAt', () => {
  let w: TronWorld;
  let hot2: TronKey;
  beforeEach(async () => {
    w = await startTronWorld();
    hot2 = await w.node.key();
    w.node.credit(w.hot.address, 5_000_000_000n, { [TRC10]: 700n });
    w.node.credit(hot2.address, 3_000_000n);
    await w.mint(w.usdt.contract, hot2, 25n);
    await w.node.produce();
  });
  afterEach(async () => {
    await w?.stop();
  });

  const reader = (url = w.server.url) =>
    tronReader({ http: [url], genesisBlockId: w.node.genesisBlockId, hotWallets: [w.hot.address, hot2.address] });

  it('sums TRX, a TRC-10 and a TRC-20 over the hot wallets; a wallet that does not exist holds nothing', async () => {
    const stranger = await w.node.key();
    await w.node.sendTrx(w.hot, stranger.address, 1_000_000n);
    await w.node.call(w.hot, w.usdt.address, 'transfer(address,uint256)', transferParams(stranger.address, 400n));
    const block = await w.node.produce();
    const r = tronReader({
      http: [w.server.url],
      genesisBlockId: w.node.genesisBlockId,
      hotWallets: [w.hot.address, hot2.address, (await w.node.key()).address],
    });
    const balances = await r.balancesAt({ number: block, hash: 'unused' }, [null, TRC10, w.usdt.address]);
    // Each transaction costs its sender the stand-in's 1.1 TRX fee.
    expect(balances).toEqual(
      new Map<string | null, bigint>([
        [null, 5_000_000_000n - 1_000_000n - 2n * 1_100_000n + 3_000_000n],
        [TRC10, 700n],
        [w.usdt.address, 1_000_000_000_000n - 400n + 25n],
      ]),
    );
  });

  it('leaves out a contract whose balanceOf fails; an endpoint whose solidified head is behind the block is not used', async () => {
    const emitter = tronAddressFromEvm(await (await deployLogEmitter(w.anvil)).getAddress());
    const block = await w.node.produce();
    expect(await reader().balancesAt({ number: block, hash: 'unused' }, [emitter])).toEqual(new Map());
    const lagging = await w.serve({ lagBlocks: 1 });
    await expect(reader(lagging.url).balancesAt({ number: block, hash: 'unused' }, [null])).rejects.toThrow(
      /solidified head \d+ is behind block/,
    );
  });

  it('a malformed answer is a ChainReadError naming what is wrong', async () => {
    const block = await w.node.produce();
    const broken = await w.serve({
      rewrite: (path, answer) => (path.endsWith('/getaccount') ? { ...(answer as object), balance: -5 } : answer),
    });
    const read = reader(broken.url).balancesAt({ number: block, hash: 'unused' }, [null]);
    await expect(read).rejects.toThrow(ChainReadError);
    await expect(reader(broken.url).balancesAt({ number: block, hash: 'unused' }, [null])).rejects.toThrow(
      /getaccount\(T\w+\)\.balance is not an amount/,
    );
  });
});

describe('balance drawdown on a Tron chain (stand-in + dynalite + the poll use case)', () => {
  it('a drain of an unlisted TRC-20 trips the chain through the drawdown rule', async () => {
    const w = await startTronWorld();
    const db = await startTestStore();
    try {
      await initialiseForTest(db.store);
      const odd = await deployTestToken(w.anvil, { symbol: 'ODD', decimals: 18 });
      const oddAddress = tronAddressFromEvm(await odd.getAddress());
      await w.mint(odd, w.hot, 1_000n);
      const thief = await w.node.key();
      const config = compileConfig(
        {
          name: 'tron-drawdown',
          chains: {
            trx: {
              kind: 'tron',
              http: [w.server.url],
              genesisBlockId: w.node.genesisBlockId,
              confirmations: 0,
              blockTimeSeconds: 3,
              startBlock: (await w.node.produce()) + 1,
              explorer: 'https://tronscan.example.test',
              hotWallets: [w.hot.address],
              native: { symbol: 'TRX', decimals: 6, usdPrice: 0.25 },
              tokens: [{ symbol: 'USDT', contract: w.usdt.address, decimals: 6, usdPrice: 1 }],
            },
          },
          unknownAssets: { usdPerTransfer: 1 },
          limits: {
            global: { usd: { '1h': 1_000_000_000 } },
            patterns: { balanceDrawdown: { window: '1h', tripPercent: 50 } },
          },
        },
        'tron-drawdown',
      );
      const chain = config.chains.get('trx') as ChainConfig;
      const reader = new TronChainReader(chain);
      w.node.credit(w.hot.address, 100_000_000n);
      const poll = async () =>
        (
          await pollOnce({
            config,
            chain,
            reader,
            store: db.store,
            publisher: new RecordingPublisher(),
            clock: new OffsetClock(),
            owner: 'p',
            leaseMs: 30_000,
          })
        ).result;
      const take = async (amount: bigint) => {
        await w.node.call(w.hot, oddAddress, 'transfer(address,uint256)', transferParams(thief.address, amount));
        await w.node.produce();
      };
      await take(400n);
      expect(await poll()).toMatchObject({ kind: 'advanced', trips: [] });
      await take(300n);
      const result = await poll();
      expect(result.kind === 'advanced' && result.trips.map((t) => t.ruleId)).toEqual(['pattern-drawdown-trx-1h']);
      expect((await db.store.getState()).tripped['chain:trx']).toBeDefined();
      const drained = (await db.store.outflowsSince('trx', 0)).filter((r) => r.contract === oddAddress);
      expect(drained.map((r) => [r.asset, r.balanceAfter])).toEqual([
        ['UNKNOWN', 600n],
        ['UNKNOWN', 300n],
      ]);
    } finally {
      await w.stop();
      await db.close();
    }
  });
});
