import { z } from 'zod';
import { usdToMicros } from '../amounts.ts';
import { BreakerError, formatPath } from '../errors.ts';

/**
 * The outflow scenario format `hot-wallet-breaker/scenario@1` (../shared/scenarios/FORMAT.md):
 * a timeline of hot-wallet outflows to replay through the breaker and score. Validated here; an
 * error names the event and field (`events[17].amount: not a decimal string`).
 */

export const SCENARIO_FORMAT = 'hot-wallet-breaker/scenario@1';

export class ScenarioError extends BreakerError {
  readonly issues: readonly string[];
  constructor(source: string, issues: readonly string[]) {
    const shown = issues.length > 25 ? [...issues.slice(0, 25), `… and ${issues.length - 25} more`] : issues;
    super('SCENARIO_INVALID', `${source}: invalid scenario\n  - ${shown.join('\n  - ')}`);
    this.issues = issues;
  }
}

const EVENT_FIELDS = [
  't',
  'chain',
  'asset',
  'amount',
  'usd',
  'to',
  'from',
  'tx',
  'label',
  'approved',
  'aggregate',
  'via',
  'direction',
] as const;

/**
 * Who signed an outflow. `signer`: the exchange's own signing service (what a halt stops);
 * `stolen-key`: a thief signing with the hot keys elsewhere (a halt stops none of it).
 */
const VIA = z.enum(['signer', 'stolen-key'], { error: 'expected "signer" or "stolen-key"' });
export type SignedVia = z.infer<typeof VIA>;

const DECIMAL = /^\d+(\.\d+)?$/;

const usdValue = z
  .union([z.number(), z.string()], { error: 'expected a USD number' })
  .refine((v) => (typeof v === 'number' ? Number.isFinite(v) && v >= 0 : DECIMAL.test(v)), {
    error: 'not a non-negative USD amount',
  });

const eventSchema = z
  .object(
    {
      t: z
        .number({ error: 'expected a number of seconds since the scenario start' })
        .refine((t) => Number.isFinite(t) && t >= 0, { error: 'must be a finite number ≥ 0' }),
      chain: z.string({ error: 'expected a chain id string' }).min(1, { error: 'must not be empty' }),
      asset: z.string({ error: 'expected an asset symbol string' }).min(1, { error: 'must not be empty' }),
      amount: z.string({ error: 'not a decimal string' }).regex(DECIMAL, { error: 'not a decimal string' }).optional(),
      usd: usdValue.optional(),
      to: z.string({ error: 'expected an address string' }).min(1, { error: 'must not be empty' }).optional(),
      from: z.string({ error: 'expected an address string' }).min(1, { error: 'must not be empty' }).optional(),
      tx: z.string({ error: 'expected a transaction id string' }).min(1, { error: 'must not be empty' }).optional(),
      label: z.enum(['legit', 'attack'], { error: 'expected "legit" or "attack"' }).optional(),
      approved: z.boolean({ error: 'expected true or false' }).optional(),
      aggregate: z.boolean({ error: 'expected true or false' }).optional(),
      via: VIA.optional(),
      direction: z.enum(['out', 'in'], { error: 'expected "out" or "in"' }).optional(),
    },
    { error: 'expected an event object' },
  )
  .strict()
  .refine((e) => e.amount !== undefined || e.usd !== undefined, { error: 'needs amount or usd (or both)' })
  .refine((e) => e.direction !== 'in' || e.amount !== undefined, {
    error: 'an inflow moves a balance, so it needs amount (whole units)',
    path: ['amount'],
  })
  .refine((e) => e.direction !== 'in' || e.label !== 'attack', {
    error: 'an inflow is never a loss: it cannot be labelled "attack"',
    path: ['label'],
  })
  .refine((e) => e.via !== 'stolen-key' || e.label === 'attack', {
    error: 'a customer withdrawal (label legit) goes through the signer: only an attack can be "stolen-key"',
    path: ['via'],
  });

const scenarioSchema = z
  .object(
    {
      format: z.literal(SCENARIO_FORMAT, { error: `expected "${SCENARIO_FORMAT}"` }),
      name: z.string({ error: 'expected a short id string' }).min(1, { error: 'must not be empty' }),
      description: z.string({ error: 'expected a string' }).optional(),
      prices: z
        .record(
          z.string(),
          z
            .number({ error: 'expected a USD price number' })
            .refine((p) => Number.isFinite(p) && p > 0, { error: 'must be > 0' }),
          { error: 'expected a map of asset symbol → USD price' },
        )
        .default({}),
      attackVia: VIA.optional(),
      balances: z
        .record(
          z.string(),
          z.record(
            z.string(),
            z.string({ error: 'not a decimal string' }).regex(DECIMAL, { error: 'not a decimal string' }),
            { error: 'expected a map of asset symbol → balance in whole units' },
          ),
          { error: 'expected a map of chain id → { asset symbol: balance in whole units }' },
        )
        .optional(),
      events: z.array(eventSchema, { error: 'expected an array of events' }),
    },
    { error: 'expected a scenario object' },
  )
  .strict();

/** One outflow of the timeline. `label` is ground truth for scoring only: the breaker never reads it. */
export interface ScenarioEvent {
  /** Position in the file (what error messages and synthesised ids use). */
  index: number;
  t: number;
  chain: string;
  asset: string;
  amount?: string;
  usdMicros?: bigint;
  to?: string;
  from?: string;
  tx?: string;
  label: 'legit' | 'attack';
  approved: boolean;
  aggregate: boolean;
  /** Who signed it: legit events always `signer`; attack events by `via`, else the scenario's `attackVia`, else `stolen-key`. */
  via: SignedVia;
  /** `out`: the hot wallets sent it; `in`: it came into them (a deposit, a refill from cold): never a loss, only moves balances. */
  direction: 'out' | 'in';
}

export interface Scenario {
  name: string;
  description: string;
  /** Micro-USD per whole unit, by asset symbol. */
  prices: Map<string, bigint>;
  /** Every event in file order: outflows and inflows (`direction`). */
  events: ScenarioEvent[];
  /**
   * The hot wallets' combined balance at t = 0, in whole units (decimal strings), by chain then asset
   * symbol; undefined when the scenario gives none (balances unknown: balance rules stay silent).
   */
  balances?: Map<string, Map<string, string>>;
}

/** Parse and validate scenario JSON text. Throws ScenarioError naming every bad event and field. */
export function parseScenarioText(text: string, source = 'scenario'): Scenario {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ScenarioError(source, [`not valid JSON: ${(e as Error).message}`]);
  }
  return parseScenario(data, source);
}

export function parseScenario(data: unknown, source = 'scenario'): Scenario {
  const parsed = scenarioSchema.safeParse(data);
  if (!parsed.success) throw new ScenarioError(source, parsed.error.issues.flatMap(describeIssue));
  const s = parsed.data;
  return {
    name: s.name,
    description: s.description ?? '',
    prices: new Map(Object.entries(s.prices).map(([symbol, usd]) => [symbol, usdToMicros(usd)])),
    ...(s.balances && {
      balances: new Map(Object.entries(s.balances).map(([chain, assets]) => [chain, new Map(Object.entries(assets))])),
    }),
    events: s.events.map((e, index) => {
      const label = e.label ?? 'legit';
      // Never credit a halt with stopping an attack unless the scenario says the attack used the signer.
      const via = label === 'legit' ? 'signer' : (e.via ?? s.attackVia ?? 'stolen-key');
      return {
        index,
        t: e.t,
        chain: e.chain,
        asset: e.asset,
        amount: e.amount,
        usdMicros: e.usd === undefined ? undefined : usdToMicros(e.usd),
        to: e.to,
        from: e.from,
        tx: e.tx,
        label,
        // The guard records what it approves, so an attack through the signer has an approved withdrawal.
        approved: e.approved ?? via === 'signer',
        aggregate: e.aggregate ?? false,
        via,
        direction: e.direction ?? 'out',
      };
    }),
  };
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    const inEvent = issue.path[0] === 'events';
    return issue.keys.map(
      (key) =>
        `${formatPath([...issue.path, key])}: unknown field${inEvent ? ` (fields: ${EVENT_FIELDS.join(', ')})` : ''}`,
    );
  }
  return [`${formatPath(issue.path)}: ${issue.message}`];
}
