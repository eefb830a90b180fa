/**
 * Tamper rows (issue 11): someone with write access to the table or the deployment tries to re-arm,
 * loosen or blind the breaker while the real poller loop runs (anvil, dynalite, the fault world of
 * test/faults). Each test measures how long until the breaker was halted or paged, and asserts that
 * nothing was silently re-armed. Rows go to docs/RELIABILITY.md (scripts/reliability-matrix.ts).
 */
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { Wallet } from 'ethers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { documentToItem } from '../../functions/adapters/dynamodb/item-codec.ts';
import { STATE_KEY } from '../../functions/adapters/dynamodb/table.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import { configPollCheck } from '../../functions/core/config-check.ts';
import { manualTripUseCase } from '../../functions/core/use-cases/manual-trip.ts';
import { createBreakerGuard } from '../../functions/guard/guard.ts';
import { configDigest } from '../../functions/runtime/config-digest.ts';
import { BREACH_USDT, startWorld, type World } from '../faults/world.ts';
import { NOTHING_REARMED, recordTamperRow } from './row.ts';

const quiet = { warn() {}, error() {} };
const REASON = 'operator halted while checking the signer';

describe('tamper', () => {
  let w: World;
  beforeEach(async () => {
    w = await startWorld();
    await w.traffic(2);
    await w.settle();
  });
  afterEach(async () => {
    await w.stop();
  });

  const withdrawal = (id: string) => ({
    withdrawalId: id,
    chain: w.chain.id,
    asset: w.chain.native.symbol,
    destination: '0x1111111111111111111111111111111111111111',
    amount: 1n,
  });
  const guardRejects = async (id: string) =>
    createBreakerGuard({ store: w.direct, config: w.config, logger: quiet })
      .check(withdrawal(id))
      .then(
        () => false,
        () => true,
      );

  it('the state item is deleted after initialisation', async () => {
    expect(await guardRejects('before')).toBe(false);
    const started = Date.now();
    await w.dynamo.client.send(
      new DeleteItemCommand({ TableName: w.dynamo.tableName, Key: { pk: { S: 'BREAKER' }, sk: { S: 'STATE' } } }),
    );
    // Halted at once (absent = halted), whatever runs next.
    expect(await guardRejects('after-delete')).toBe(true);
    await w.traffic(1);
    await w.invoke({ maxMs: 1500 });
    const paged = w.pages('tamper');
    const recoveryMs = Date.now() - started;
    expect(paged).toHaveLength(1);
    // The attacker writes an armed state back: the tamper trip record still halts.
    await w.dynamo.client.send(
      new PutItemCommand({
        TableName: w.dynamo.tableName,
        Item: documentToItem(STATE_KEY, { ...(await w.direct.getState()), schema: 1, version: 99, tripped: {} }),
      }),
    );
    expect(await guardRejects('after-rewrite')).toBe(true);
    recordTamperRow({
      attacker: 'anyone with DeleteItem on the table (admin, restored table)',
      tamper: 'BREAKER/STATE deleted, later rewritten as armed',
      control: 'absent state = halted; the next poll records a global TRIP record and pages [TAMPER]',
      outcome: NOTHING_REARMED,
      recoveryMs,
      observed: `guard halted at once; [TAMPER] pages ${paged.length}; armed rewrite still halted by the trip record`,
    });
  });

  it('a poller role rewrites the state as armed (un-trip)', async () => {
    const { state } = await manualTripUseCase(
      { store: w.direct, publisher: w.publisher, clock: w.clock, config: w.config },
      { scope: 'global', reason: REASON, actor: 'local:alice@host' },
    );
    const started = Date.now();
    await w.dynamo.client.send(
      new PutItemCommand({
        TableName: w.dynamo.tableName,
        Item: documentToItem(STATE_KEY, { ...state, tripped: {}, outbox: [], version: state.version + 5 }),
      }),
    );
    const halted = await guardRejects('after-untrip');
    const recoveryMs = Date.now() - started;
    expect(halted).toBe(true);
    // A poll after it does not re-arm either (it mirrors the trip records too).
    await w.traffic(1);
    await w.invoke({ maxMs: 1500 });
    expect(await guardRejects('after-poll')).toBe(true);
    recordTamperRow({
      attacker: 'a compromised poller role (PutItem on BREAKER)',
      tamper: 'BREAKER/STATE rewritten with the trip removed',
      control: 'trips are also TRIP records; only reset/console roles write RELEASE (core/trips.ts)',
      outcome: NOTHING_REARMED,
      recoveryMs,
      observed: 'guard and the next poll still halted by the unreleased trip record',
    });
  });

  /**
   * The deployed build's poll records its config; then `loosened` is deployed and the drain arrives with
   * it, so the loosened build's first poll is the one that must still apply the old strictness.
   */
  async function drainWithRedeploy(loosened: BreakerConfig, opts: { maxMs: number; breachTo?: string }) {
    await w.invoke({ maxMs: 800, checks: [configPollCheck(w.config, configDigest(w.config))] });
    const started = Date.now();
    await w.traffic(2, { breachAt: 0, ...(opts.breachTo && { breachTo: opts.breachTo }) });
    await w.invoke({
      maxMs: opts.maxMs,
      config: loosened,
      checks: [configPollCheck(loosened, configDigest(loosened))],
    });
    return { pages: w.pages('config'), state: await w.direct.getState(), recoveryMs: Date.now() - started };
  }

  it("the deployed config adds the thief's address as an own address, then the drain goes there", async () => {
    const thief = Wallet.createRandom().address;
    const source = w.config.source;
    const devnet = source.chains[w.chain.id] as { ownAddresses?: string[] };
    const loosened = compileConfig(
      {
        ...source,
        chains: {
          ...source.chains,
          [w.chain.id]: { ...devnet, ownAddresses: [...(devnet.ownAddresses ?? []), thief] },
        },
      } as never,
      'fault-suite-own-address-added',
    );
    const { pages, state, recoveryMs } = await drainWithRedeploy(loosened, { maxMs: 3000, breachTo: thief });
    expect(pages).toHaveLength(1);
    expect(pages[0]?.text).toContain('own addresses added');
    // The transfer to the newly "own" address still counts while the loosening waits: it trips.
    expect(state.tripped.global, 'an outflow to a just-added own address must count during the delay').toBeDefined();
    recordTamperRow({
      attacker: 'whoever can redeploy or UpdateFunctionCode',
      tamper: "the thief's address added as an own address, then the drain sent there",
      control:
        'an own address added by a config change counts as an outside destination until operations.loosenDelaySeconds has passed; [CONFIG] page',
      outcome: NOTHING_REARMED,
      recoveryMs,
      observed: `[CONFIG] pages ${pages.length}; the drain to the new own address tripped global`,
    });
  });

  it('the deployed config prices USDT a million times lower, then the drain goes out in USDT', async () => {
    const source = w.config.source;
    const devnet = source.chains[w.chain.id] as { tokens: { symbol: string; usdPrice: number }[] };
    const loosened = compileConfig(
      {
        ...source,
        chains: {
          ...source.chains,
          [w.chain.id]: {
            ...devnet,
            tokens: devnet.tokens.map((t) => (t.symbol === 'USDT' ? { ...t, usdPrice: 0.000001 } : t)),
          },
        },
      } as never,
      'fault-suite-price-lowered',
    );
    const { pages, state, recoveryMs } = await drainWithRedeploy(loosened, { maxMs: 3000 });
    expect(pages).toHaveLength(1);
    expect(pages[0]?.text).toContain('price of USDT');
    // Recorded at the new price ($1.50 for 1.5M USDT), counted at the old one while the loosening waits.
    const breach = (await w.ledger()).find((r) => r.asset === 'USDT' && r.amount === BREACH_USDT * 1_000_000n);
    expect(breach?.usdMicros).toBe(1_500_000n);
    expect(
      state.tripped.global,
      'a drain of a just-cheapened asset must count at its old price during the delay',
    ).toBeDefined();
    recordTamperRow({
      attacker: 'whoever can redeploy or UpdateFunctionCode',
      tamper: "USDT's static price lowered a million-fold, then the drain sent in USDT",
      control:
        'a lowered price, changed decimals, a swapped feed or a cheaper unlisted-token value is paged as looser; until operations.loosenDelaySeconds has passed outflows count at the previous valuation',
      outcome: NOTHING_REARMED,
      recoveryMs,
      observed: `[CONFIG] pages ${pages.length}; the USDT drain, recorded at $1.50, tripped global`,
    });
  });

  it('the deployed config is loosened (limit raised, rule moved to shadow)', async () => {
    const source = w.config.source;
    const loosened = compileConfig(
      {
        ...source,
        limits: {
          ...source.limits,
          global: { usd: { '10m': 1e12 }, count: { '10m': 1_000_000 } },
          shadow: ['global-count-10m'],
        },
      } as never,
      'fault-suite-loosened',
    );
    const { pages, state, recoveryMs } = await drainWithRedeploy(loosened, { maxMs: 1500 });
    expect(pages).toHaveLength(1);
    expect(pages[0]?.text).toContain('limit raised');
    expect(pages[0]?.text).toContain('moved to shadow');
    expect(state.config?.pending?.loosened.length).toBeGreaterThan(1);
    expect(state.tripped.global, 'a breach of the old limit must trip while the loosening waits').toBeDefined();
    recordTamperRow({
      attacker: 'whoever can redeploy or UpdateFunctionCode',
      tamper: 'global limit raised, a rule moved to shadow',
      control:
        'config digest recorded each poll; [CONFIG] page lists what got looser; the old limits apply for operations.loosenDelaySeconds',
      outcome: NOTHING_REARMED,
      recoveryMs,
      observed: `[CONFIG] pages ${pages.length}; loosenings waiting: ${state.config?.pending?.loosened.length}; a breach of the old limit in the first poll of the loosened build tripped`,
    });
  });
});
