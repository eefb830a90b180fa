/**
 * The Cobo WaaS callback against a stand-in of Cobo's side (test/support/cobo.ts) and a real store
 * (dynalite), for both signature schemes: Ed25519 (WaaS 2.0 bodies) and secp256k1 ECDSA (1.0).
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CoboSettings } from '../../functions/core/custody/config.ts';
import { createCoboCallback } from '../../functions/custody/cobo.ts';
import type { GuardStore } from '../../functions/guard/guard.ts';
import { haltedGlobal } from '../actuators/support.ts';
import { type CoboScheme, CoboStandIn, coboV1Withdrawal, coboV2Withdrawal } from '../support/cobo.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';
import {
  allApprovals,
  arm,
  BTC_CUSTOMERS,
  CUSTOMER,
  custodyTestConfig,
  failingFirstReads,
  halt,
  quiet,
  type Served,
  serve,
} from './support.ts';

const TOKENS = {
  ETH: { chain: 'devnet', asset: 'ETH', decimals: 18 },
  ETH_USDT: { chain: 'devnet', asset: 'USDT', decimals: 6 },
  BTC: { chain: 'btc', asset: 'BTC', decimals: 8 },
};

/** One ETH withdrawal in the scheme's own body format: 2.0 whole units, 1.0 base units. */
function ethWithdrawal(scheme: CoboScheme, id: string, wei: bigint, whole: string) {
  return scheme === 'ed25519'
    ? coboV2Withdrawal({ transactionId: id, tokenId: 'ETH', outputs: [{ address: CUSTOMER, amount: whole }] })
    : coboV1Withdrawal({ id, coin: 'ETH', decimal: 18, address: CUSTOMER, amount: String(wei) });
}

describe.each(['ed25519', 'ecdsa'] as const)('Cobo WaaS callback (%s)', (scheme) => {
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

  async function start(settings: Partial<CoboSettings> = {}, store?: GuardStore): Promise<CoboStandIn> {
    const cobo = new CoboStandIn(scheme, '', { repushIntervalMs: 20 });
    served = await serve(
      createCoboCallback({
        store: store ?? db.store,
        config: custodyTestConfig(),
        settings: {
          signature: scheme,
          publicKey: cobo.publicKeyHex,
          toleranceSeconds: 300,
          timeoutMs: 10_000,
          onFault: 'deny',
          tokens: TOKENS,
          ...settings,
        },
        logger: quiet,
      }),
    );
    cobo.url = `${served.url}/cobo/callback`;
    return cobo;
  }

  it('armed: ok, and one approval record in exact base units', async () => {
    await arm(db.store);
    const cobo = await start();
    expect(await cobo.push(ethWithdrawal(scheme, 'tx-1', 10_000_000_000_000_000n, '0.01'))).toEqual({
      kind: 'answered',
      answer: 'ok',
      pushes: 1,
    });
    expect((await allApprovals(db.store, 'devnet')).map(({ approvedAtMs: _, ...r }) => r)).toEqual([
      {
        withdrawalId: scheme === 'ed25519' ? 'cobo:tx-1' : 'cobo:req-tx-1',
        chain: 'devnet',
        asset: 'ETH',
        destination: CUSTOMER,
        amount: 10_000_000_000_000_000n,
      },
    ]);
  });

  it('halted: deny, nothing recorded', async () => {
    await arm(db.store);
    await halt(db.store, haltedGlobal);
    const cobo = await start();
    expect(await cobo.push(ethWithdrawal(scheme, 'tx-h', 1n, '0.000000000000000001'))).toMatchObject({
      answer: 'deny',
    });
    expect(await allApprovals(db.store, 'devnet')).toEqual([]);
  });

  it('store down: deny well before any deadline', async () => {
    await arm(db.store);
    const cobo = await start();
    await db.close();
    const started = performance.now();
    expect(await cobo.push(ethWithdrawal(scheme, 'tx-d', 5n, '0.000000000000000005'))).toMatchObject({
      answer: 'deny',
    });
    expect(performance.now() - started).toBeLessThan(10_000);
  }, 20_000);

  it('onFault retry: HTTP 503 so Cobo pushes again; the store back, ok and exactly one record', async () => {
    await arm(db.store);
    const cobo = await start({ onFault: 'retry' }, failingFirstReads(db.store, 1));
    expect(await cobo.push(ethWithdrawal(scheme, 'tx-r', 7n, '0.000000000000000007'))).toEqual({
      kind: 'answered',
      answer: 'ok',
      pushes: 2,
    });
    expect((await allApprovals(db.store, 'devnet')).map((r) => r.amount)).toEqual([7n]);
  });

  it('forged pushes never approve: another key, a changed body, a stale timestamp, no signature', async () => {
    await arm(db.store);
    const cobo = await start();
    const body = JSON.stringify(ethWithdrawal(scheme, 'tx-f', 10n ** 21n, '1000'));
    const now = String(Date.now());
    const other =
      scheme === 'ed25519'
        ? generateKeyPairSync('ed25519').privateKey
        : generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey;
    const signedOther = { 'Biz-Timestamp': now, 'Biz-Resp-Signature': cobo.signatureOf(body, now, other) };
    const small = JSON.stringify(ethWithdrawal(scheme, 'tx-f', 1n, '0.000000000000000001'));
    const changedBody = { 'Biz-Timestamp': now, 'Biz-Resp-Signature': cobo.signatureOf(small, now) };
    const old = String(Date.now() - 3_600_000);
    const stale = { 'Biz-Timestamp': old, 'Biz-Resp-Signature': cobo.signatureOf(body, old) };
    for (const headers of [signedOther, changedBody, stale, {}]) {
      expect(await cobo.raw(body, headers)).toMatchObject({ kind: 'http', status: 401 });
    }
    expect(await allApprovals(db.store, 'devnet')).toEqual([]);
  });

  it('re-pushes are idempotent; the same id with another amount is denied', async () => {
    await arm(db.store);
    const cobo = await start();
    const message = ethWithdrawal(scheme, 'tx-i', 3n, '0.000000000000000003');
    expect(await cobo.push(message)).toMatchObject({ answer: 'ok' });
    expect(await cobo.push(message)).toMatchObject({ answer: 'ok' });
    expect(await cobo.push(ethWithdrawal(scheme, 'tx-i', 4n, '0.000000000000000004'))).toMatchObject({
      answer: 'deny',
    });
    expect((await allApprovals(db.store, 'devnet')).map((r) => r.amount)).toEqual([3n]);
  });

  it('unmapped tokens and what is not a plain withdrawal are denied', async () => {
    await arm(db.store);
    const cobo = await start();
    const unmapped =
      scheme === 'ed25519'
        ? coboV2Withdrawal({ transactionId: 'u', tokenId: 'SOL', outputs: [{ address: CUSTOMER, amount: '1' }] })
        : coboV1Withdrawal({ id: 'u', coin: 'SOL', decimal: 9, address: CUSTOMER, amount: '1' });
    const notWithdrawal =
      scheme === 'ed25519'
        ? coboV2Withdrawal({
            transactionId: 'c',
            tokenId: 'ETH',
            outputs: [{ address: CUSTOMER, amount: '0' }],
            destinationType: 'EVM_Contract',
          })
        : coboV1Withdrawal({ id: 'c', coin: 'ETH', decimal: 18, address: CUSTOMER, amount: '1', side: 'deposit' });
    for (const message of [unmapped, notWithdrawal]) expect(await cobo.push(message)).toMatchObject({ answer: 'deny' });
    expect(await allApprovals(db.store, 'devnet')).toEqual([]);
  });
});

describe('Cobo WaaS 2.0 UTXO withdrawal', () => {
  it('several outputs: one record each, or none when one has more decimals than the coin', async () => {
    const db = await startTestStore();
    try {
      await arm(db.store);
      const cobo = new CoboStandIn('ed25519', '');
      const served = await serve(
        createCoboCallback({
          store: db.store,
          config: custodyTestConfig(),
          settings: {
            signature: 'ed25519',
            publicKey: cobo.publicKeyHex,
            toleranceSeconds: 300,
            timeoutMs: 10_000,
            onFault: 'deny',
            tokens: TOKENS,
          },
          logger: quiet,
        }),
      );
      cobo.url = served.url;
      const batch = (id: string, amounts: string[]) =>
        coboV2Withdrawal({
          transactionId: id,
          tokenId: 'BTC',
          outputs: amounts.map((amount, i) => ({ address: BTC_CUSTOMERS[i] as string, amount })),
        });
      expect(await cobo.push(batch('b-1', ['0.5', '0.00000001']))).toMatchObject({ answer: 'ok' });
      expect(await cobo.push(batch('b-2', ['0.5', '0.000000001']))).toMatchObject({ answer: 'deny' });
      expect((await allApprovals(db.store, 'btc')).map((r) => [r.withdrawalId, r.amount])).toEqual([
        ['cobo:b-1:0', 50_000_000n],
        ['cobo:b-1:1', 1n],
      ]);
      await served.close();
    } finally {
      await db.close();
    }
  });
});
