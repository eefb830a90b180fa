import { z } from 'zod';
import { ACTUATOR_DEFAULTS, actuatorsSchema } from '../actuators/config.ts';
import type { AddressRules, ChainKind, TokenRules } from '../chain-kind.ts';
import { custodySchema } from '../custody/config.ts';
import { priceDiscoverySchema } from '../prices/discovery.ts';
import { RECONCILIATION_DEFAULTS, reconciliationSchema } from '../reconciliation/config.ts';
import { parseDuration } from '../time.ts';
import { WATERMARK_DEFAULTS, watermarkSchema } from '../watermark/config.ts';

/**
 * The one config file, as the user writes it. `compileConfig` (compile.ts) turns it into the
 * normalised `BreakerConfig` the rest of the code uses (normalised addresses, bigint limits,
 * flat rule list). Every message here is written to be read after a path such as
 * `chains.ethereum.rpc[0]: `. A chain's own settings and its address and token rules come from its
 * kind (functions/core/chain-kind.ts), so the schema is built for the registered kinds.
 */

export const httpUrl = z
  .string({ error: 'expected a URL string' })
  .refine((s) => /^https?:\/\/[^\s]+$/.test(s), { error: 'not an http(s) URL' });

/** An address of one chain kind, in its canonical form. */
function addressOf(rules: AddressRules) {
  return z
    .string({ error: 'expected an address string' })
    .superRefine((text, ctx) => {
      const problem = rules.problem(text);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .transform((text) => rules.normalise(text));
}

const positiveUsd = z.number({ error: 'expected a USD number' }).positive({ error: 'must be > 0' });
const decimalString = z
  .union([z.string(), z.number()], { error: 'expected a decimal amount' })
  .transform((v) => String(v))
  .refine((s) => /^\d+(\.\d+)?$/.test(s), { error: 'not a non-negative decimal amount like "12.5"' });

const duration = z.string({ error: 'expected a duration like 10m' }).refine(
  (s) => {
    try {
      return parseDuration(s) > 0;
    } catch {
      return false;
    }
  },
  { error: 'not a duration like 30s, 10m, 1h or 7d' },
);

/** `{ 10m: 1000000, 1h: 2500000 }` — window → limit. */
function windowed<T extends z.ZodType>(value: T) {
  // A bad key is reported by the record itself (zod nests the key's own message), so name it here.
  return z.record(duration, value, {
    error: (issue) =>
      issue.code === 'invalid_key'
        ? 'not a duration like 30s, 10m, 1h or 7d'
        : 'expected a map of window → limit, e.g. { 1h: 1000000 }',
  });
}

const haltScope = z.enum(['global', 'chain'], { error: 'expected "global" or "chain"' });

const assetLimits = z
  .object({
    units: windowed(decimalString).optional(),
    count: windowed(z.number().int().positive()).optional(),
    singleTx: decimalString.optional(),
    halt: haltScope.optional(),
  })
  .strict();

const chainLimits = z
  .object({
    usd: windowed(positiveUsd).optional(),
    count: windowed(z.number().int().positive({ error: 'must be a positive integer' })).optional(),
    singleTxUsd: positiveUsd.optional(),
    halt: haltScope.optional(),
    assets: z.record(z.string(), assetLimits).optional(),
  })
  .strict();

const globalLimits = z
  .object({
    usd: windowed(positiveUsd).optional(),
    count: windowed(z.number().int().positive({ error: 'must be a positive integer' })).optional(),
    singleTxUsd: positiveUsd.optional(),
  })
  .strict();

/**
 * A Chainlink-style aggregator (`latestRoundData`, `decimals`) giving the asset's USD price. `chain`
 * is the chain it is read on (default: the asset's own chain; required where that chain's kind hosts
 * no price feeds). The address is checked against that chain's address rules by the compiler.
 */
const priceFeed = z
  .object({
    address: z.string({ error: 'expected an address string' }),
    maxAgeSeconds: z.number().int().positive({ error: 'must be a positive number of seconds' }),
    chain: z.string().optional(),
  })
  .strict();

const priceFields = {
  usdPrice: z.number({ error: 'a static USD price is required (the fallback when no feed answers)' }).positive(),
  priceFeed: priceFeed.optional(),
  /** What an outflow is valued at while the feed is stale or unreadable (≥ usdPrice). */
  worstCaseUsdPrice: z.number({ error: 'expected a USD number' }).positive({ error: 'must be > 0' }).optional(),
};

/** A feed needs a worst case to fall back to, and a worst case below the static price is no worst case. */
function checkPriceFields(
  a: { usdPrice: number; priceFeed?: unknown; worstCaseUsdPrice?: number },
  ctx: z.RefinementCtx,
) {
  if (a.priceFeed !== undefined && a.worstCaseUsdPrice === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['worstCaseUsdPrice'],
      message: 'required with priceFeed: the price an outflow is valued at while the feed is stale or unreadable',
    });
  }
  if (a.worstCaseUsdPrice !== undefined && a.worstCaseUsdPrice < a.usdPrice) {
    ctx.addIssue({ code: 'custom', path: ['worstCaseUsdPrice'], message: `must be ≥ usdPrice (${a.usdPrice})` });
  }
}

/** Seconds of a duration, or NaN when it is malformed (its own issue is reported on the field). */
function seconds(text: string): number {
  try {
    return parseDuration(text);
  } catch {
    return Number.NaN;
  }
}

/**
 * Drain patterns beyond fixed limits. Each has a trip and a warn level and may run in shadow mode
 * (`shadow: true`: evaluated and paged as "would have tripped", never halting).
 */
const distinctAssetsPattern = z
  .object({
    window: duration,
    /** An asset counts when its outflow in the window exceeds this share of its own units limit. */
    percentOfLimit: z.number().gt(0, { error: 'must be > 0' }).max(100, { error: 'must be ≤ 100' }),
    /** Trips when this many assets (or more) count at once. */
    trip: z.number().int().min(2, { error: 'must be an integer ≥ 2' }),
    /** Warns at this many; default trip − 1. */
    warn: z.number().int().min(1).optional(),
    shadow: z.boolean().default(false),
  })
  .strict()
  .refine((p) => p.warn === undefined || p.warn < p.trip, { error: 'warn must be below trip', path: ['warn'] });

const newDestinationsPattern = z
  .object({
    window: duration,
    /** Trips when more than this many USD go, within the window, to destinations new within it. */
    usd: positiveUsd,
    /** Warns above this; default usd × warnRatio. */
    warnUsd: positiveUsd.optional(),
    /** A destination paid in the lookback (but before the window) is not new. */
    lookback: duration.default('14d'),
    shadow: z.boolean().default(false),
  })
  .strict()
  .refine((p) => !(seconds(p.lookback) <= seconds(p.window)), {
    error: 'lookback must be longer than window',
    path: ['lookback'],
  })
  .refine((p) => p.warnUsd === undefined || p.warnUsd < p.usd, {
    error: 'warnUsd must be below usd',
    path: ['warnUsd'],
  });

const walletProfilePattern = z
  .object({
    /** Trips when a hot wallet's outflow in one window exceeds tripFactor × its trailing percentile. */
    // Held in parts per million (compile.ts): bounded so the product stays a finite integer.
    tripFactor: z.number().gt(1, { error: 'must be > 1' }).max(1_000_000, { error: 'must be ≤ 1000000' }),
    /** Default tripFactor × warnRatio. */
    warnFactor: z.number().gt(0).max(1_000_000, { error: 'must be ≤ 1000000' }).optional(),
    /** Never trips below this many USD per window (a quiet wallet's percentile can be 0). */
    minUsd: positiveUsd,
    percentile: z.number().gt(0).max(100).default(99),
    window: duration.default('1h'),
    /** Trailing period whose per-window totals form the profile. */
    baseline: duration.default('14d'),
    /** The rule is silent until the wallet has an outflow at least this old within the baseline. */
    minHistory: duration.default('7d'),
    halt: haltScope.default('chain'),
    shadow: z.boolean().default(false),
  })
  .strict()
  .refine((p) => p.warnFactor === undefined || p.warnFactor < p.tripFactor, {
    error: 'warnFactor must be below tripFactor',
    path: ['warnFactor'],
  })
  .refine((p) => !(seconds(p.baseline) < 2 * seconds(p.window)), {
    error: 'baseline must span at least two windows',
    path: ['baseline'],
  })
  .refine((p) => !(seconds(p.minHistory) > seconds(p.baseline)), {
    error: 'minHistory must not exceed baseline',
    path: ['minHistory'],
  });

const percent = z
  .number({ error: 'expected a percentage' })
  .gt(0, { error: 'must be > 0' })
  .lt(100, { error: 'must be < 100' });

/** A chain's hot-wallet balance of any asset falling by a share within a window (rules/kinds/balance-drawdown.ts). */
const balanceDrawdownPattern = z
  .object({
    window: duration.default('1h'),
    /** Trips when outflows to outsiders within the window take more than this % of an asset's balance. */
    tripPercent: percent,
    /** Warns above this %; default tripPercent × warnRatio. */
    warnPercent: percent.optional(),
    /** The "emptied" signal: outflows took an asset's balance down to at most `belowPercent` % within `window`; `false` turns it off. */
    emptied: z
      .union([
        z.literal(false),
        z
          .object({
            window: duration.default('24h'),
            belowPercent: z
              .number({ error: 'expected a percentage' })
              .min(0, { error: 'must be ≥ 0' })
              .lt(100, { error: 'must be < 100' })
              .default(1),
          })
          .strict(),
      ])
      .default({ window: '24h', belowPercent: 1 }),
    /** The chains watched; default every chain (each chain's kind must read balances). */
    chains: z
      .array(z.string({ error: 'expected a chain id' }))
      .min(1, { error: 'list at least one chain' })
      .optional(),
    halt: haltScope.default('chain'),
    shadow: z.boolean().default(false),
  })
  .strict()
  .refine((p) => p.warnPercent === undefined || p.warnPercent < p.tripPercent, {
    error: 'warnPercent must be below tripPercent',
    path: ['warnPercent'],
  });

const patternsSchema = z
  .object({
    distinctAssets: distinctAssetsPattern.optional(),
    newDestinations: newDestinationsPattern.optional(),
    walletProfile: walletProfilePattern.optional(),
    balanceDrawdown: balanceDrawdownPattern.optional(),
  })
  .strict();

function tokenSchema(rules: TokenRules) {
  return z
    .object({
      symbol: z.string().min(1),
      /** The token's identifier on its chain (EVM: the contract address); the kind defines its form. */
      contract: z
        .string({ error: 'expected a token identifier string' })
        .superRefine((text, ctx) => {
          const problem = rules.problem(text);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        })
        .transform((text) => rules.normalise(text)),
      decimals: z.number().int().min(0).max(36),
      ...priceFields,
    })
    .strict()
    .superRefine(checkPriceFields);
}

const nativeAsset = z
  .object({
    symbol: z.string().min(1),
    decimals: z.number().int().min(0).max(36),
    ...priceFields,
  })
  .strict()
  .superRefine(checkPriceFields);

const pollingFields = {
  confirmations: z.number().int().min(0).max(1000),
  blockTimeSeconds: z.number().positive().max(3600),
  /** Seconds between polls inside one invocation; default = blockTimeSeconds. */
  pollIntervalSeconds: z.number().positive().max(60).optional(),
  maxBlocksPerPoll: z.number().int().min(1).max(10_000).default(100),
  /** Where a chain with no cursor yet starts: "latest" (head − confirmations) or a block number. */
  startBlock: z.union([z.literal('latest'), z.number().int().nonnegative()]).default('latest'),
  /** Explorer base URL; the kind makes transaction links (`${explorer}/tx/${hash}` on EVM and Bitcoin). */
  explorer: httpUrl.optional(),
  /**
   * How long the chain may go unobserved (no new block processed: every poll failing, the head not
   * advancing, the cursor not moving) before a blind page; default max(120, 10 × blockTimeSeconds).
   */
  blindAfterSeconds: z
    .number()
    .int()
    .min(1, { error: 'must be ≥ 1 second' })
    .max(7 * 86_400)
    .optional(),
  /** What blindness does beyond the page: `halt-chain` also halts signing on this chain. Default `page`. */
  blindAction: z.enum(['page', 'halt-chain'], { error: 'expected "page" or "halt-chain"' }).optional(),
};

/**
 * Largest answer read from one endpoint request; a larger one fails that endpoint (which moves on to
 * the next). Bounds the poller's memory against a malicious or broken endpoint. Default 64 MiB: above
 * a batch of 100 full mainnet blocks, well under Lambda's 512 MB. Every chain kind's settings take it.
 */
export const rpcMaxResponseBytes = z
  .number()
  .int()
  .min(1024 * 1024)
  .max(256 * 1024 * 1024)
  .default(64 * 1024 * 1024);

/** One chain of `kind`: the fields every chain has, the kind's own settings, its tokens if it has any. */
function chainSchema(kind: ChainKind) {
  const address = addressOf(kind.address);
  return z
    .object({
      kind: z.literal(kind.id),
      ...kind.settings(),
      ...pollingFields,
      hotWallets: z.array(address).min(1, { error: 'at least one hot wallet is required' }),
      ownAddresses: z.array(address).default([]),
      native: nativeAsset,
      ...(kind.tokens && { tokens: z.array(tokenSchema(kind.tokens)).default([]) }),
    })
    .strict()
    .superRefine((chain, ctx) => {
      const problem = kind.checkSettings?.(chain);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
}

/** A parsed chain as core sees it: the common fields, plus the kind's own settings (read by its reader). */
export interface ParsedChain {
  kind: string;
  confirmations: number;
  blockTimeSeconds: number;
  pollIntervalSeconds?: number;
  maxBlocksPerPoll: number;
  startBlock: 'latest' | number;
  explorer?: string;
  blindAfterSeconds?: number;
  blindAction?: 'page' | 'halt-chain';
  /** Normalised by the kind's address rules. */
  hotWallets: string[];
  ownAddresses: string[];
  native: z.output<typeof nativeAsset>;
  /** Present on kinds with tokens; `contract` normalised by the kind's token rules. */
  tokens?: z.output<ReturnType<typeof tokenSchema>>[];
  readonly [setting: string]: unknown;
}

/** A chain as the user writes it (the kind's own settings are typed by the kind's schema, not here). */
export interface ChainInput {
  kind: string;
  confirmations: number;
  blockTimeSeconds: number;
  pollIntervalSeconds?: number;
  maxBlocksPerPoll?: number;
  startBlock?: 'latest' | number;
  explorer?: string;
  blindAfterSeconds?: number;
  blindAction?: 'page' | 'halt-chain';
  hotWallets: string[];
  ownAddresses?: string[];
  native: z.input<typeof nativeAsset>;
  tokens?: z.input<ReturnType<typeof tokenSchema>>[];
  [setting: string]: unknown;
}

function chainsSchema(kinds: readonly ChainKind[]) {
  const ids = kinds.map((k) => `"${k.id}"`);
  const list = ids.length === 1 ? ids[0] : `${ids.slice(0, -1).join(', ')} or ${ids.at(-1)}`;
  const schemas = kinds.map(chainSchema) as unknown as [ReturnType<typeof chainSchema>];
  return z.discriminatedUnion('kind', schemas, { error: `kind must be ${list}` }) as unknown as z.ZodType<
    ParsedChain,
    ChainInput
  >;
}

const subscription = z
  .object({
    protocol: z.enum(['email', 'https', 'sms']),
    endpoint: z.string().min(3),
  })
  .strict();

/** The config schema for the registered chain kinds. */
export function configSchema(kinds: readonly ChainKind[]) {
  return z
    .object({
      /** Deployment name: appears in pages, stack names and the console. */
      name: z.string().regex(/^[a-z][a-z0-9-]{1,40}$/, { error: 'lower-case letters, digits and dashes, 2–41 chars' }),
      chains: z
        .record(
          z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, { error: 'chain ids are lower-case like "ethereum"' }),
          chainsSchema(kinds),
        )
        .refine((c) => Object.keys(c).length > 0, { error: 'at least one chain is required' }),
      unknownAssets: z
        .object({
          /** USD each transfer of a token the config does not know is valued at. */
          usdPerTransfer: z.number().nonnegative().default(0),
          /** Prices discovered on-chain for unlisted tokens (functions/core/prices/discovery.ts). */
          discovery: priceDiscoverySchema.optional(),
        })
        .strict()
        .default({ usdPerTransfer: 0 }),
      limits: z
        .object({
          warnRatio: z.number().gt(0).lt(1).default(0.8),
          global: globalLimits.default({}),
          chains: z.record(z.string(), chainLimits).default({}),
          patterns: patternsSchema.default({}),
          /** Rule ids (e.g. "global-usd-10m") that run in shadow mode: page "would have tripped", never halt. */
          shadow: z.array(z.string({ error: 'expected a rule id' })).default([]),
        })
        .strict(),
      pages: z
        .object({
          subscriptions: z.array(subscription).default([]),
          /** Local runtime: also POST each page as JSON here. */
          webhookUrl: httpUrl.optional(),
          /** Link to the ops console, included in pages. */
          consoleUrl: httpUrl.optional(),
        })
        .strict()
        .default({ subscriptions: [] }),
      /** How operators act on the breaker (the console, `breaker reset`, the reset function). */
      operations: z
        .object({
          /** A reset needs two operators: one requests it, a different one approves it. */
          twoPersonReset: z.boolean().default(false),
          /** How long a requested reset waits for its approver, in seconds. */
          approvalWindowSeconds: z
            .number({ error: 'expected a number of seconds' })
            .int()
            .min(60)
            .max(86_400)
            .default(900),
          /**
           * Who is who, for the two-person rule: person → the principals that person holds (IAM user
           * and role ARNs, assumed-role session ARNs, `local:<user>@<host>`). Principals listed under
           * one person count as one operator.
           */
          people: z
            .record(
              z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, { error: 'a person name: letters, digits and . _ @ -' }),
              z.array(z.string().min(1).max(2048)).min(1),
            )
            .default({}),
          /**
           * Roles whose session name is pinned to the person by the trust policy (IAM Identity Center,
           * `sts:RoleSessionName = ${aws:username}`, `sts:SourceIdentity`): their sessions are different
           * people. Sessions of any other role are one person, the role.
           */
          personalSessionRoles: z
            .array(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, { error: 'expected an IAM role ARN' }))
            .default([]),
          /** How long a loosened config waits before it takes effect (tightening is at once). BitGo: 48 h. */
          loosenDelaySeconds: z
            .number()
            .int()
            .min(0)
            .max(30 * 86_400)
            .default(86_400),
        })
        .strict()
        .default({
          twoPersonReset: false,
          approvalWindowSeconds: 900,
          people: {},
          personalSessionRoles: [],
          loosenDelaySeconds: 86_400,
        }),
      /** Outflows must match withdrawals the guarded signer approved (functions/core/reconciliation). */
      reconciliation: reconciliationSchema.default(RECONCILIATION_DEFAULTS),
      /** Hot-wallet nonces must not pass what the guard approved (functions/core/watermark). */
      watermark: watermarkSchema.default(WATERMARK_DEFAULTS),
      /** Kill-switch layers beyond the table flag (functions/core/actuators). */
      actuators: actuatorsSchema.default(ACTUATOR_DEFAULTS),
      /** Custody platforms' pre-sign callbacks answered by the guard (functions/custody). */
      custody: custodySchema.optional(),
      /** Chains polled together by one function, one loop each (functions/core/config/poller-groups.ts). */
      // Group names are checked by compilePollerGroups: zod reports a bad record key without its message.
      pollerGroups: z
        .record(
          z.string(),
          z.array(z.string({ error: 'expected a chain id' })).min(1, { error: 'a group polls at least one chain' }),
        )
        .default({}),
    })
    .strict();
}

export type ConfigInput = z.input<ReturnType<typeof configSchema>>;
export type ParsedConfig = z.output<ReturnType<typeof configSchema>>;
