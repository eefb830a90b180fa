/**
 * The config as the state remembers it, so limits cannot be loosened silently. Every poll the
 * deployed poller compares the digest of its compiled config with the one recorded in the state;
 * a change is recorded with an audit record and a [CONFIG] page listing what got looser. A
 * loosening waits `operations.loosenDelaySeconds` (BitGo locks wallet policies for 48 h) before the
 * recorded summary takes it; until then the stricter previous values apply. Operators' paths apply
 * the stricter of the recorded operations and their own file's, so a local copy of the config with
 * `twoPersonReset: false` does not turn the rule off for a break-glass reset.
 */
import type { BreakerConfig } from './config/types.ts';
import { summariseValuations, valuationLoosenings } from './config-valuations.ts';
import { describeDiscovery } from './prices/discovery.ts';
import { decodeRule, definitionLoosenings, encodeRule } from './rules/rule-definition.ts';
import type { BreakerState, ConfigSummary } from './state.ts';

type Operations = ConfigSummary['operations'];

/** The operations rule an operator's transition must apply: the strictest of the config and the recorded ones. */
export function effectiveOperations(state: BreakerState, config: BreakerConfig): BreakerConfig['operations'] {
  const recorded = [state.config?.summary.operations, state.config?.pending?.previous.operations].filter(
    (o): o is Operations => o !== undefined,
  );
  return recorded.reduce<BreakerConfig['operations']>(stricterOperations, config.operations);
}

function stricterOperations(a: BreakerConfig['operations'], b: Operations): BreakerConfig['operations'] {
  const people: Record<string, string[]> = { ...a.people };
  for (const [person, principals] of Object.entries(b.people ?? {})) {
    people[person] = [...new Set([...(people[person] ?? []), ...principals])];
  }
  const bRoles = b.personalSessionRoles ?? [];
  return {
    twoPersonReset: a.twoPersonReset || b.twoPersonReset,
    approvalWindowSeconds: Math.min(a.approvalWindowSeconds, b.approvalWindowSeconds),
    people,
    // A personal-session role makes its sessions different people (looser): only where both agree.
    personalSessionRoles: a.personalSessionRoles.filter((r) => bRoles.includes(r)),
    loosenDelaySeconds: Math.max(a.loosenDelaySeconds, b.loosenDelaySeconds ?? 0),
  };
}

/** What the breaker's strictness depends on, in a form the state can hold and a later build compare. */
export function summariseConfig(config: BreakerConfig): ConfigSummary {
  const chains = [...config.chains.values()];
  return {
    operations: {
      twoPersonReset: config.operations.twoPersonReset,
      approvalWindowSeconds: config.operations.approvalWindowSeconds,
      people: config.operations.people,
      personalSessionRoles: config.operations.personalSessionRoles,
      loosenDelaySeconds: config.operations.loosenDelaySeconds,
    },
    rules: Object.fromEntries(
      config.rules.map(
        (r) => [r.id, { limit: r.limit.toString(), shadow: r.shadow === true, definition: encodeRule(r) }] as const,
      ),
    ),
    ownAddresses: Object.fromEntries(chains.map((c) => [c.id, [...c.ownAddresses].sort()])),
    hotWallets: Object.fromEntries(chains.map((c) => [c.id, [...c.hotWallets].sort()])),
    actuators: {
      webhook: config.actuators.webhook !== undefined,
      lambdaConcurrency: config.actuators.lambdaConcurrency !== undefined,
      kmsKeys: config.actuators.kmsKeys !== undefined,
    },
    valuations: summariseValuations(config),
    unknownAssetUsdMicros: config.unknownAssetUsdMicros.toString(),
    unlistedPricing: describeDiscovery(config.priceDiscovery),
  };
}

/**
 * The whole compiled config as stable text (Maps and Sets sorted, bigints as strings): what the
 * recorded digest is taken of (hashed outside core: functions/runtime/config-digest.ts).
 */
export function canonicalConfig(config: BreakerConfig): string {
  return JSON.stringify(canonical(config));
}

function canonical(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Map) return canonical(Object.fromEntries([...value.entries()].map(([k, v]) => [String(k), v])));
  if (value instanceof Set) return [...value].map(canonical).sort();
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** What got looser from `before` to `after`, in words; empty when nothing did. */
export function loosenings(before: ConfigSummary, after: ConfigSummary): string[] {
  const out: string[] = [];
  for (const [id, rule] of Object.entries(before.rules)) {
    const now = after.rules[id];
    if (!now) out.push(`rule ${id} removed`);
    else {
      if (BigInt(now.limit) > BigInt(rule.limit))
        out.push(`rule ${id} limit raised from ${rule.limit} to ${now.limit}`);
      if (now.shadow && !rule.shadow) out.push(`rule ${id} moved to shadow (pages, never halts)`);
      // Summaries recorded before definitions were kept compare limit and shadow only.
      if (rule.definition && now.definition) {
        out.push(...definitionLoosenings(decodeRule(rule.definition), decodeRule(now.definition)));
      }
    }
  }
  out.push(...valuationLoosenings(before, after));
  for (const [chain, own] of Object.entries(after.ownAddresses)) {
    const added = own.filter((a) => !(before.ownAddresses[chain] ?? []).includes(a));
    if (added.length > 0)
      out.push(`own addresses added on ${chain} (outflows to them stop counting): ${added.join(', ')}`);
  }
  for (const [chain, wallets] of Object.entries(before.hotWallets)) {
    const removed = wallets.filter((w) => !(after.hotWallets[chain] ?? []).includes(w));
    if (removed.length > 0) out.push(`hot wallets no longer watched on ${chain}: ${removed.join(', ')}`);
  }
  for (const [layer, on] of Object.entries(before.actuators)) {
    if (on && !after.actuators[layer]) out.push(`actuator ${layer} turned off`);
  }
  const a = before.operations;
  const b = after.operations;
  if (a.twoPersonReset && !b.twoPersonReset) out.push('two-person reset turned off');
  if (b.approvalWindowSeconds > a.approvalWindowSeconds) {
    out.push(`approval window raised from ${a.approvalWindowSeconds} s to ${b.approvalWindowSeconds} s`);
  }
  for (const role of b.personalSessionRoles ?? []) {
    if (!(a.personalSessionRoles ?? []).includes(role)) out.push(`personal-session role added: ${role}`);
  }
  for (const [person, principals] of Object.entries(a.people ?? {})) {
    const kept = b.people?.[person] ?? [];
    const dropped = principals.filter((p) => !kept.includes(p));
    if (dropped.length > 0) out.push(`operations.people.${person} no longer lists ${dropped.join(', ')}`);
  }
  if ((b.loosenDelaySeconds ?? 0) < (a.loosenDelaySeconds ?? 0)) {
    out.push(`loosen delay shortened from ${a.loosenDelaySeconds} s to ${b.loosenDelaySeconds} s`);
  }
  return out;
}
