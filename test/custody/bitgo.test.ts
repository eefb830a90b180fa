/**
 * The BitGo webhook policy endpoint against a stand-in of BitGo's side (test/support/bitgo.ts) and a
 * real store (dynalite). BitGo reads only the status: 200 continues, anything else is the rule's action.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BitgoSettings } from '../../functions/core/custody/config.ts';
import { createBitgoPolicy } from '../../functions/custody/bitgo.ts';
import type { GuardStore } from '../../functions/guard/guard.ts';
import { haltedGlobal } from '../actuators/support.ts';
import { BitgoStandIn, bitgoPolicyBody } from '../support/bitgo.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';
import {
  allApprovals,
  arm,
  BTC_CUSTOMERS,
  BTC_HOT,
  custodyTestConfig,
  halt,
  hangingReads,
  quiet,
  type Served,
  serve,
} from './support.ts';

const TOKEN = 'k3y-0f-the-policy-url-0123456789abcdef';
const WALLETS = { '5b68209cf700a6c0035424511e7961f1': { chain: 'btc', asset: 'BTC', decimals: 8 } };
const WALLET = '5b68209cf700a6c0035424511e7961f1';
const FIELDS = { walletId: 'walletId', outputs: 'outputs', outputAddress: 'address', outputAmount: 'amount' };

describe('BitGo webhook policy', () => {
  let db: TestStore;
  let served: Served | undefined;

  beforeEach(async () => {
    db = await startTestStore();
  });
  afterEach(async () => {
    await served?.close();
    served = undefined;
    await db.close();
  });

  async function start(settings: Partial<BitgoSettings> = {}, store?: GuardStore): Promise<BitgoStandIn> {
    served = await serve(
      createBitgoPolicy({
        store: store ?? db.store,
        config: custodyTestConfig(),
        settings: { timeoutMs: 10_000, wallets: WALLETS, fields: FIELDS, ...settings },
        pathToken: TOKEN,
        logger: quiet,
      }),
    );
    return new BitgoStandIn(`${served.url}/bitgo/${TOKEN}`);
  }

  const send = (nonce: string, ...outputs: [string, string][]) =>
    bitgoPolicyBody({ walletId: WALLET, nonce, outputs: outputs.map(([address, amount]) => ({ address, amount })) });

  it('armed: 200, one record per output in base units, change back to the hot wallet not recorded', async () => {
    await arm(db.store);
    const bitgo = await start();
    expect(await bitgo.evaluate(send('01', [BTC_CUSTOMERS[0], '10000000'], [BTC_HOT, '4990000']))).toEqual({
      kind: 'continue',
    });
    const records = await allApprovals(db.store, 'btc');
    expect(records.map((r) => [r.destination, r.asset, r.amount])).toEqual([[BTC_CUSTOMERS[0], 'BTC', 10_000_000n]]);
    expect(records[0]?.withdrawalId).toMatch(/^bitgo:[0-9a-f]{40}:0$/);
  });

  it('a consolidation to own addresses continues when armed, records nothing, and is refused when halted', async () => {
    await arm(db.store);
    const bitgo = await start();
    expect(await bitgo.evaluate(send('0c', [BTC_HOT, '123456']))).toEqual({ kind: 'continue' });
    expect(await allApprovals(db.store, 'btc')).toEqual([]);
    await halt(db.store, haltedGlobal);
    expect(await bitgo.evaluate(send('0d', [BTC_HOT, '123456']))).toMatchObject({ kind: 'rule-action', status: 403 });
  });

  it('halted: a non-200 naming the trip (the rule action denies), nothing recorded', async () => {
    await arm(db.store);
    await halt(db.store, haltedGlobal);
    const bitgo = await start();
    const out = await bitgo.evaluate(send('02', [BTC_CUSTOMERS[0], '1']));
    expect(out).toMatchObject({ kind: 'rule-action', status: 403 });
    expect(out.kind === 'rule-action' && out.reason).toContain('reconciliation-devnet-unapproved');
    expect(await allApprovals(db.store, 'btc')).toEqual([]);
  });

  it('store down or hung: a non-200 within the deadline', async () => {
    await arm(db.store);
    const hung = await start({ timeoutMs: 500 }, hangingReads(db.store));
    expect(await hung.evaluate(send('03', [BTC_CUSTOMERS[0], '1']))).toMatchObject({
      kind: 'rule-action',
      status: 503,
    });
    await served?.close();
    const bitgo = await start();
    await db.close();
    expect(await bitgo.evaluate(send('04', [BTC_CUSTOMERS[0], '1']))).toMatchObject({
      kind: 'rule-action',
      status: 503,
    });
  }, 20_000);

  it('without the secret path token nothing is approved, whatever the body', async () => {
    await arm(db.store);
    const bitgo = await start();
    for (const path of ['/bitgo/', `/bitgo/${TOKEN.slice(0, -1)}`, `/bitgo/${TOKEN}x`, '/']) {
      bitgo.url = `${served?.url}${path}`;
      expect(await bitgo.evaluate(send('05', [BTC_CUSTOMERS[0], '1']))).toMatchObject({ status: 404 });
    }
    expect(await allApprovals(db.store, 'btc')).toEqual([]);
  });

  it('the same transaction asked twice is recorded once; other transactions get their own records', async () => {
    await arm(db.store);
    const bitgo = await start();
    const body = send('06', [BTC_CUSTOMERS[1], '2500']);
    expect(await bitgo.evaluate(body)).toEqual({ kind: 'continue' });
    expect(await bitgo.evaluate(body)).toEqual({ kind: 'continue' });
    expect(await bitgo.evaluate(send('07', [BTC_CUSTOMERS[1], '2500']))).toEqual({ kind: 'continue' });
    expect((await allApprovals(db.store, 'btc')).map((r) => r.amount)).toEqual([2500n, 2500n]);
  });

  it('unmapped wallets and amounts that are not base units are refused', async () => {
    await arm(db.store);
    const bitgo = await start();
    const other = bitgoPolicyBody({
      walletId: 'unknown-wallet',
      outputs: [{ address: BTC_CUSTOMERS[0], amount: '1' }],
    });
    expect(await bitgo.evaluate(other)).toMatchObject({ status: 403 });
    expect(await bitgo.evaluate(send('08', [BTC_CUSTOMERS[0], '0.1']))).toMatchObject({ status: 403 });
    expect(await bitgo.evaluate('not json')).toMatchObject({ status: 403 });
    expect(await allApprovals(db.store, 'btc')).toEqual([]);
  });

  it('body key names come from the config, for when a sandbox capture shows other names', async () => {
    await arm(db.store);
    const bitgo = await start({
      fields: { walletId: 'wallet', outputs: 'recipients', outputAddress: 'address', outputAmount: 'valueString' },
    });
    const body = { wallet: WALLET, recipients: [{ address: BTC_CUSTOMERS[2], valueString: '42' }] };
    expect(await bitgo.evaluate(body)).toEqual({ kind: 'continue' });
    expect((await allApprovals(db.store, 'btc')).map((r) => r.amount)).toEqual([42n]);
  });

  it('refuses a short path token', () => {
    expect(() =>
      createBitgoPolicy({
        store: db.store,
        config: custodyTestConfig(),
        settings: { timeoutMs: 10_000, wallets: WALLETS, fields: FIELDS },
        pathToken: 'short',
      }),
    ).toThrow('≥ 32 URL-safe characters');
  });
});
