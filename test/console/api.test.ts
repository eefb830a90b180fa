import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { loadConsoleAssets } from '../../functions/console/assets.ts';
import { inProcessApi, type LocalConsole, startLocalConsole } from '../../functions/console/local-server.ts';
import { OpsConsole } from '../../functions/console/service.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import type { Clock } from '../../functions/core/time.ts';
import { evaluateAndTransition } from '../../functions/core/use-cases/poll-chain.ts';
import { RecordingPublisher } from '../integration/harness.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';
import { ADDR, configInput, outflow } from '../support/fixtures.ts';
import { initialiseForTest } from '../support/initialise.ts';

/**
 * The console API as the local runtime serves it (real HTTP on 127.0.0.1, real DynamoDbBreakerStore on
 * dynalite), with the operator identity supplied by the authoriser: here the local server acting for
 * a fixed operator. The same routes run behind the stack's IAM function URL (console-api-handler.test.ts).
 */

/** Wall-clock-like: a second passes between reads, so audit records keep their order. */
class FakeClock implements Clock {
  ms = Date.UTC(2026, 10, 20, 12, 0, 0);
  now(): number {
    this.ms += 1000;
    return this.ms;
  }
}

const ALICE = 'arn:aws:sts::123456789012:assumed-role/OnCall/alice';
// Another role: two sessions of OnCall would be one person (test/security/two-person-people.test.ts).
const BOB = 'arn:aws:sts::123456789012:assumed-role/Security/bob';

interface Fixture {
  db: TestStore;
  config: BreakerConfig;
  clock: FakeClock;
  publisher: RecordingPublisher;
  ops: OpsConsole;
  /** A console server per operator, as each operator would run their own. */
  servers: Map<string, LocalConsole>;
  as(operator: string): {
    get(path: string): Promise<{ status: number; body: Record<string, Json> }>;
    post(path: string, body: unknown): Promise<{ status: number; body: Record<string, Json> }>;
  };
  /** Record outflows and run the real evaluation on them, as a poll would. */
  drain(usdUnits: string[]): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: JSON answers are checked field by field.
type Json = any;

async function setUp(operations?: { twoPersonReset: boolean; approvalWindowSeconds: number }): Promise<Fixture> {
  const db = await startTestStore();
  const config = compileConfig(
    { ...configInput({ warnRatio: 0.8, global: { usd: { '10m': 100_000, '1h': 500_000 } } }), operations },
    'console-test',
  );
  const clock = new FakeClock();
  await initialiseForTest(db.store, clock);
  const publisher = new RecordingPublisher();
  const ops = new OpsConsole({ config, store: db.store, publisher, clock });
  const assets = loadConsoleAssets();
  const servers = new Map<string, LocalConsole>();
  let block = 1000;
  const f: Fixture = {
    db,
    config,
    clock,
    publisher,
    ops,
    servers,
    as(operator) {
      const server = async () => {
        let s = servers.get(operator);
        if (!s) {
          s = await startLocalConsole({ api: inProcessApi(ops, operator, assets), assets });
          servers.set(operator, s);
        }
        return s;
      };
      const call = async (path: string, init: RequestInit) => {
        const s = await server();
        const res = await fetch(`${s.origin}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${s.token}`, ...(init.headers as Record<string, string>) },
        });
        return { status: res.status, body: (await res.json()) as Record<string, Json> };
      };
      return {
        get: (path) => call(path, {}),
        post: (path, body) =>
          call(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      };
    },
    async drain(units) {
      const t0 = Math.floor(clock.now() / 1000) - 120;
      const fresh = units.map((u, i) =>
        outflow(config, { t: t0 + i * 10, block: ++block, asset: 'USDT', units: u, to: ADDR.stranger }),
      );
      await db.store.recordOutflows(fresh);
      await evaluateAndTransition({ config, store: db.store, clock, publisher }, fresh, {
        chain: 'ethereum',
        block,
        t: t0 + (units.length - 1) * 10,
      });
    },
  };
  return f;
}

async function tearDown(f: Fixture | undefined): Promise<void> {
  if (!f) return;
  for (const s of f.servers.values()) await s.close();
  await f.db.close();
}

describe('console API: authentication', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await setUp();
  });
  afterEach(() => tearDown(f));

  it('refuses every /api route without the session token (401), and with a wrong one', async () => {
    await f.as(ALICE).get('/api/status'); // starts ALICE's server
    const s = f.servers.get(ALICE)!;
    for (const [method, path] of [
      ['GET', '/api/status'],
      ['GET', '/api/history'],
      ['GET', '/api/totals'],
      ['POST', '/api/reset'],
      ['POST', '/api/trip'],
      ['POST', '/api/reset/approve'],
      ['POST', '/api/config/approve'],
    ] as const) {
      const none = await fetch(`${s.origin}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: method === 'POST' ? '{}' : undefined,
      });
      expect(none.status, `${method} ${path}`).toBe(401);
      const wrong = await fetch(`${s.origin}${path}`, { method, headers: { authorization: `Bearer ${s.token}x` } });
      expect(wrong.status, `${method} ${path}`).toBe(401);
    }
    // Nothing changed since the initialisation.
    expect((await f.db.store.getState()).version).toBe(2);
    expect((await f.db.store.listAudit(10)).map((r) => r.action)).toEqual(['init']);
  });

  it('serves the page itself without a token (it holds no data), with a strict content security policy', async () => {
    await f.as(ALICE).get('/api/whoami');
    const s = f.servers.get(ALICE)!;
    const page = await fetch(`${s.origin}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script src="console.js"');
    expect(s.url).toBe(`${s.origin}/#token=${s.token}`);
  });

  it('refuses a foreign Host header (DNS rebinding) and a cross-origin request even with the token', async () => {
    await f.as(ALICE).get('/api/whoami');
    const s = f.servers.get(ALICE)!;
    const port = Number(new URL(s.origin).port);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/api/status',
          headers: { host: `evil.example:${port}`, authorization: `Bearer ${s.token}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
    const cross = await fetch(`${s.origin}/api/trip`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${s.token}`,
        'content-type': 'application/json',
        origin: 'https://evil.example',
      },
      body: JSON.stringify({ reason: 'a page on the internet tries this', scope: 'global' }),
    });
    expect(cross.status).toBe(403);
    expect((await f.db.store.getState()).tripped).toEqual({});
  });
});

describe('console API: state, evidence, totals, actions', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await setUp();
  });
  afterEach(() => tearDown(f));

  it('shows a trip with its rule, figures and the transactions with explorer links; charts cross the limit', async () => {
    await f.drain(['40000', '35000', '30000']); // $105,000 in 10 minutes > $100,000
    const { status, body } = await f.as(ALICE).get('/api/status');
    expect(status).toBe(200);
    expect(body.armed).toBe(false);
    expect(body.operator).toBe(ALICE);
    expect(body.scopes.find((s: Json) => s.scope === 'global')).toMatchObject({ status: 'tripped' });
    const [trip] = body.trips;
    expect(trip).toMatchObject({
      ruleId: 'global-usd-10m',
      scope: 'global',
      value: '$105,000.00',
      limit: '$100,000.00',
    });
    expect(trip.transactions).toHaveLength(3);
    expect(trip.transactions[0]).toMatchObject({
      asset: 'USDT',
      amount: '40000',
      usd: '$40,000.00',
      to: ADDR.stranger,
    });
    expect(trip.transactions[0].link).toMatch(/^https:\/\/etherscan\.io\/tx\/0x[0-9a-f]{64}$/);

    const totals = await f.as(ALICE).get('/api/totals');
    const series = totals.body.series.find((s: Json) => s.rule === 'global-usd-10m');
    expect(series.limit).toBe('100000000000');
    const peak = series.points.reduce((m: bigint, p: Json) => (BigInt(p[1]) > m ? BigInt(p[1]) : m), 0n);
    expect(peak).toBe(105_000_000_000n);
    expect(series.peakPercent).toBe(105);
  });

  it('records the authorised operator on reset and trip; an identity in the body is rejected, naming the field', async () => {
    await f.drain(['60000', '50000']);
    const spoof = await f
      .as(BOB)
      .post('/api/reset', { reason: 'reviewed the drain, keys rotated', actor: 'someone-else' });
    expect(spoof.status).toBe(400);
    expect(spoof.body.error).toBe('actor: unknown field (the operator comes from your credentials, not the body)');

    const trips = (await f.as(BOB).get('/api/status')).body.trips.map((t: Json) => t.tripId);
    const reset = await f
      .as(BOB)
      .post('/api/reset', { reason: 'reviewed the drain, keys rotated', reviewedTripIds: trips });
    expect(reset).toMatchObject({ status: 200, body: { ok: true, actor: BOB, tripped: [] } });
    const [record] = await f.db.store.listAudit(1);
    expect(record).toMatchObject({
      action: 'reset',
      actor: BOB,
      reason: 'reviewed the drain, keys rotated',
      scope: 'global',
    });
    expect(f.publisher.ofKind('reset')[0]?.text).toContain(`by ${BOB}`);

    const trip = await f.as(ALICE).post('/api/trip', { reason: 'suspicious signer logs at 03:12', scope: 'chain:bsc' });
    expect(trip).toMatchObject({ status: 200, body: { actor: ALICE, tripped: ['chain:bsc'] } });
    const state = await f.db.store.getState();
    expect(state.tripped['chain:bsc']).toMatchObject({
      ruleId: 'manual',
      manual: { actor: ALICE, reason: 'suspicious signer logs at 03:12' },
    });
    const [tripRecord] = await f.db.store.listAudit(1);
    expect(tripRecord).toMatchObject({ action: 'trip', actor: ALICE, scope: 'chain:bsc' });
    expect(f.publisher.ofKind('trip').at(-1)?.text).toContain(ALICE);
    const again = await f.as(ALICE).post('/api/trip', { reason: 'the same thing once more', scope: 'chain:bsc' });
    expect(again).toMatchObject({ status: 409, body: { error: expect.stringContaining('already halted') } });
  });

  it('rejects bad payloads with a clear error naming the field, and changes nothing', async () => {
    await f.drain(['60000', '50000']);
    const before = await f.db.store.getState();
    const cases: [string, unknown, RegExp][] = [
      ['/api/reset', {}, /^reason: required/],
      ['/api/reset', { reason: 'short' }, /^reason: at least 10 characters/],
      [
        '/api/reset',
        { reason: 'reviewed everything', scope: 'everything' },
        /^scope: expected "global" or "chain:<id>"/,
      ],
      ['/api/reset', { reason: 'reviewed everything', reviewedTripIds: 'trip-1' }, /^reviewedTripIds: /],
      ['/api/trip', { reason: 42, scope: 'global' }, /^reason: /],
      ['/api/reset/approve', {}, /^requestId: required/],
      ['/api/config/approve', {}, /^digest: required/],
      ['/api/config/approve', { digest: 'ABC' }, /^digest: expected 12 to 64 lowercase hex digits/],
      ['/api/config/approve', { digest: 'a'.repeat(64), actor: 'bob' }, /^actor: unknown field/],
    ];
    for (const [path, body, error] of cases) {
      const r = await f.as(ALICE).post(path, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toMatch(error);
    }
    const s = f.servers.get(ALICE)!;
    const notJson = await fetch(`${s.origin}/api/reset`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
      body: 'reason=hello',
    });
    expect([notJson.status, ((await notJson.json()) as Json).error]).toEqual([400, 'body: not JSON']);
    const form = await fetch(`${s.origin}/api/reset`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'reason=reviewed+everything',
    });
    expect(form.status).toBe(415);
    const limit = await f.as(ALICE).get('/api/history?limit=lots');
    expect(limit).toMatchObject({ status: 400, body: { error: 'limit: expected a whole number from 1 to 500' } });
    const unknownChain = await f.as(ALICE).post('/api/trip', { reason: 'looks wrong to me', scope: 'chain:solana' });
    expect(unknownChain).toMatchObject({
      status: 409,
      body: { error: expect.stringContaining('unknown chain "solana"') },
    });
    expect((await f.db.store.getState()).version).toBe(before.version);
  });

  it('rejects a reset when the breaker tripped again after the operator loaded the page', async () => {
    await f.drain(['60000', '50000']);
    const seen = (await f.as(ALICE).get('/api/status')).body.trips.map((t: Json) => t.tripId);
    await f.as(BOB).post('/api/trip', { reason: 'bob halts bsc as well', scope: 'chain:bsc' });
    const r = await f
      .as(ALICE)
      .post('/api/reset', { reason: 'reviewed the drain, keys rotated', reviewedTripIds: seen });
    expect(r).toMatchObject({
      status: 409,
      body: { error: expect.stringContaining('tripped again since it was reviewed') },
    });
  });
});

describe('console API: two-person reset', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await setUp({ twoPersonReset: true, approvalWindowSeconds: 600 });
    await f.drain(['60000', '50000']);
  });
  afterEach(() => tearDown(f));

  it('needs a request by one operator and an approval by a different one; both are in the audit', async () => {
    const single = await f.as(ALICE).post('/api/reset', { reason: 'reviewed the drain, keys rotated' });
    expect(single).toMatchObject({ status: 409, body: { error: expect.stringContaining('two-person reset is on') } });

    const req = await f.as(ALICE).post('/api/reset/request', { reason: 'reviewed the drain, keys rotated' });
    expect(req.status).toBe(200);
    expect(req.body.tripped).toEqual(['global']);
    const requestId = req.body.pendingReset.requestId as string;
    expect(req.body.pendingReset).toMatchObject({ requestedBy: ALICE, reason: 'reviewed the drain, keys rotated' });
    expect((await f.as(BOB).get('/api/status')).body.pendingReset).toMatchObject({ requestId, expired: false });

    const self = await f.as(ALICE).post('/api/reset/approve', { requestId });
    expect(self).toMatchObject({
      status: 409,
      body: {
        error: `${ALICE} is the same person as the requester ${ALICE} and cannot approve this reset: a different operator must approve`,
      },
    });
    const competing = await f.as(BOB).post('/api/reset/request', { reason: 'bob would rather request it himself' });
    expect(competing).toMatchObject({ status: 409, body: { error: expect.stringContaining(`waiting for approval`) } });
    const wrongId = await f.as(BOB).post('/api/reset/approve', { requestId: 'reset-request-1' });
    expect(wrongId).toMatchObject({ status: 409, body: { error: expect.stringContaining('is not the one waiting') } });
    expect((await f.db.store.getState()).tripped).toHaveProperty('global');

    const ok = await f.as(BOB).post('/api/reset/approve', { requestId });
    expect(ok).toMatchObject({ status: 200, body: { actor: BOB, tripped: [], pendingReset: null } });
    const [reset, requested] = await f.db.store.listAudit(2);
    expect(requested).toMatchObject({
      action: 'reset-requested',
      actor: ALICE,
      reason: 'reviewed the drain, keys rotated',
    });
    expect(reset).toMatchObject({
      action: 'reset',
      actor: BOB,
      reason: 'reviewed the drain, keys rotated',
      details: { twoPerson: { requestId, requestedBy: ALICE, approvedBy: BOB } },
    });
  });

  it('rejects an approval after the approval window, with a clear error; a new request can then be approved', async () => {
    const req = await f.as(ALICE).post('/api/reset/request', { reason: 'reviewed the drain, keys rotated' });
    const requestId = req.body.pendingReset.requestId as string;
    f.clock.ms += 600_001;
    const late = await f.as(BOB).post('/api/reset/approve', { requestId });
    expect(late.status).toBe(409);
    expect(late.body.error).toMatch(
      /^reset request reset-request-\d+ expired at .* \(approval window 600 s\): request the reset again$/,
    );
    expect((await f.as(BOB).get('/api/status')).body.pendingReset).toMatchObject({ expired: true });
    expect((await f.db.store.getState()).tripped).toHaveProperty('global');

    // An expired request no longer blocks anyone: Bob requests, Alice approves.
    const again = await f.as(BOB).post('/api/reset/request', { reason: 'bob reviewed it again after expiry' });
    expect(again.status).toBe(200);
    const ok = await f.as(ALICE).post('/api/reset/approve', { requestId: again.body.pendingReset.requestId });
    expect(ok).toMatchObject({ status: 200, body: { actor: ALICE, tripped: [] } });
  });

  it('rejects an approval when the breaker tripped again after the request', async () => {
    const req = await f
      .as(ALICE)
      .post('/api/reset/request', { reason: 'reviewed the drain, keys rotated', scope: 'global' });
    await f.as(ALICE).post('/api/trip', { reason: 'alice halts bsc too', scope: 'chain:bsc' });
    // The request covered 'global' only: approving it still re-arms exactly that.
    const ok = await f.as(BOB).post('/api/reset/approve', { requestId: req.body.pendingReset.requestId });
    expect(ok).toMatchObject({ status: 200, body: { tripped: ['chain:bsc'] } });

    const second = await f.as(ALICE).post('/api/reset/request', { reason: 'reviewed the bsc halt as well' });
    await f.drain(['70000', '60000']);
    const stale = await f.as(BOB).post('/api/reset/approve', { requestId: second.body.pendingReset.requestId });
    expect(stale).toMatchObject({
      status: 409,
      body: { error: expect.stringContaining('tripped again since it was reviewed') },
    });
  });
});
