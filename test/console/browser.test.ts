import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseUnits } from 'ethers';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { loadConsoleAssets } from '../../functions/console/assets.ts';
import {
  inProcessApi,
  type LocalConsole,
  localOperator,
  startLocalConsole,
} from '../../functions/console/local-server.ts';
import { OpsConsole } from '../../functions/console/service.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import { pollOnce } from '../../functions/core/use-cases/poll-chain.ts';
import { customer, type Harness, startHarness } from '../integration/harness.ts';

/**
 * The console end to end, in headless Chromium: a real chain (anvil), the real poller and rules on a
 * real store (dynalite), the console server as the local runtime serves it. A drain trips the
 * breaker; the page shows the trip, its evidence and charts; an operator resets it with a reason;
 * the audit record carries the operator's identity and that reason.
 *
 * Set CONSOLE_SCREENSHOTS=docs/screenshots to refresh the screenshots in docs/CONSOLE.md.
 */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const shots = resolve(process.env.CONSOLE_SCREENSHOTS || mkdtempSync(join(tmpdir(), 'hwb-console-shots-')));

describe('ops console in headless Chromium', () => {
  let h: Harness;
  let config: BreakerConfig;
  let server: LocalConsole;
  let browser: Browser;
  let page: Page;
  let chainTime = 0;
  const operator = localOperator();

  /** Mine one block `seconds` after the previous one, then let the console's clock catch up with the chain. */
  async function mineAfter(seconds: number): Promise<void> {
    chainTime += seconds;
    await h.anvil.provider.send('evm_setNextBlockTimestamp', [chainTime]);
    await h.anvil.mine(1);
    h.clock.offsetMs = (chainTime + 20) * 1000 - Date.now();
  }

  async function pollUntilIdle(): Promise<void> {
    const chain = config.chains.get('devnet')!;
    for (let i = 0; i < 50; i++) {
      const { result } = await pollOnce({
        config,
        chain,
        reader: h.reader,
        store: h.store,
        publisher: h.publisher,
        clock: h.clock,
        owner: 'browser-test',
        leaseMs: 30_000,
      });
      if (result.kind === 'idle') return;
    }
    throw new Error('poller did not catch up');
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: the console's browser test needs Debian's Chromium. Run \`apt-get install -y chromium\` (as root; CI installs it).`,
      );
    }
    h = await startHarness();
    // The harness chain with a fuller set of limits, so the console has several charts to draw.
    config = compileConfig(
      {
        ...h.config.source,
        name: 'exchange-demo',
        limits: {
          warnRatio: 0.8,
          global: { usd: { '10m': 100_000, '1h': 250_000 }, count: { '10m': 60 }, singleTxUsd: 80_000 },
          chains: { devnet: { assets: { USDT: { units: { '1h': '200000' } }, ETH: { units: { '1h': '40' } } } } },
        },
      },
      'browser-test',
    );
    chainTime = (await h.anvil.provider.getBlock('latest'))!.timestamp;
    mkdirSync(shots, { recursive: true });

    const ops = new OpsConsole({
      config,
      store: h.store,
      publisher: h.publisher,
      clock: h.clock,
      probeHead: () => h.reader.head(),
    });
    const assets = loadConsoleAssets();
    server = await startLocalConsole({ api: inProcessApi(ops, operator, assets), assets });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on('dialog', (d) => void d.accept());
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await h?.stop();
  });

  it('shows the armed breaker, the trip with its evidence and charts, resets with a reason and shows the audit', async () => {
    // Fifteen minutes of ordinary customer withdrawals and a sweep to cold storage (not a loss).
    const usdt = h.usdt.connect(h.hot);
    for (let i = 0; i < 14; i++) {
      if (i % 3 === 2)
        await h.hot.sendTransaction({ to: customer(), value: parseUnits(['0.4', '1.2', '0.7', '2'][i % 4]!, 18) });
      else await usdt.getFunction('transfer')(customer(), parseUnits(String(600 + ((i * 1373) % 3900)), 6));
      if (i === 7) await usdt.getFunction('transfer')(h.cold, parseUnits('150000', 6));
      await mineAfter(60);
    }
    await pollUntilIdle();

    await page.goto(server.url);
    await expect.poll(() => page.locator('#state-badge').textContent()).toBe('ARMED');
    // The session token moved from the URL into the tab's session storage.
    expect(page.url()).toBe(`${server.origin}/`);
    await expect.poll(() => page.locator('#operator').textContent()).toBe(operator);
    await expect.poll(() => page.locator('#chain-table tr[data-chain="devnet"]').textContent()).toContain('ok');
    await page.selectOption('#span', '1800');
    await expect.poll(() => page.locator('.chart[data-rule="global-usd-10m"] svg path.series-counted').count()).toBe(1);
    await page.screenshot({ path: join(shots, 'console-armed.png'), fullPage: true });

    // The hot key is stolen: stablecoins first, then ETH; no single transfer above the $80,000 limit.
    const thief = customer();
    for (const step of [
      () => usdt.getFunction('transfer')(thief, parseUnits('35000', 6)),
      () => usdt.getFunction('transfer')(thief, parseUnits('30000', 6)),
      () => h.hot.sendTransaction({ to: thief, value: parseUnits('8', 18) }),
      () => usdt.getFunction('transfer')(thief, parseUnits('25000', 6)),
    ]) {
      await step();
      await mineAfter(30);
    }
    await pollUntilIdle();
    const state = await h.store.getState();
    expect(Object.keys(state.tripped)).toEqual(['global']);
    const trip = state.tripped.global!;
    expect(trip.ruleId).toBe('global-usd-10m');

    await page.reload();
    await page.selectOption('#span', '1800');
    await expect.poll(() => page.locator('#state-badge').textContent()).toBe('TRIPPED');
    const card = page.locator(`.trip-card[data-trip-id="${trip.tripId}"]`);
    await expect.poll(() => card.locator('.headline').textContent()).toContain('global-usd-10m');
    expect(await card.locator('.summary').textContent()).toContain('USD out of all chains per 10m');
    expect(await card.locator('.limit').textContent()).toBe('$100,000.00');
    // Every transaction of the breaking window, with its explorer link; the thief's among them.
    const rows = card.locator('tr.tx');
    expect(await rows.count()).toBe(trip.evidence.outflowIds.length);
    const hrefs = await rows.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    for (const href of hrefs) expect(href).toMatch(/^https:\/\/explorer\.invalid\/tx\/0x[0-9a-f]{64}$/);
    expect(await card.textContent()).toContain('35000');
    // The chart of the broken rule is marked, with its breaking window and the limit line drawn.
    const chart = page.locator('.chart[data-rule="global-usd-10m"]');
    await expect.poll(() => chart.getAttribute('class')).toContain('over');
    expect(await chart.locator('rect.breach-window').count()).toBe(1);
    expect(await chart.locator('.limit').count()).toBe(1);
    expect(await page.locator('#scopes tr[data-scope="global"]').textContent()).toContain('TRIPPED');
    await page.screenshot({ path: join(shots, 'console-tripped.png'), fullPage: true });

    // A reset needs a reason: a short one is refused and the breaker stays tripped.
    await page.fill('#reset-reason', 'ok');
    await page.click('#reset-submit');
    await expect.poll(() => page.locator('#message').textContent()).toContain('reason: at least 10 characters');
    expect(Object.keys((await h.store.getState()).tripped)).toEqual(['global']);

    const reason = 'INC-4711: drain reviewed, hot key rotated, thief address reported';
    await page.fill('#reset-reason', reason);
    await page.click('#reset-submit');
    await expect.poll(() => page.locator('#state-badge').textContent()).toBe('ARMED');
    expect(await page.locator('#message').textContent()).toContain(`recorded as ${operator}`);

    const [record] = await h.store.listAudit(1);
    expect(record).toMatchObject({ action: 'reset', actor: operator, reason, scope: 'global' });
    expect(record!.details.clearedTrips).toEqual([{ tripId: trip.tripId, ruleId: 'global-usd-10m' }]);
    const row = page.locator(`#history-table tr[data-id="${record!.id}"]`);
    await expect.poll(() => row.locator('.reason').textContent()).toBe(reason);
    expect(await row.locator('.actor').textContent()).toBe(operator);
    expect(await page.locator('#history-table tr[data-action="trip"]').count()).toBe(1);

    // A manual trip from the page: the operator halts one chain with a reason, then re-arms it.
    const why = 'Signer logs show an unknown API key: halting devnet while we look';
    await page.selectOption('#trip-scope', 'chain:devnet');
    await page.fill('#trip-reason', why);
    await page.click('#trip-submit');
    await expect.poll(() => page.locator('#state-badge').textContent()).toBe('TRIPPED');
    const manual = (await h.store.getState()).tripped['chain:devnet']!;
    expect(manual).toMatchObject({ ruleId: 'manual', manual: { actor: operator, reason: why } });
    await expect
      .poll(() => page.locator(`.trip-card[data-trip-id="${manual.tripId}"]`).textContent())
      .toContain(`Tripped by hand by ${operator}`);
    await page.fill('#reset-reason', 'False alarm: the key belongs to the new treasury service');
    await page.click('#reset-submit');
    await expect.poll(() => page.locator('#state-badge').textContent()).toBe('ARMED');
    await expect
      .poll(() =>
        page
          .locator('#history-table tr[data-action]')
          .evaluateAll((rs) => rs.map((r) => r.getAttribute('data-action'))),
      )
      .toEqual(['reset', 'trip', 'reset', 'trip', 'init']);
    await page.locator('#history').scrollIntoViewIfNeeded();
    await page.locator('#history').screenshot({ path: join(shots, 'console-history.png') });
  });

  it('two-person rule: the requester cannot approve; a second operator approves from their own console', async () => {
    const twoPerson = compileConfig(
      { ...config.source, operations: { twoPersonReset: true, approvalWindowSeconds: 900 } },
      'browser-test',
    );
    const assets = loadConsoleAssets();
    const consoleAs = (who: string) =>
      startLocalConsole({
        api: inProcessApi(
          new OpsConsole({ config: twoPerson, store: h.store, publisher: h.publisher, clock: h.clock }),
          who,
          assets,
        ),
        assets,
      });
    const [alice, bob] = ['local:alice@ops-1', 'local:bob@ops-2'];
    const [aliceConsole, bobConsole] = [await consoleAs(alice), await consoleAs(bob)];
    const bobPage = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    bobPage.on('dialog', (d) => void d.accept());
    try {
      await page.goto(aliceConsole.url);
      await expect.poll(() => page.locator('#operator').textContent()).toBe(alice);
      await page.selectOption('#trip-scope', 'global');
      await page.fill('#trip-reason', 'Exchange-wide halt: custody provider reports an incident');
      await page.click('#trip-submit');
      await expect.poll(() => page.locator('#state-badge').textContent()).toBe('TRIPPED');

      expect(await page.locator('#reset-submit').textContent()).toBe('Request reset');
      await page.fill('#reset-reason', 'Custody provider confirmed the incident is resolved (ticket CP-2291)');
      await page.click('#reset-submit');
      await expect.poll(() => page.locator('#pending-reset').isVisible()).toBe(true);
      expect(await page.locator('#approve-reset').isDisabled()).toBe(true);
      expect(await page.locator('#pending-reset').textContent()).toContain('a different operator must approve');
      expect(await page.locator('#state-badge').textContent()).toBe('TRIPPED');

      await bobPage.goto(bobConsole.url);
      await expect.poll(() => bobPage.locator('#approve-reset').isEnabled()).toBe(true);
      expect(await bobPage.locator('#pending-reset').textContent()).toContain(alice);
      await bobPage.locator('#actions').screenshot({ path: join(shots, 'console-two-person.png') });
      await bobPage.click('#approve-reset');
      await expect.poll(() => bobPage.locator('#state-badge').textContent()).toBe('ARMED');

      const [reset, requested] = await h.store.listAudit(2);
      expect(requested).toMatchObject({ action: 'reset-requested', actor: alice });
      expect(reset).toMatchObject({
        action: 'reset',
        actor: bob,
        reason: 'Custody provider confirmed the incident is resolved (ticket CP-2291)',
        details: { twoPerson: { requestedBy: alice, approvedBy: bob } },
      });
    } finally {
      await bobPage.close();
      await aliceConsole.close();
      await bobConsole.close();
    }
  });
});
