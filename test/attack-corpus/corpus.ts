/**
 * A synthetic attack corpus: the shapes public exchange drains take, generated as scenario files
 * (`hot-wallet-breaker/scenario@1`, ../shared/scenarios/FORMAT.md), deterministic from a seed.
 *
 * Every scenario is two hours of ordinary, approved customer withdrawals on Ethereum, BNB Smart Chain
 * and Bitcoin (about 120 an hour, log-normal sizes, as in normal-week.json) that keep going through
 * the attack, and one attack of its shape starting after them. Each variant draws its own hot-wallet
 * holdings ($20M–$80M in total, spread over the assets of the chains config/example.yaml watches),
 * timings and sizes, so a shape is judged on several draws and not on one hand-picked timeline.
 */

export const CORPUS_SEED = 20_250_123; // Phemex's drain began on 23 January 2025
export const VARIANTS_PER_SHAPE = 5;

/** Prices the corpus values its events at (the example config's static prices). */
export const CORPUS_PRICES: Readonly<Record<string, number>> = {
  ETH: 3300,
  BTC: 100_000,
  BNB: 650,
  POL: 0.25,
  AVAX: 25,
  USDT: 1,
  USDC: 1,
};

export interface ScenarioEventJson {
  t: number;
  chain: string;
  asset: string;
  amount?: string;
  usd?: number;
  to: string;
  label: 'legit' | 'attack';
  approved?: boolean;
  via?: 'signer' | 'stolen-key';
}

export interface ScenarioJson {
  format: 'hot-wallet-breaker/scenario@1';
  name: string;
  description: string;
  prices: Record<string, number>;
  /** The hot wallets' combined balance of each asset at t = 0, in whole units (FORMAT.md). */
  balances: Record<string, Record<string, string>>;
  events: ScenarioEventJson[];
}

export interface CorpusEntry {
  shape: ShapeId;
  variant: number;
  scenario: ScenarioJson;
}

export type ShapeId =
  | 'stablecoins-first'
  | 'many-assets-at-once'
  | 'chains-within-minutes'
  | 'unlisted-tokens'
  | 'one-huge-transfer'
  | 'slow-drip'
  | 'approved-withdrawals'
  | 'test-transfer-first';

export interface Shape {
  id: ShapeId;
  description: string;
  /** The attack's events, drawing on `wallet`: what the hot wallets hold of each listed asset, in USD. */
  attack(rng: Rng, start: number, wallet: Wallet): ScenarioEventJson[];
}

/** mulberry32: a small, fast, seedable PRNG — the same seed gives the same corpus on every machine. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let x = this.state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  }
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  int(lo: number, hi: number): number {
    return Math.floor(this.between(lo, hi + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  hex(chars: number): string {
    let s = '';
    for (let i = 0; i < chars; i++) s += '0123456789abcdef'[Math.floor(this.next() * 16)];
    return s;
  }
}

/** A listed asset a hot wallet holds, on a chain config/example.yaml watches. */
interface Holding {
  chain: string;
  asset: string;
  stable: boolean;
}

const HOLDINGS: readonly Holding[] = [
  { chain: 'ethereum', asset: 'USDT', stable: true },
  { chain: 'ethereum', asset: 'USDC', stable: true },
  { chain: 'ethereum', asset: 'ETH', stable: false },
  { chain: 'bsc', asset: 'USDT', stable: true },
  { chain: 'bsc', asset: 'USDC', stable: true },
  { chain: 'bsc', asset: 'BNB', stable: false },
  { chain: 'bitcoin', asset: 'BTC', stable: false },
  { chain: 'arbitrum', asset: 'USDC', stable: true },
  { chain: 'arbitrum', asset: 'ETH', stable: false },
  { chain: 'optimism', asset: 'USDT', stable: true },
  { chain: 'optimism', asset: 'ETH', stable: false },
  { chain: 'base', asset: 'USDC', stable: true },
  { chain: 'base', asset: 'ETH', stable: false },
  { chain: 'polygon', asset: 'USDT', stable: true },
  { chain: 'polygon', asset: 'POL', stable: false },
  { chain: 'avalanche', asset: 'USDC', stable: true },
  { chain: 'avalanche', asset: 'AVAX', stable: false },
];

/** Tokens config/example.yaml does not list: each transfer carries the USD a market would have said. */
const UNLISTED = ['PEPE', 'SHIB', 'LINK', 'UNI', 'FET', 'ONDO', 'WLD', 'ENA'] as const;

/** A wallet's holdings of each asset, in USD: the share a real hot wallet would hold of each. */
type Wallet = readonly { holding: Holding; usd: number }[];

function holdings(rng: Rng): Wallet {
  const total = rng.between(20e6, 80e6);
  const weights = HOLDINGS.map((h) => {
    const base = h.chain === 'ethereum' ? 6 : h.chain === 'bsc' || h.chain === 'bitcoin' ? 3 : 1;
    return base * rng.between(0.5, 1.5);
  });
  const sum = weights.reduce((a, b) => a + b, 0);
  return HOLDINGS.map((holding, i) => ({ holding, usd: (total * (weights[i] as number)) / sum }));
}

function attackAddress(rng: Rng, chain: string): string {
  return chain === 'bitcoin' ? `bc1q${rng.hex(38)}` : `0x${rng.hex(40)}`;
}

/** Whole units of `usd` worth of `asset`, as the decimal string the format wants (6 places). */
function unitsOf(asset: string, usd: number): string {
  const price = CORPUS_PRICES[asset];
  if (price === undefined) throw new Error(`corpus: no price for ${asset}`);
  return (usd / price).toFixed(6);
}

/** Split `usd` into transfers of at most `maxUsd` each, spaced by a random gap, from `t`. */
function chunks(
  rng: Rng,
  usd: number,
  maxUsd: number,
  t: number,
  gapS: [number, number],
): { t: number; usd: number }[] {
  const out: { t: number; usd: number }[] = [];
  let left = usd;
  let at = t;
  while (left > 1) {
    const part = Math.min(left, maxUsd * rng.between(0.6, 1));
    out.push({ t: round(at), usd: part });
    left -= part;
    at += rng.between(gapS[0], gapS[1]);
  }
  return out;
}

function round(t: number): number {
  return Math.round(t * 10) / 10;
}

function drainEvent(
  h: Holding,
  part: { t: number; usd: number },
  to: string,
  extra: Partial<ScenarioEventJson> = {},
): ScenarioEventJson {
  return {
    t: part.t,
    chain: h.chain,
    asset: h.asset,
    amount: unitsOf(h.asset, part.usd),
    to,
    label: 'attack',
    ...extra,
  };
}

/** Drain holdings one after the other, in the given order, each in transfers up to maxUsd. */
function drainInOrder(
  rng: Rng,
  order: { holding: Holding; usd: number }[],
  start: number,
  maxUsd: number,
): ScenarioEventJson[] {
  const events: ScenarioEventJson[] = [];
  const to = new Map<string, string>();
  let t = start;
  for (const { holding, usd } of order) {
    const address = to.get(holding.chain) ?? attackAddress(rng, holding.chain);
    to.set(holding.chain, address);
    const parts = chunks(rng, usd, maxUsd, t, [1, 20]);
    for (const part of parts) events.push(drainEvent(holding, part, address));
    t = (parts.at(-1)?.t ?? t) + rng.between(5, 60);
  }
  return events;
}

const byValue = (a: { usd: number }, b: { usd: number }) => b.usd - a.usd;

export const SHAPES: readonly Shape[] = [
  {
    id: 'stablecoins-first',
    description: 'freezable stablecoins first (largest first), then the rest down by value; transfers ≤ $2.5M',
    attack: (rng, start, wallet) => {
      const all = [...wallet];
      const order = [
        ...all.filter((h) => h.holding.stable).sort(byValue),
        ...all.filter((h) => !h.holding.stable).sort(byValue),
      ];
      return drainInOrder(rng, order, start, 2.5e6);
    },
  },
  {
    id: 'many-assets-at-once',
    description: 'every asset on every watched chain at once, each within its own hourly units limit, over ten minutes',
    attack: (rng, start, wallet) => {
      const events: ScenarioEventJson[] = [];
      for (const { holding } of wallet) {
        const to = attackAddress(rng, holding.chain);
        // Below each asset's own limits (the example's smallest units limit is $250k/h): only the sum shows.
        const usd = rng.between(60_000, 150_000);
        for (const part of chunks(rng, usd, 40_000, start + rng.between(0, 300), [10, 60]))
          events.push(drainEvent(holding, part, to));
      }
      return events;
    },
  },
  {
    id: 'chains-within-minutes',
    description: 'one chain after another, a minute or two apart, each chain kept under its own chain limits',
    attack: (rng, start) => {
      const events: ScenarioEventJson[] = [];
      const chains = [...new Set(HOLDINGS.map((h) => h.chain))];
      let t = start;
      for (const chain of chains) {
        const to = attackAddress(rng, chain);
        // Under each chain's 10-minute limit (≥ $250k in the example): no chain limit sees it.
        const budget = rng.between(120_000, 200_000);
        const held = HOLDINGS.filter((h) => h.chain === chain);
        for (const holding of held) {
          for (const part of chunks(rng, budget / held.length, 50_000, t, [2, 15]))
            events.push(drainEvent(holding, part, to));
        }
        t += rng.between(60, 150);
      }
      return events;
    },
  },
  {
    id: 'unlisted-tokens',
    description: 'only tokens the config does not list ($0.3M–$3M each, valued at the market by the scenario)',
    attack: (rng, start) => {
      const events: ScenarioEventJson[] = [];
      const chains = ['ethereum', 'bsc', 'arbitrum', 'base'];
      let t = start;
      for (const asset of UNLISTED) {
        const chain = rng.pick(chains);
        const to = attackAddress(rng, chain);
        const price = rng.between(0.5, 20); // what a market would have said; the config knows no price
        for (const part of chunks(rng, rng.between(0.3e6, 3e6), 1e6, t, [2, 30]))
          events.push({
            t: part.t,
            chain,
            asset,
            amount: (part.usd / price).toFixed(6),
            usd: Math.round(part.usd * 100) / 100,
            to,
            label: 'attack',
          });
        t += rng.between(10, 90);
      }
      return events;
    },
  },
  {
    id: 'one-huge-transfer',
    description: 'the largest holding leaves in one transaction',
    attack: (rng, start, wallet) => {
      const [largest] = [...wallet].sort(byValue);
      if (!largest) return [];
      const { holding, usd } = largest;
      return [drainEvent(holding, { t: start, usd }, attackAddress(rng, holding.chain))];
    },
  },
  {
    id: 'slow-drip',
    description:
      'a few thousand dollars every 10–40 minutes for three days to a handful of addresses: under every limit',
    attack: (rng, start) => {
      const events: ScenarioEventJson[] = [];
      const liquid = HOLDINGS.filter((h) => ['ethereum', 'bsc'].includes(h.chain));
      const addresses = new Map(
        liquid.map((h) => [h.chain, [attackAddress(rng, h.chain), attackAddress(rng, h.chain)]]),
      );
      for (let t = start; t < start + 3 * 86_400; t += rng.between(600, 2400)) {
        const holding = rng.pick(liquid);
        const to = rng.pick(addresses.get(holding.chain) as string[]);
        events.push(drainEvent(holding, { t: round(t), usd: rng.between(2_000, 8_000) }, to));
      }
      return events;
    },
  },
  {
    id: 'approved-withdrawals',
    description:
      "through the exchange's own withdrawal system (approved by the signer): $20k–$120k withdrawals to new addresses every few seconds",
    attack: (rng, start) => {
      const events: ScenarioEventJson[] = [];
      const liquid = HOLDINGS.filter((h) => ['ethereum', 'bsc', 'bitcoin'].includes(h.chain));
      let t = start;
      const end = start + rng.between(2400, 5400);
      while (t < end) {
        const holding = rng.pick(liquid);
        const part = { t: round(t), usd: rng.between(20_000, 120_000) };
        events.push(drainEvent(holding, part, attackAddress(rng, holding.chain), { via: 'signer', approved: true }));
        t += rng.between(3, 12);
      }
      return events;
    },
  },
  {
    id: 'test-transfer-first',
    description: 'a $10–$100 test transfer, then an hour later the drain, largest holdings first, transfers ≤ $2.5M',
    attack: (rng, start, wallet) => {
      const all = [...wallet].sort(byValue);
      const first = all[0] as { holding: Holding; usd: number };
      const drain = drainInOrder(rng, all, start + 3600 + rng.between(-300, 300), 2.5e6);
      const to = drain[0]?.to ?? attackAddress(rng, first.holding.chain);
      return [drainEvent(first.holding, { t: start, usd: rng.between(10, 100) }, to), ...drain];
    },
  },
];

const BACKGROUND: readonly { holding: Holding; share: number; medianUsd: number }[] = [
  { holding: { chain: 'ethereum', asset: 'ETH', stable: false }, share: 0.22, medianUsd: 1500 },
  { holding: { chain: 'ethereum', asset: 'USDT', stable: true }, share: 0.24, medianUsd: 1200 },
  { holding: { chain: 'ethereum', asset: 'USDC', stable: true }, share: 0.08, medianUsd: 1200 },
  { holding: { chain: 'bsc', asset: 'BNB', stable: false }, share: 0.12, medianUsd: 400 },
  { holding: { chain: 'bsc', asset: 'USDT', stable: true }, share: 0.13, medianUsd: 300 },
  { holding: { chain: 'bitcoin', asset: 'BTC', stable: false }, share: 0.21, medianUsd: 2500 },
];

/** The item whose cumulative share covers `r` (0…1). */
function pickWeighted<T extends { share: number }>(items: readonly T[], r: number): T {
  let left = r;
  for (const item of items) {
    left -= item.share;
    if (left < 0) return item;
  }
  return items[0] as T;
}

/** Ordinary customer withdrawals (~120 an hour, log-normal sizes), approved by the signer, over [0, end). */
function background(rng: Rng, end: number): ScenarioEventJson[] {
  const events: ScenarioEventJson[] = [];
  for (let t = rng.between(0, 60); t < end; t += -Math.log(Math.max(rng.next(), 1e-12)) * 30) {
    const kind = pickWeighted(BACKGROUND, rng.next());
    const usd = Math.min(kind.medianUsd * Math.exp(1.3 * rng.normal()), 150_000);
    const h = kind.holding;
    events.push({
      t: round(t),
      chain: h.chain,
      asset: h.asset,
      amount: unitsOf(h.asset, usd),
      to: attackAddress(rng, h.chain),
      label: 'legit',
    });
  }
  return events;
}

/**
 * What the hot wallets hold at t = 0, so balance-relative rules can judge the replay: each listed
 * asset's holding plus the customer withdrawals it pays during the scenario; an unlisted token what
 * the attack takes of it (the thief empties it).
 */
function balancesOf(wallet: Wallet, events: readonly ScenarioEventJson[]): Record<string, Record<string, string>> {
  const units = new Map<string, number>();
  const key = (chain: string, asset: string) => `${chain}\u0000${asset}`;
  const add = (chain: string, asset: string, n: number) =>
    units.set(key(chain, asset), (units.get(key(chain, asset)) ?? 0) + n);
  for (const { holding, usd } of wallet) add(holding.chain, holding.asset, Number(unitsOf(holding.asset, usd)));
  for (const e of events) {
    const listed = CORPUS_PRICES[e.asset] !== undefined;
    if (e.label === 'legit' || !listed) add(e.chain, e.asset, Number(e.amount));
  }
  const balances: Record<string, Record<string, string>> = {};
  for (const [k, n] of units) {
    const [chain, asset] = k.split('\u0000') as [string, string];
    balances[chain] ??= {};
    // Rounded up, so rounding never leaves an outflow larger than the balance.
    (balances[chain] as Record<string, string>)[asset] = (Math.ceil(n * 1e6) / 1e6 + 0.000001).toFixed(6);
  }
  return balances;
}

/** Two hours of ordinary withdrawals before the attack (they go on through it). */
const ATTACK_START_S = 7200;

export function generateCorpus(seed = CORPUS_SEED, variants = VARIANTS_PER_SHAPE): CorpusEntry[] {
  const entries: CorpusEntry[] = [];
  SHAPES.forEach((shape, s) => {
    for (let variant = 1; variant <= variants; variant++) {
      const rng = new Rng(seed + 1000 * s + variant);
      const start = ATTACK_START_S + rng.between(0, 600);
      const wallet = holdings(rng);
      const attack = shape.attack(rng, round(start), wallet);
      const lastAttack = Math.max(...attack.map((e) => e.t));
      const events = [...background(rng, Math.min(lastAttack + 3600, start + 4 * 86_400)), ...attack].sort(
        (a, b) => a.t - b.t,
      );
      entries.push({
        shape: shape.id,
        variant,
        scenario: {
          format: 'hot-wallet-breaker/scenario@1',
          name: `${shape.id}-${variant}`,
          description: `attack corpus (seed ${seed}): ${shape.description}; two hours of ordinary withdrawals before it`,
          prices: { ...CORPUS_PRICES },
          balances: balancesOf(wallet, events),
          events,
        },
      });
    }
  });
  return entries;
}
