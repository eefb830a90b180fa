/**
 * Issue 11 item 5 (review finding 6): limits are tamper-evident. The poller records the digest of its
 * compiled config in the state; a change is an audit record and a [CONFIG] page listing what got
 * looser; a loosening takes effect only after operations.loosenDelaySeconds, and until then the
 * stricter previous values apply; tightening takes effect at once. Real store (dynalite).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { countedValue, recordConfigCheck, strictestRules } from '../../functions/core/config-check.ts';
import { loosenings, summariseConfig } from '../../functions/core/config-record.ts';
import { isBreakerError } from '../../functions/core/errors.ts';
import type { BreakerState, Page } from '../../functions/core/state.ts';
import { commitTransition } from '../../functions/core/use-cases/commit-transition.ts';
import { approveLooseningUseCase } from '../../functions/core/use-cases/two-person-reset.ts';
import { configDigest } from '../../functions/runtime/config-digest.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';
import { configInput, outflow } from '../support/fixtures.ts';
import { initialiseForTest } from '../support/initialise.ts';

const HOUR = 3_600_000;

function config(limitUsd: number, extra: Record<string, unknown> = {}) {
  return compileConfig(
    {
      ...configInput({ global: { usd: { '1h': limitUsd } } }),
      operations: { twoPersonReset: true, approvalWindowSeconds: 900, loosenDelaySeconds: 86_400 },
      ...extra,
    },
    'config-tamper',
  );
}

class Pages {
  readonly sent: Page[] = [];
  async publish(page: Page) {
    this.sent.push(page);
  }
}

describe('tamper-evident limits', () => {
  let db: TestStore;
  let pages: Pages;
  let now: number;
  const clock = { now: () => now };
  beforeEach(async () => {
    db = await startTestStore();
    now = Date.UTC(2026, 11, 5, 2);
    await initialiseForTest(db.store, clock);
    pages = new Pages();
  });
  afterEach(async () => {
    await db.close();
  });

  /** One poll's check, committed as a poll commits it (one new version when it changed anything). */
  async function poll(c: ReturnType<typeof config>): Promise<BreakerState> {
    const step = recordConfigCheck(c, configDigest(c));
    const committed = await commitTransition({ store: db.store, publisher: pages, clock }, (state, nowMs) => {
      const next = step(state, nowMs);
      return next && { ...next, version: state.version + 1, updatedAtMs: nowMs };
    });
    return committed?.state ?? db.store.getState();
  }

  it('records the digest on the first poll, then writes nothing while the config is unchanged', async () => {
    const first = await poll(config(1_000_000));
    expect(first.config?.digest).toMatch(/^[0-9a-f]{64}$/);
    const stored = await db.store.getState();
    const again = await poll(config(1_000_000));
    expect(again.version).toBe(stored.version);
    expect(pages.sent.filter((p) => p.kind === 'config')).toEqual([]);
  });

  it('a raised limit is paged as looser and audited; the stricter old limit applies until the delay passed', async () => {
    await poll(config(1_000_000));
    const looser = config(5_000_000);
    const state = await poll(looser);
    const page = pages.sent.find((p) => p.kind === 'config');
    expect(page?.subject).toContain('[CONFIG]');
    expect(page?.text).toContain('limit raised');
    expect(page?.text).toContain('takes effect');
    expect((await db.store.listAudit(5)).map((r) => r.action)).toContain('config-changed');

    const rule = looser.rules.find((r) => r.id.includes('global'));
    if (!rule) throw new Error('expected a global rule');
    const enforced = strictestRules(looser, state, now).find((r) => r.id === rule.id);
    expect(enforced?.limit).toBe(1_000_000_000_000n); // the old $1,000,000 in micro-USD
    now += 25 * HOUR;
    const later = await poll(looser);
    expect(later.config?.pending).toBeUndefined();
    expect(strictestRules(looser, later, now).find((r) => r.id === rule.id)?.limit).toBe(rule.limit);
  });

  it('moving a rule to shadow, turning two-person reset off and adding an own address are all listed as looser', async () => {
    await poll(config(1_000_000));
    const base = configInput({ global: { usd: { '1h': 1_000_000 } } });
    const ethereum = base.chains.ethereum as Record<string, unknown>;
    const loosened = compileConfig(
      {
        ...base,
        chains: {
          ...base.chains,
          ethereum: { ...ethereum, ownAddresses: ['0x000000000000000000000000000000000000dEaD'] },
        },
        limits: { ...base.limits, shadow: ['global-usd-1h'] },
        operations: { twoPersonReset: false, approvalWindowSeconds: 900, loosenDelaySeconds: 86_400 },
      },
      'config-tamper',
    );
    await poll(loosened);
    const text = pages.sent.find((p) => p.kind === 'config')?.text ?? '';
    expect(text).toContain('moved to shadow');
    expect(text).toContain('two-person reset turned off');
    expect(text).toContain('own addresses added on ethereum');
  });

  it('tightening takes effect at once: paged as a change with nothing looser, no delay', async () => {
    await poll(config(1_000_000));
    const state = await poll(config(500_000));
    expect(state.config?.pending).toBeUndefined();
    expect(pages.sent.find((p) => p.kind === 'config')?.text).toContain('Nothing got looser');
  });

  describe('more than limits: rule definitions and valuations', () => {
    /** The fixture config with its limits and chains changed by `edit`. */
    function edited(edit: (input: ReturnType<typeof configInput>) => void) {
      const input = configInput({
        global: { usd: { '1h': 1_000_000 } },
        chains: { ethereum: { usd: { '1h': 500_000 }, halt: 'global' } },
        patterns: { newDestinations: { window: '1h', usd: 100_000, lookback: '14d' } },
      });
      edit(input);
      return compileConfig(
        { ...input, operations: { twoPersonReset: true, approvalWindowSeconds: 900, loosenDelaySeconds: 86_400 } },
        'config-tamper',
      );
    }
    const base = () => edited(() => undefined);
    const ethereum = (input: ReturnType<typeof configInput>) =>
      input.chains.ethereum as { tokens: { symbol: string; usdPrice: number; decimals: number }[] };
    const limits = (input: ReturnType<typeof configInput>) =>
      input.limits as {
        chains: Record<string, { halt: string }>;
        patterns: { newDestinations: { lookback: string } };
      };

    it("a narrowed halt and a pattern's longer lookback are looser; the previous definition applies while the delay runs", async () => {
      const before = base();
      await poll(before);
      const after = edited((input) => {
        limits(input).chains.ethereum = { ...limits(input).chains.ethereum, halt: 'chain' };
        limits(input).patterns.newDestinations.lookback = '20d';
      });
      const state = await poll(after);
      const text = pages.sent.find((p) => p.kind === 'config')?.text ?? '';
      expect(text).toMatch(/halt narrowed from global to chain/);
      expect(text).toMatch(/lookbackSeconds raised from 1209600 to 1728000/);
      expect(state.config?.pending).toBeDefined();
      const enforced = strictestRules(after, state, now);
      const pattern = enforced.find((r) => r.measure.kind === 'new-destination-usd');
      expect(pattern?.measure).toMatchObject({ lookbackSeconds: 14 * 86_400 });
      const chainRule = enforced.find((r) => r.id === after.rules.find((a) => a.halt.kind === 'chain')?.id);
      expect(chainRule?.halt.kind).toBe('global');
      now += 25 * HOUR;
      const later = await poll(after);
      expect(strictestRules(after, later, now)).toEqual(after.rules);
    });

    it('a shorter lookback (stricter) changes the config with nothing looser and no delay', async () => {
      await poll(base());
      const state = await poll(
        edited((input) => {
          limits(input).patterns.newDestinations.lookback = '7d';
        }),
      );
      expect(state.config?.pending).toBeUndefined();
      expect(pages.sent.find((p) => p.kind === 'config')?.text).toContain('Nothing got looser');
    });

    it('a lowered price, changed decimals and a cheaper unlisted token are looser; outflows count at the previous valuation', async () => {
      const before = base();
      await poll(before);
      const after = edited((input) => {
        ethereum(input).tokens = ethereum(input).tokens.map((t) =>
          t.symbol === 'USDT' ? { ...t, usdPrice: 0.000001 } : t.symbol === 'USDC' ? { ...t, decimals: 18 } : t,
        );
        (input as { unknownAssets: { usdPerTransfer: number } }).unknownAssets = { usdPerTransfer: 1 };
      });
      const state = await poll(after);
      const text = pages.sent.find((p) => p.kind === 'config')?.text ?? '';
      expect(text).toContain('price of USDT');
      expect(text).toContain('decimals of USDC');
      expect(text).toContain('unlisted-token value lowered');
      const value = countedValue(after, state);
      const usdt = outflow(after, { t: 1_000, asset: 'USDT', units: '1000000' });
      expect(usdt.usdMicros).toBe(1_000_000n); // $1 at the new price
      expect(value(usdt).usdMicros).toBe(1_000_000_000_000n); // $1,000,000 at the old one
      const unknown = outflow(after, { t: 1_000, asset: 'UNKNOWN', units: '5' });
      expect(value(unknown).usdMicros).toBe(1_000_000_000n); // the previous $1,000 per transfer
      now += 25 * HOUR;
      const later = await poll(after);
      expect(countedValue(after, later)(usdt).usdMicros).toBe(1_000_000n);
    });

    it('a raised price is stricter: no delay, and outflows keep their recorded value', async () => {
      await poll(base());
      const state = await poll(
        edited((input) => {
          ethereum(input).tokens = ethereum(input).tokens.map((t) => (t.symbol === 'USDT' ? { ...t, usdPrice: 2 } : t));
        }),
      );
      expect(state.config?.pending).toBeUndefined();
    });

    it('a summary recorded before definitions and valuations were kept still compares limits, and nothing else', async () => {
      await poll(base());
      const recorded = await db.store.getState();
      const summary = recorded.config?.summary;
      if (!summary) throw new Error('expected a recorded summary');
      const legacy = {
        ...summary,
        rules: Object.fromEntries(
          Object.entries(summary.rules).map(([id, r]) => [id, { limit: r.limit, shadow: r.shadow }]),
        ),
      };
      delete (legacy as { valuations?: unknown }).valuations;
      delete (legacy as { unknownAssetUsdMicros?: unknown }).unknownAssetUsdMicros;
      const after = edited((input) => {
        limits(input).patterns.newDestinations.lookback = '20d';
        ethereum(input).tokens = ethereum(input).tokens.map((t) => (t.symbol === 'USDT' ? { ...t, usdPrice: 0.5 } : t));
      });
      expect(loosenings(legacy, summariseConfig(after))).toEqual([]);
      expect(loosenings(summary, summariseConfig(after))).toHaveLength(2);
    });

    it('a summary recorded before them is summarised in full by the first poll of the same config (audited, no page)', async () => {
      const c = base();
      await poll(c);
      const recorded = await db.store.getState();
      const config = recorded.config;
      if (!config) throw new Error('expected a recorded config');
      const { valuations: _v, unknownAssetUsdMicros: _u, ...legacy } = config.summary;
      await commitTransition({ store: db.store, publisher: pages, clock }, (state) => ({
        ...state,
        config: { ...config, summary: legacy },
        version: state.version + 1,
      }));
      const upgraded = await poll(c);
      expect(upgraded.config?.summary).toEqual(config.summary);
      expect(upgraded.config?.digest).toBe(config.digest);
      expect((await db.store.listAudit(5)).map((r) => r.action)).toContain('config-summary-upgraded');
      expect(pages.sent.filter((p) => p.kind === 'config')).toEqual([]);
    });
  });

  describe('two different people may end the wait early', () => {
    const approve = (actor: string, digest: string, c: ReturnType<typeof config>) =>
      approveLooseningUseCase({ store: db.store, publisher: pages, clock, config: c }, { actor, digest });
    const rejection = (p: Promise<unknown>) =>
      p.then(
        () => 'accepted',
        (e: unknown) => (isBreakerError(e, 'RESET_REJECTED') ? e.message : `unexpected ${String(e)}`),
      );
    const ALICE = 'arn:aws:iam::123456789012:user/alice';
    const BOB = 'arn:aws:iam::123456789012:user/bob';

    it("the first approval is recorded and paged; the second person's ends the wait and the looser limit applies", async () => {
      await poll(config(1_000_000));
      const looser = config(5_000_000);
      const digest = configDigest(looser);
      await poll(looser);

      const first = await approve(ALICE, digest.slice(0, 12), looser);
      expect(first.state.config?.pending?.approvals).toEqual([{ actor: ALICE, atMs: now }]);
      expect(strictestRules(looser, first.state, now).find((r) => r.id === 'global-usd-1h')?.limit).toBe(
        1_000_000_000_000n,
      );
      expect(pages.sent.at(-1)?.subject).toContain('one more needed');

      now += 60_000;
      const second = await approve(BOB, digest, looser);
      expect(second.state.config?.pending).toBeUndefined();
      expect(second.state.config?.digest).toBe(digest);
      expect(strictestRules(looser, second.state, now).find((r) => r.id === 'global-usd-1h')?.limit).toBe(
        5_000_000_000_000n,
      );
      const audit = await db.store.listAudit(10);
      expect(audit.map((r) => r.action)).toEqual(
        expect.arrayContaining(['config-loosening-approval', 'config-loosening-approved']),
      );
      expect(audit.find((r) => r.action === 'config-loosening-approved')?.actor).toBe(BOB);
      // The next poll of the same build leaves it in effect (no new pending, no new page).
      const sentBefore = pages.sent.length;
      expect((await poll(looser)).config?.pending).toBeUndefined();
      expect(pages.sent.length).toBe(sentBefore);
    });

    it('one person cannot approve twice, nor as a second session of the same role', async () => {
      await poll(config(1_000_000));
      const looser = config(5_000_000);
      const digest = configDigest(looser);
      await poll(looser);
      const role = 'arn:aws:sts::123456789012:assumed-role/ops/alice-session';
      await approve(role, digest, looser);

      expect(await rejection(approve(role, digest, looser))).toContain('same person');
      expect(
        await rejection(approve('arn:aws:sts::123456789012:assumed-role/ops/chosen-by-caller', digest, looser)),
      ).toContain('same person');
      expect((await db.store.getState()).config?.pending?.approvals).toHaveLength(1);
    });

    it('refuses a digest that is not the config now deployed, and when nothing is waiting', async () => {
      await poll(config(1_000_000));
      expect(await rejection(approve(ALICE, configDigest(config(1_000_000)), config(1_000_000)))).toContain(
        'nothing to approve',
      );
      const looser = config(5_000_000);
      await poll(looser);
      expect(await rejection(approve(ALICE, configDigest(config(9_000_000)), looser))).toContain(
        'not the config now deployed',
      );
      expect(await rejection(approve(ALICE, 'abc', looser))).toContain('not the config now deployed');
      expect((await db.store.getState()).config?.pending?.approvals).toBeUndefined();
    });

    it('approvals of an earlier loosening do not carry over to a newer build', async () => {
      await poll(config(1_000_000));
      const looser = config(5_000_000);
      await poll(looser);
      await approve(ALICE, configDigest(looser), looser);
      const loosest = config(9_000_000);
      const state = await poll(loosest);
      expect(state.config?.pending?.approvals).toBeUndefined();
      await approve(BOB, configDigest(loosest), loosest);
      expect((await db.store.getState()).config?.pending).toBeDefined();
    });
  });
});
