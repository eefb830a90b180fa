import { z } from 'zod';
import type { ChainKind } from '../chain-kind.ts';
import type { HaltScope } from '../model.ts';
import type { Rule } from '../rules/rule.ts';

/**
 * `reconciliation:` in the config file. Off by default: a signing service must record its approved
 * withdrawals (the guard does) before this can be turned on, or every customer withdrawal trips.
 */
export const reconciliationSchema = z
  .object({
    enabled: z.boolean({ error: 'expected true or false' }).default(false),
    /** On-chain amount may differ from the approved amount by this many basis points (fees taken from the amount, rounding). */
    toleranceBps: z
      .number({ error: 'expected a number of basis points' })
      .int({ error: 'must be an integer' })
      .min(0, { error: 'must be ≥ 0' })
      .max(10_000, { error: 'must be ≤ 10000 (100 %)' })
      .default(0),
    /** The approval must be at most this far (either side) from the transfer's block time. */
    windowSeconds: z
      .number({ error: 'expected a number of seconds' })
      .int({ error: 'must be an integer' })
      .positive({ error: 'must be > 0' })
      .max(7 * 86_400, { error: 'must be ≤ 604800 (7 days)' })
      .default(3600),
    /** What an unapproved outflow halts: everything (a stolen key is rarely the only one) or its chain. */
    halt: z.enum(['global', 'chain'], { error: 'expected "global" or "chain"' }).default('global'),
    /**
     * The chains whose signers record approvals (default: every chain). Roll reconciliation out chain
     * by chain as each signing service embeds the guard; outflows of other chains are not reconciled.
     */
    chains: z.array(z.string({ error: 'expected a chain id' }), { error: 'expected a list of chain ids' }).optional(),
    /**
     * Per chain, destinations that need no approved withdrawal: the targets of configured sweep jobs
     * (an exchange's deposit-consolidation or market-maker addresses that are not its own wallets).
     * Transfers there still count toward every limit. Own addresses and hot wallets need no entry.
     */
    allowedDestinations: z
      .record(z.string(), z.array(z.string({ error: 'expected an address string' }).min(1)), {
        error: 'expected a map of chain → list of addresses',
      })
      .default({}),
  })
  .strict();

export type ReconciliationInput = z.input<typeof reconciliationSchema>;
export type ParsedReconciliation = z.output<typeof reconciliationSchema>;

export const RECONCILIATION_DEFAULTS: ParsedReconciliation = {
  enabled: false,
  toleranceBps: 0,
  windowSeconds: 3600,
  halt: 'global',
  allowedDestinations: {},
};

/** What reconciliation needs to know of a chain (a view of ChainConfig, so this file does not depend on the compiler's types). */
export interface ReconciledChain {
  kind: ChainKind;
  /** Normalised hot-wallet addresses. */
  hotWallets: readonly string[];
}

export interface ReconciliationConfig {
  enabled: boolean;
  toleranceBps: number;
  windowSeconds: number;
  halt: 'global' | 'chain';
  /** The reconciled chains. */
  chains: Set<string>;
  /** Per chain, normalised allowed destinations (sweep targets). */
  allowedDestinations: Map<string, Set<string>>;
  /** Each chain's kind: approvals and outflows are compared in its canonical address and token forms. */
  kinds: ReadonlyMap<string, ChainKind>;
}

/** The id of the reconciliation rule of one chain. */
export function reconciliationRuleId(chain: string): string {
  return `reconciliation-${chain}-unapproved`;
}

export function isReconciliationRule(rule: Rule): rule is Rule & { subject: { kind: 'unapproved'; chain: string } } {
  return rule.subject.kind === 'unapproved';
}

/**
 * Validate `reconciliation` against the chains and build one rule per chain: a count of unapproved
 * outflows, limit 0, per transfer (window 0) — the first unapproved outflow trips, whatever its size.
 */
export function compileReconciliation(
  input: ParsedReconciliation,
  chains: ReadonlyMap<string, ReconciledChain>,
  issues: string[],
): { config: ReconciliationConfig; rules: Rule[] } {
  const allowedDestinations = new Map<string, Set<string>>();
  for (const [chainId, addresses] of Object.entries(input.allowedDestinations)) {
    const path = `reconciliation.allowedDestinations.${chainId}`;
    const chain = chains.get(chainId);
    if (!chain) {
      issues.push(`${path}: no chain "${chainId}" under chains (known: ${[...chains.keys()].join(', ')})`);
      continue;
    }
    const set = new Set<string>();
    addresses.forEach((a, i) => {
      const problem = chain.kind.address.problem(a);
      if (problem) {
        issues.push(`${path}[${i}]: ${problem}`);
        return;
      }
      const normalised = chain.kind.address.normalise(a);
      if (chain.hotWallets.includes(normalised)) {
        issues.push(`${path}[${i}]: ${a} is a hot wallet of this chain (transfers between own wallets need no entry)`);
      }
      set.add(normalised);
    });
    allowedDestinations.set(chainId, set);
  }
  const reconciled = new Set(input.chains ?? chains.keys());
  input.chains?.forEach((c, i) => {
    if (!chains.has(c))
      issues.push(
        `reconciliation.chains[${i}]: no chain "${c}" under chains (known: ${[...chains.keys()].join(', ')})`,
      );
  });
  const config: ReconciliationConfig = {
    enabled: input.enabled,
    chains: reconciled,
    toleranceBps: input.toleranceBps,
    windowSeconds: input.windowSeconds,
    halt: input.halt,
    allowedDestinations,
    kinds: new Map([...chains].map(([id, chain]) => [id, chain.kind])),
  };
  if (!input.enabled) return { config, rules: [] };
  const rules: Rule[] = [...chains.keys()]
    .filter((c) => reconciled.has(c))
    .map((chain) => {
      const halt: HaltScope = input.halt === 'global' ? { kind: 'global' } : { kind: 'chain', chain };
      return {
        id: reconciliationRuleId(chain),
        subject: { kind: 'unapproved', chain },
        measure: { kind: 'count' },
        windowSeconds: 0,
        limit: 0n,
        warnAt: 0n,
        halt,
      };
    });
  return { config, rules };
}
