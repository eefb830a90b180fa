/**
 * A rule's whole definition as text the breaker state can hold, and what got looser between two
 * definitions of the same rule id. The recorded config (core/config-record.ts) keeps every rule's
 * definition so a redeploy that loosens more than a limit — a shorter window, a halt narrowed from
 * global to one chain, a drain pattern's share or lookback raised — is paged as looser and waits out
 * the loosening delay like a raised limit does.
 */
import type { Rule } from './rule.ts';

/** Text of the rule (bigints tagged, so decoding gives back the same values). */
export function encodeRule(rule: Rule): string {
  return JSON.stringify(rule, (_key, value) => (typeof value === 'bigint' ? { $bigint: value.toString() } : value));
}

export function decodeRule(text: string): Rule {
  return JSON.parse(text, (_key, value) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const keys = Object.keys(value);
      if (keys.length === 1 && keys[0] === '$bigint' && typeof value.$bigint === 'string') return BigInt(value.$bigint);
    }
    return value;
  }) as Rule;
}

/**
 * Parameters whose larger value lets more through. Anything not named here and not in
 * LOOSER_WHEN_LOWER counts as looser on any change: a parameter we cannot judge is not assumed safe.
 */
const LOOSER_WHEN_HIGHER = new Set([
  // new-destination-usd: a destination paid anywhere in a longer lookback is "known", not new.
  'lookbackSeconds',
  // distinct-assets: an asset counts only above a larger share / threshold of its own limit.
  'percent',
  'threshold',
  // profile-usd: a larger multiple of a higher percentile; a longer wait before the profile acts.
  'tripFactorPpm',
  'percentilePpm',
  'minHistorySeconds',
]);
const LOOSER_WHEN_LOWER = new Set([
  // The same limit over a shorter window sums less.
  'windowSeconds',
  // balance-emptied: the balance must fall closer to zero to count as emptied.
  'floorPpm',
]);
/** Compared elsewhere (limit, shadow: with their own wording), or only a warning level. */
const NOT_COMPARED = new Set(['id', 'limit', 'shadow', 'warnAt', 'warnFactorPpm']);

type Leaf = string | number | bigint | boolean | null;

/** What got looser from `before` to `after` (the same rule id), in words; empty when nothing did. */
export function definitionLoosenings(before: Rule, after: Rule): string[] {
  const was = leaves({ ...before, halt: undefined });
  const now = leaves({ ...after, halt: undefined });
  const out: string[] = haltLoosening(before, after);
  for (const [path, old] of was) {
    const key = path.split('.').at(-1) ?? path;
    if (NOT_COMPARED.has(key)) continue;
    if (!now.has(path)) {
      out.push(`rule ${before.id}: ${path} removed`);
      continue;
    }
    const value = now.get(path) as Leaf;
    if (value === old) continue;
    if (isNumber(old) && isNumber(value)) {
      const higher = typeof old === 'bigint' && typeof value === 'bigint' ? value > old : Number(value) > Number(old);
      if (LOOSER_WHEN_HIGHER.has(key) && !higher) continue;
      if (LOOSER_WHEN_LOWER.has(key) && higher) continue;
      const verb = LOOSER_WHEN_HIGHER.has(key) ? 'raised' : LOOSER_WHEN_LOWER.has(key) ? 'lowered' : 'changed';
      out.push(`rule ${before.id}: ${path} ${verb} from ${old} to ${value}`);
      continue;
    }
    out.push(`rule ${before.id}: ${path} changed from ${String(old)} to ${String(value)}`);
  }
  return out;
}

/** Halting one chain instead of all of them lets the others keep signing. */
function haltLoosening(before: Rule, after: Rule): string[] {
  const from = before.halt;
  const to = after.halt;
  if (to.kind === 'global') return [];
  if (from.kind === 'global') return [`rule ${before.id}: halt narrowed from global to chain ${to.chain}`];
  return from.chain === to.chain ? [] : [`rule ${before.id}: halt moved from chain ${from.chain} to chain ${to.chain}`];
}

function isNumber(v: Leaf): v is number | bigint {
  return (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'bigint';
}

/** Every leaf by its path; array items keyed by their chain and asset where they have them, else by position. */
function leaves(value: unknown, path = '', out = new Map<string, Leaf>()): Map<string, Leaf> {
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      leaves(item, `${path}[${itemKey(item) ?? i}]`, out);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) leaves(v, path ? `${path}.${k}` : k, out);
  } else if (value !== undefined) {
    out.set(path, value as Leaf);
  }
  return out;
}

function itemKey(item: unknown): string | undefined {
  if (item === null || typeof item !== 'object') return undefined;
  const { chain, asset } = item as { chain?: unknown; asset?: unknown };
  return typeof chain === 'string' && typeof asset === 'string' ? `${chain}:${asset}` : undefined;
}
