import { parseUnits } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import { XrplChainReader } from '../../../functions/adapters/xrpl/xrpl-chain-reader.ts';
import type { ChainConfig } from '../../../functions/core/config/types.ts';
import { ChainReadError } from '../../../functions/core/errors.ts';
import { pollOnce } from '../../../functions/core/use-cases/poll-chain.ts';
import { RecordingPublisher } from '../../integration/harness.ts';
import { startTestStore, type TestStore } from '../../support/dynamo.ts';
import { initialiseForTest } from '../../support/initialise.ts';
import { RIPPLE_EPOCH_OFFSET } from '../../support/xrpl/ledger-engine.ts';
import { startXrplWorld, USD_DECIMALS, type XrplWorld } from './helpers.ts';

/**
 * XRPL balances for the balance-drawdown rule, on the ledger stand-in (xrpl.js-signed ledgers with an
 * account state per closed ledger): account_info and account_lines at a validated ledger's hash.
 */
let world: XrplWorld | undefined;
let db: TestStore | undefined;
afterEach(async () => {
  await world?.stop();
  await db?.close();
  world = db = undefined;
});

const usd = (n: string) => parseUnits(n, USD_DECIMALS);

describe('XrplChainReader.balancesAt', () => {
  it('sums every hot wallet at the ledger asked for, not the latest, in the base units outflows use', async () => {
    const w = await startXrplWorld();
    world = w;
    const hot2 = w.engine.fund(3_000_000n);
    w.engine.trustSet(hot2, 'USD', w.issuer.classicAddress);
    w.engine.close();
    w.engine.payIou(w.issuer, hot2.classicAddress, 'USD', w.issuer.classicAddress, '0.1234567');
    const before = w.engine.close();
    w.engine.payXrp(w.hot, w.customer.classicAddress, 5_000_000n);
    w.engine.payIou(w.hot, w.customer.classicAddress, 'USD', w.issuer.classicAddress, '250000');
    w.engine.close();
    const reader = w.reader({ hotWallets: [w.hot.classicAddress, hot2.classicAddress] });
    const at = (l: { ledger_index: number; ledger_hash: string }) => ({ number: l.ledger_index, hash: l.ledger_hash });
    const drops = (ledger: number) =>
      [w.hot, hot2].reduce((s, a) => s + (w.engine.accountAt(ledger, a.classicAddress)?.drops ?? 0n), 0n);

    const then = await reader.balancesAt(at(before), [null, w.usd]);
    // 0.1234567 USD is 123456.7 base units at 6 decimals: a balance rounds down, never up.
    expect(then).toEqual(
      new Map([
        [null, drops(before.ledger_index)],
        [w.usd, usd('1000000') + 123_456n],
      ]),
    );
    const head = w.engine.ledgers.at(-1)!;
    const now = await reader.balancesAt(at(head), [w.usd, null]);
    expect(now.get(w.usd)).toBe(usd('750000') + 123_456n);
    expect(now.get(null)).toBe(drops(head.ledger_index));
    expect(drops(before.ledger_index) - drops(head.ledger_index)).toBe(5_000_000n + 2n * 12n); // the payment and two fees
  });

  it('batches account_info across wallets; a wallet the ledger does not hold counts as zero', async () => {
    const w = await startXrplWorld();
    world = w;
    const deleted = w.engine.fund(30_000_000n);
    const hot2 = w.engine.fund(7_000_000n);
    w.engine.close();
    w.engine.accountDelete(deleted, w.cold.classicAddress);
    const head = w.engine.close();
    w.engine.accounts.delete(deleted.classicAddress);
    const head2 = w.engine.close();
    const reader = w.reader({
      hotWallets: [w.hot.classicAddress, hot2.classicAddress, deleted.classicAddress],
      batchSize: 10,
    });
    w.server.log.httpRequests = 0;
    const balances = await reader.balancesAt({ number: head2.ledger_index, hash: head2.ledger_hash }, [null]);
    const expected = [w.hot, hot2].reduce(
      (s, a) => s + (w.engine.accountAt(head2.ledger_index, a.classicAddress)?.drops ?? 0n),
      0n,
    );
    expect(balances.get(null)).toBe(expected);
    // server_info once, the batch of three (one missing), then one call per wallet.
    expect(w.server.log.calls.account_info).toBe(3 + 3);
    expect(head.ledger_index).toBeLessThan(head2.ledger_index);
  });

  it('a malformed answer, or one for another ledger, is a ChainReadError — never a balance', async () => {
    const w = await startXrplWorld();
    world = w;
    const head = w.engine.ledgers.at(-1)!;
    const block = { number: head.ledger_index, hash: head.ledger_hash };
    w.server.faults.tamperState = (r) => {
      (r.account_data as Record<string, unknown>).Balance = 12.5;
    };
    await expect(w.reader().balancesAt(block, [null])).rejects.toThrow(ChainReadError);
    await expect(w.reader().balancesAt(block, [null])).rejects.toThrow(/not an amount of drops/);
    w.server.faults.tamperState = (r) => {
      r.ledger_hash = '0'.repeat(64);
    };
    await expect(w.reader().balancesAt(block, [w.usd])).rejects.toThrow(/account_lines .*not validated ledger/);
    w.server.faults.tamperState = (r) => {
      r.lines = [{ account: w.issuer.classicAddress, currency: 'USD', balance: 'lots' }];
    };
    await expect(w.reader().balancesAt(block, [w.usd])).rejects.toThrow(/not a decimal number/);
    // A hash the server does not have is an error too.
    w.server.faults.tamperState = undefined;
    await expect(w.reader().balancesAt({ ...block, hash: 'AB'.repeat(32) }, [null])).rejects.toThrow(/lgrNotFound/);
  });
});

describe('balance drawdown on an XRPL chain (stand-in + dynalite + the poll use case)', () => {
  it('a drain of an IOU trips the chain through the drawdown rule', async () => {
    const w = await startXrplWorld();
    world = w;
    // Ledgers close "now", so the rule's window sees them.
    w.engine.close(Math.floor(Date.now() / 1000) - RIPPLE_EPOCH_OFFSET - w.engine.ledgers.at(-1)!.close_time);
    db = await startTestStore();
    await initialiseForTest(db.store);
    const config = compileConfig(
      {
        name: 'xrpl-drawdown',
        chains: {
          xrpl: {
            kind: 'xrpl',
            rpc: [w.server.url],
            confirmations: 0,
            blockTimeSeconds: 4,
            startBlock: w.engine.validatedIndex + 1,
            explorer: 'https://livenet.xrpl.org',
            hotWallets: [w.hot.classicAddress],
            ownAddresses: [w.cold.classicAddress],
            native: { symbol: 'XRP', decimals: 6, usdPrice: 2 },
            tokens: [{ symbol: 'USD', contract: w.usd, decimals: USD_DECIMALS, usdPrice: 0.000001 }],
          },
        },
        limits: {
          global: { usd: { '1h': 1_000_000_000 } },
          patterns: { balanceDrawdown: { window: '1h', tripPercent: 50 } },
        },
      },
      'xrpl-drawdown',
    );
    const chain = config.chains.get('xrpl') as ChainConfig;
    const reader = new XrplChainReader(chain);
    const publisher = new RecordingPublisher();
    const poll = async () =>
      (await pollOnce({ config, chain, reader, store: db!.store, publisher, clock: Date, owner: 'p', leaseMs: 30_000 }))
        .result;
    // A sweep to cold (own) and 40 % to a customer: no trip.
    w.engine.payIou(w.hot, w.cold.classicAddress, 'USD', w.issuer.classicAddress, '100000');
    w.engine.payIou(w.hot, w.customer.classicAddress, 'USD', w.issuer.classicAddress, '360000');
    w.engine.close(1);
    expect(await poll()).toMatchObject({ kind: 'advanced', trips: [] });
    // Another 300k: 660k to outsiders within the hour, over half of the balance, valued at under a dollar.
    w.engine.payIou(w.hot, w.customer.classicAddress, 'USD', w.issuer.classicAddress, '300000');
    w.engine.close(1);
    const result = await poll();
    expect(result.kind === 'advanced' && result.trips.map((t) => t.ruleId)).toEqual(['pattern-drawdown-xrpl-1h']);
    expect((await db.store.getState()).tripped['chain:xrpl']).toBeDefined();
    const drained = (await db.store.outflowsSince('xrpl', 0)).filter((r) => r.to === w.customer.classicAddress);
    expect(drained.map((r) => r.balanceAfter)).toEqual([usd('540000'), usd('240000')]);
  });
});
