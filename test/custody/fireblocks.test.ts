/**
 * The Fireblocks co-signer callback against a stand-in of the co-signer (test/support/fireblocks-cosigner.ts)
 * and a real store (dynalite). Every answer is judged as the co-signer judges it: HTTP 200 with a
 * JWT that verifies under the callback key and echoes the requestId.
 */
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { base64url, importPKCS8, importSPKI, jwtVerify, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FireblocksSettings } from '../../functions/core/custody/config.ts';
import { createFireblocksCallback } from '../../functions/custody/fireblocks.ts';
import { custodyFunctionUrlHandler } from '../../functions/custody/transport.ts';
import type { GuardStore } from '../../functions/guard/guard.ts';
import { haltedChain, haltedGlobal } from '../actuators/support.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';
import {
  FireblocksCosignerStandIn,
  type KeyPairPem,
  rsaKeyPair,
  transferPayload,
} from '../support/fireblocks-cosigner.ts';
import {
  allApprovals,
  arm,
  BTC_CUSTOMERS,
  CUSTOMER,
  custodyTestConfig,
  failingFirstReads,
  halt,
  hangingReads,
  quiet,
  type Served,
  serve,
} from './support.ts';

const PREFIX = '/breaker';
const ASSETS = {
  ETH_TEST: { chain: 'devnet', asset: 'ETH', decimals: 18 },
  USDT_ERC20: { chain: 'devnet', asset: 'USDT', decimals: 6 },
  BTC: { chain: 'btc', asset: 'BTC', decimals: 8 },
};
const SETTINGS = {
  pathPrefix: PREFIX,
  timeoutMs: 10_000,
  onFault: 'REJECT',
  operations: ['TRANSFER'],
  configChanges: 'REJECT',
  assets: ASSETS,
} satisfies Omit<FireblocksSettings, 'cosignerPublicKeyFile' | 'callbackPrivateKeyFile'>;

describe('Fireblocks API co-signer callback', () => {
  let db: TestStore;
  let callbackKeys: KeyPairPem;
  let cosignerKeys: KeyPairPem;
  let served: Served | undefined;

  beforeEach(async () => {
    db = await startTestStore();
    callbackKeys = rsaKeyPair();
    cosignerKeys = rsaKeyPair();
  });
  afterEach(async () => {
    await served?.close();
    served = undefined;
    await db.close();
  });

  /** Start the callback (as `breaker fireblocks-callback` would) and a co-signer stand-in pointed at it. */
  async function start(
    settings: Partial<FireblocksSettings> = {},
    opts: { store?: GuardStore; keys?: KeyPairPem } = {},
  ): Promise<FireblocksCosignerStandIn> {
    const handler = await createFireblocksCallback({
      store: opts.store ?? db.store,
      config: custodyTestConfig(),
      settings: { ...SETTINGS, ...settings },
      cosignerPublicKeyPem: cosignerKeys.publicKeyPem,
      callbackPrivateKeyPem: (opts.keys ?? callbackKeys).privateKeyPem,
      logger: quiet,
    });
    served = await serve(handler);
    return new FireblocksCosignerStandIn({
      baseUrl: `${served.url}${PREFIX}`,
      callbackPublicKeyPem: callbackKeys.publicKeyPem,
      keys: cosignerKeys,
      retryIntervalMs: 50,
    });
  }

  const eth = (requestId: string, amountStr: string, stage: 'signing' | 'approval' = 'signing') =>
    transferPayload({ requestId, asset: 'ETH_TEST', amountStr, destAddress: CUSTOMER, stage });

  it('armed: a signed APPROVE, and one approval record in exact base units', async () => {
    await arm(db.store);
    const co = await start();
    expect(await co.signRequest(eth('req-1', '0.010000000000000000'))).toMatchObject({
      kind: 'answered',
      action: 'APPROVE',
      attempts: 1,
    });
    expect(
      await co.signRequest(
        transferPayload({
          requestId: 'req-2',
          asset: 'USDT_ERC20',
          amountStr: '2500.500000000000000000',
          destAddress: CUSTOMER.toUpperCase().replace('0X', '0x'),
          stage: 'signing',
        }),
      ),
    ).toMatchObject({ action: 'APPROVE' });
    const records = await allApprovals(db.store, 'devnet');
    expect(records.map(({ approvedAtMs: _, ...r }) => r)).toEqual([
      {
        withdrawalId: 'fireblocks:req-1',
        chain: 'devnet',
        asset: 'ETH',
        destination: CUSTOMER,
        amount: 10_000_000_000_000_000n,
      },
      {
        withdrawalId: 'fireblocks:req-2',
        chain: 'devnet',
        asset: 'USDT',
        destination: CUSTOMER,
        amount: 2_500_500_000n,
      },
    ]);
  });

  it('more significant decimals than the asset has: REJECT, never rounded', async () => {
    await arm(db.store);
    const co = await start();
    const out = await co.signRequest(
      transferPayload({
        requestId: 'req-dp',
        asset: 'USDT_ERC20',
        amountStr: '1.0000001',
        destAddress: CUSTOMER,
        stage: 'signing',
      }),
    );
    expect(out).toMatchObject({ action: 'REJECT' });
    expect(out.kind === 'answered' && out.rejectionReason).toContain('more than 6 decimal places');
    expect(await allApprovals(db.store, 'devnet')).toEqual([]);
  });

  it('halted: a signed REJECT naming the trip, nothing recorded; a halt of another chain does not stop this one', async () => {
    await arm(db.store);
    await halt(db.store, haltedGlobal);
    const co = await start();
    const out = await co.signRequest(eth('req-h', '0.5'));
    expect(out).toMatchObject({ kind: 'answered', action: 'REJECT' });
    expect(out.kind === 'answered' && out.rejectionReason).toContain('reconciliation-devnet-unapproved');
    expect(out.kind === 'answered' && out.rejectionReason).toMatch(/trip-\d+-global/);
    expect(await allApprovals(db.store, 'devnet')).toEqual([]);

    await halt(db.store, (v) => haltedChain(v, 'btc'));
    expect(await co.signRequest(eth('req-h2', '0.5'))).toMatchObject({ action: 'APPROVE' });
    const btc = await co.signRequest(
      transferPayload({
        requestId: 'req-b',
        asset: 'BTC',
        amountStr: '0.1',
        destAddress: BTC_CUSTOMERS[0],
        stage: 'signing',
      }),
    );
    expect(btc).toMatchObject({ action: 'REJECT' });
    expect(btc.kind === 'answered' && btc.rejectionReason).toContain('chain-btc-usd-10m');
    expect(await allApprovals(db.store, 'btc')).toEqual([]);
  });

  it('store down: a signed REJECT well before the 30 s deadline, nothing approved', async () => {
    await arm(db.store);
    const co = await start();
    await db.close();
    const out = await co.signRequest(eth('req-down', '0.01'));
    expect(out).toMatchObject({ kind: 'answered', action: 'REJECT' });
    expect(out.kind === 'answered' && out.rejectionReason).toMatch(/^breaker fault: /);
    expect(out.elapsedMs).toBeLessThan(10_000);
  }, 20_000);

  it('store hung: the answer comes at the callback deadline, a signed REJECT', async () => {
    await arm(db.store);
    const co = await start({ timeoutMs: 800 }, { store: hangingReads(db.store) });
    const out = await co.signRequest(eth('req-hung', '0.01'));
    expect(out).toMatchObject({ kind: 'answered', action: 'REJECT' });
    expect(out.kind === 'answered' && out.rejectionReason).toContain('no decision within 800 ms');
    expect(out.elapsedMs).toBeGreaterThanOrEqual(800);
    expect(out.elapsedMs).toBeLessThan(5_000);
    expect(await allApprovals(db.store, 'devnet')).toEqual([]);
  });

  it('onFault RETRY: the co-signer re-sends the identical token and, the store back, gets APPROVE with exactly one record', async () => {
    await arm(db.store);
    const co = await start({ onFault: 'RETRY' }, { store: failingFirstReads(db.store, 1) });
    const out = await co.signRequest(eth('req-retry', '0.25'));
    expect(out).toMatchObject({ kind: 'answered', action: 'APPROVE', attempts: 2 });
    expect(co.sent).toHaveLength(2);
    expect(co.sent[1]?.token).toBe(co.sent[0]?.token);
    expect((await allApprovals(db.store, 'devnet')).map((r) => [r.withdrawalId, r.amount])).toEqual([
      ['fireblocks:req-retry', 250_000_000_000_000_000n],
    ]);
  });

  it('RETRY is never the answer to a halt, even with onFault RETRY', async () => {
    await arm(db.store);
    await halt(db.store, haltedGlobal);
    const co = await start({ onFault: 'RETRY' });
    expect(await co.signRequest(eth('req-hr', '0.25'))).toMatchObject({ action: 'REJECT', attempts: 1 });
  });

  it('forged requests never approve: another key, alg none, HS256 keyed with the public key, a tampered payload, plain JSON', async () => {
    await arm(db.store);
    const co = await start();
    const payload = eth('req-forged', '1000');
    const path = '/v2/tx_sign_request';

    const other = rsaKeyPair();
    const wrongKey = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .sign(await importPKCS8(other.privateKeyPem, 'RS256'));
    const enc = (o: unknown) => base64url.encode(JSON.stringify(o));
    const algNone = `${enc({ alg: 'none', typ: 'JWT' })}.${enc(payload)}.`;
    const hs256 = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new TextEncoder().encode(co.keys.publicKeyPem));
    const [h, , s] = (await co.mint(eth('req-forged', '0.001'))).split('.');
    const tampered = `${h}.${enc(payload)}.${s}`;

    for (const body of [wrongKey, algNone, hs256, tampered, JSON.stringify(payload)]) {
      expect(await co.send(path, body, 'req-forged')).toMatchObject({ kind: 'failed', status: 401 });
    }
    expect(await allApprovals(db.store, 'devnet')).toEqual([]);
  });

  it('replays are idempotent; a reused requestId with another amount is refused', async () => {
    await arm(db.store);
    const co = await start();
    const token = await co.mint(eth('req-r', '0.3'));
    for (let i = 0; i < 3; i++) {
      expect(await co.send('/v2/tx_sign_request', token, 'req-r')).toMatchObject({ action: 'APPROVE' });
    }
    const other = await co.signRequest(eth('req-r', '3'));
    expect(other).toMatchObject({ action: 'REJECT' });
    expect(other.kind === 'answered' && other.rejectionReason).toContain('reused with other details');
    expect((await allApprovals(db.store, 'devnet')).map((r) => r.amount)).toEqual([300_000_000_000_000_000n]);
  });

  it('a batch payout is approved whole (one record per output) or not at all', async () => {
    await arm(db.store);
    const co = await start();
    const batch = (requestId: string, amounts: string[]) =>
      transferPayload({
        requestId,
        asset: 'BTC',
        amountStr: '0',
        destAddress: '',
        stage: 'signing',
        outputs: amounts.map((amountStr, i) => ({ address: BTC_CUSTOMERS[i] as string, amountStr })),
      });
    expect(await co.signRequest(batch('batch-1', ['0.1', '0.02', '0.00000001']))).toMatchObject({ action: 'APPROVE' });
    expect((await allApprovals(db.store, 'btc')).map((r) => [r.withdrawalId, r.destination, r.amount])).toEqual([
      ['fireblocks:batch-1:0', BTC_CUSTOMERS[0], 10_000_000n],
      ['fireblocks:batch-1:1', BTC_CUSTOMERS[1], 2_000_000n],
      ['fireblocks:batch-1:2', BTC_CUSTOMERS[2], 1n],
    ]);
    const bad = await co.signRequest(batch('batch-2', ['0.1', '0.000000001', '0.2']));
    expect(bad).toMatchObject({ action: 'REJECT' });
    expect(bad.kind === 'answered' && bad.rejectionReason).toContain('fireblocks:batch-2:1');
    expect(
      (await allApprovals(db.store, 'btc')).filter((r) => r.withdrawalId.startsWith('fireblocks:batch-2')),
    ).toEqual([]);
  });

  it('unmapped assets and operations the breaker cannot value are refused', async () => {
    await arm(db.store);
    const co = await start();
    const unmapped = await co.signRequest(
      transferPayload({ requestId: 'u-1', asset: 'SOL', amountStr: '1', destAddress: CUSTOMER, stage: 'signing' }),
    );
    expect(unmapped.kind === 'answered' && unmapped.rejectionReason).toContain('asset SOL is not mapped');
    for (const operation of ['RAW', 'CONTRACT_CALL', 'TYPED_MESSAGE']) {
      const out = await co.signRequest(
        transferPayload({
          requestId: `op-${operation}`,
          asset: 'ETH_TEST',
          amountStr: '1',
          destAddress: CUSTOMER,
          stage: 'signing',
          operation,
        }),
      );
      expect(out).toMatchObject({ action: 'REJECT' });
      expect(out.kind === 'answered' && out.rejectionReason).toContain(`operation ${operation}`);
    }
    expect(await allApprovals(db.store, 'devnet')).toEqual([]);
  });

  it('approval-stage requests are answered on the halt state but never recorded', async () => {
    await arm(db.store);
    const co = await start();
    expect(await co.signRequest(eth('stage-a', '0.5', 'approval'))).toMatchObject({ action: 'APPROVE' });
    expect(await allApprovals(db.store, 'devnet')).toEqual([]);
    await halt(db.store, haltedGlobal);
    expect(await co.signRequest(eth('stage-b', '0.5', 'approval'))).toMatchObject({ action: 'REJECT' });
  });

  it('config changes: REJECT by default, IGNORE when configured, REJECT while halted whatever the policy', async () => {
    await arm(db.store);
    const change = { requestId: 'cfg-1', type: 'UNMANAGED_WALLET', extraInfo: { walletId: 'w' } };
    const strict = await start();
    const refused = await strict.configChangeRequest(change);
    expect(refused).toMatchObject({ action: 'REJECT' });
    expect(refused.kind === 'answered' && refused.rejectionReason).toContain('UNMANAGED_WALLET');
    await served?.close();

    const lenient = await start({ configChanges: 'IGNORE' });
    expect(await lenient.configChangeRequest(change)).toMatchObject({ action: 'IGNORE' });
    await halt(db.store, (v) => haltedChain(v, 'btc'));
    const halted = await lenient.configChangeRequest(change);
    expect(halted).toMatchObject({ action: 'REJECT' });
    expect(halted.kind === 'answered' && halted.rejectionReason).toContain('breaker halted');
    await db.close();
    expect(await lenient.configChangeRequest(change)).toMatchObject({ action: 'REJECT' });
  });

  it('the co-signer accepts only answers signed with the key it was given; other paths are 404', async () => {
    await arm(db.store);
    const co = await start({}, { keys: rsaKeyPair() });
    const out = await co.signRequest(eth('k-1', '0.1'));
    expect(out).toMatchObject({ kind: 'failed' });
    expect(out.kind === 'failed' && out.reason).toContain('not signed by the callback key');
    expect(await co.send('/v2/tx_approval_request', await co.mint(eth('k-2', '0.1')), 'k-2')).toMatchObject({
      kind: 'failed',
      status: 404,
    });
  });

  it('as a Lambda function URL: the same signed answer from a base64 body', async () => {
    await arm(db.store);
    const handler = await createFireblocksCallback({
      store: db.store,
      config: custodyTestConfig(),
      settings: { ...SETTINGS, pathPrefix: '' },
      cosignerPublicKeyPem: cosignerKeys.publicKeyPem,
      callbackPrivateKeyPem: callbackKeys.privateKeyPem,
      logger: quiet,
    });
    const minter = new FireblocksCosignerStandIn({ baseUrl: '', callbackPublicKeyPem: '', keys: cosignerKeys });
    const token = await minter.mint(eth('url-1', '0.02'));
    const event = {
      rawPath: '/v2/tx_sign_request',
      body: Buffer.from(token).toString('base64'),
      isBase64Encoded: true,
      headers: { 'Content-Type': 'text/plain' },
      requestContext: { http: { method: 'POST' } },
    } as unknown as LambdaFunctionURLEvent;
    const res = await custodyFunctionUrlHandler(handler)(event);
    expect(res.statusCode).toBe(200);
    const { payload } = await jwtVerify(res.body, await importSPKI(callbackKeys.publicKeyPem, 'RS256'), {
      algorithms: ['RS256'],
    });
    expect(payload).toEqual({ action: 'APPROVE', requestId: 'url-1' });
    expect((await allApprovals(db.store, 'devnet')).map((r) => r.amount)).toEqual([20_000_000_000_000_000n]);
  });

  it('refuses a map that disagrees with the config, and keys that are not RSA-2048', async () => {
    const base = {
      store: db.store,
      config: custodyTestConfig(),
      cosignerPublicKeyPem: rsaKeyPair().publicKeyPem,
      callbackPrivateKeyPem: rsaKeyPair().privateKeyPem,
      settings: SETTINGS,
    };
    await expect(
      createFireblocksCallback({
        ...base,
        settings: { ...base.settings, assets: { USDT_ERC20: { chain: 'devnet', asset: 'USDT', decimals: 18 } } },
      }),
    ).rejects.toThrow('custody.fireblocks.assets.USDT_ERC20.decimals: 18, but devnet USDT has 6');
    await expect(
      createFireblocksCallback({ ...base, callbackPrivateKeyPem: rsaKeyPair(1024).privateKeyPem }),
    ).rejects.toThrow('RSA key of 1024 bits, at least 2048 required');
  });
});
