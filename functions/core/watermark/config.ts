import { z } from 'zod';
import type { ChainKind } from '../chain-kind.ts';
import { outpointRuleId, watermarkRuleId } from './rule-ids.ts';

/**
 * `watermark:` in the config file. Off by default: turn it on only once every signer of the chain
 * sends the nonce of each withdrawal to the guard, or the first withdrawal it signs trips.
 */
export const watermarkSchema = z
  .object({
    enabled: z.boolean({ error: 'expected true or false' }).default(false),
    /**
     * The chains whose signers send nonces (EVM) or the outpoints they spend (Bitcoin). Default: every
     * chain whose kind has account nonces (EVM) — a Bitcoin chain is watermarked only when listed.
     */
    chains: z.array(z.string({ error: 'expected a chain id' }), { error: 'expected a list of chain ids' }).optional(),
    /** What a nonce above the watermark halts: everything (a stolen key is rarely the only one) or its chain. */
    halt: z.enum(['global', 'chain'], { error: 'expected "global" or "chain"' }).default('global'),
    /**
     * Also judge what waits in the endpoint's mempool: the hot wallets' *pending* nonce
     * (`eth_getTransactionCount(wallet, "pending")`) on EVM, the mempool's spends of hot outputs on
     * Bitcoin, so a transaction the guard never signed trips before inclusion. Private order flow and
     * chains without a public mempool are seen at inclusion only (docs/STOLEN-KEYS.md).
     */
    pending: z.boolean({ error: 'expected true or false' }).default(false),
  })
  .strict();

export type WatermarkInput = z.input<typeof watermarkSchema>;
export type ParsedWatermark = z.output<typeof watermarkSchema>;

export const WATERMARK_DEFAULTS: ParsedWatermark = { enabled: false, halt: 'global', pending: false };

export interface WatermarkConfig {
  enabled: boolean;
  /** The chains whose hot-wallet nonces are judged. */
  chains: ReadonlySet<string>;
  halt: 'global' | 'chain';
  pending: boolean;
  /** The rule id of every watermarked chain (`watermark-<chain>-nonce` / `-outpoint`): ids `limits.shadow` may name. */
  ruleIds: ReadonlySet<string>;
  /** Those listed in `limits.shadow`: they page "would have tripped" and halt nothing (the roll-out week). */
  shadow: ReadonlySet<string>;
}

/**
 * Validate `watermark` against the chains: chains whose kind has account nonces (EVM) or spends
 * outpoints (Bitcoin) can be watermarked; the default is the account-nonce chains only, so turning the
 * watermark on never starts refusing a Bitcoin signer that does not send outpoints yet.
 */
export function compileWatermark(
  input: ParsedWatermark,
  chainKinds: ReadonlyMap<string, ChainKind>,
  issues: string[],
  /** `limits.shadow`: the config checks every id there names a rule (compile.ts). */
  shadowIds: readonly string[] = [],
): WatermarkConfig {
  const evm = [...chainKinds].filter(([, kind]) => kind.hasAccountNonces).map(([id]) => id);
  input.chains?.forEach((c, i) => {
    const kind = chainKinds.get(c);
    if (kind === undefined)
      issues.push(`watermark.chains[${i}]: no chain "${c}" under chains (known: ${[...chainKinds.keys()].join(', ')})`);
    else if (!kind.hasAccountNonces && !kind.spendsOutpoints)
      issues.push(
        `watermark.chains[${i}]: "${c}" is a ${kind.id} chain; the watermark needs account nonces (EVM) or spent outpoints (Bitcoin)`,
      );
  });
  const chains = new Set(input.enabled ? (input.chains ?? evm) : []);
  const ruleIds = new Set(
    [...chains].map((c) => (chainKinds.get(c)?.spendsOutpoints ? outpointRuleId(c) : watermarkRuleId(c))),
  );
  return {
    enabled: input.enabled,
    chains,
    halt: input.halt,
    pending: input.pending,
    ruleIds,
    shadow: new Set(shadowIds.filter((id) => ruleIds.has(id))),
  };
}
