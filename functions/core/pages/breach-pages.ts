import { formatUnits, formatUsd } from '../amounts.ts';
import type { BreakerConfig } from '../config/types.ts';
import { windowTotalsAt } from '../evaluate.ts';
import { type OutflowRecord, scopeKey } from '../model.ts';
import {
  UNAPPROVED_HEADLINE,
  unapprovedExplanation,
  unapprovedRuleText,
  unapprovedSummary,
} from '../reconciliation/wording.ts';
import type { Breach } from '../rules/breach.ts';
import { balanceAssetKey } from '../rules/kinds/balance-drawdown.ts';
import { byWindowTime } from '../rules/order.ts';
import { destinationKey, distinctAssetOf } from '../rules/patterns.ts';
import type { Rule } from '../rules/rule.ts';
import { ruleKindOf } from '../rules/rule-kinds.ts';
import type { AuditRecord, Page, TripInfo } from '../state.ts';
import { formatDuration } from '../time.ts';

/**
 * Page wording. A page must be actionable on a phone at 3 a.m.: which rule broke, the totals
 * against every limit, the transactions with explorer links, what is halted, how to reset.
 */

export interface PageContext {
  config: BreakerConfig;
  /** Countable outflows around the breach (all chains), for the totals table. */
  history: readonly OutflowRecord[];
}

const MAX_LISTED = 25;

export function formatMeasure(rule: Rule, value: bigint): string {
  switch (rule.measure.kind) {
    case 'usd':
      return formatUsd(value);
    case 'count':
      return `${value} transfers`;
    case 'units':
      return `${formatUnits(value, rule.measure.decimals)} ${rule.measure.asset}`;
    case 'new-destination-usd':
    case 'profile-usd':
      return formatUsd(value);
    case 'distinct-assets':
      return `${value} asset${value === 1n ? '' : 's'}`;
    case 'balance-drawdown':
      return `${formatUnits(value, 4)}% of the balance`;
    case 'balance-emptied':
      return `${value} asset${value === 1n ? '' : 's'} emptied`;
  }
}

export function describeRule(rule: Rule): string {
  const m = rule.measure;
  const per = formatDuration(rule.windowSeconds);
  switch (m.kind) {
    case 'distinct-assets':
      return `assets each above ${m.percent}% of their own limit per ${per}, all chains`;
    case 'new-destination-usd':
      return `USD to new destinations (not paid in the ${formatDuration(m.lookbackSeconds)} before) per ${per}, all chains`;
    case 'profile-usd':
      return `USD out of hot wallet ${rule.subject.kind === 'wallet' ? rule.subject.wallet : '?'} on ${rule.subject.kind === 'wallet' ? rule.subject.chain : '?'} per ${per}, against its own profile`;
    case 'balance-drawdown':
      return `share of an asset's hot-wallet balance sent out per ${per}, ${subjectChain(rule)}`;
    case 'balance-emptied':
      return `assets whose hot-wallet balance outflows took to ≤ ${formatUnits(m.floorPpm, 4)}% per ${per}, ${subjectChain(rule)}`;
    default:
      break;
  }
  const s = rule.subject;
  if (s.kind === 'unapproved') return unapprovedRuleText(s.chain);
  const who =
    s.kind === 'global'
      ? 'all chains'
      : s.kind === 'chain'
        ? s.chain
        : s.kind === 'asset'
          ? `${s.asset} on ${s.chain}`
          : `${s.wallet} on ${s.chain}`;
  const what = m.kind === 'usd' ? 'USD' : m.kind === 'count' ? 'transfer count' : m.asset;
  return rule.windowSeconds === 0 ? `single transfer ${what}, ${who}` : `${what} out of ${who} per ${per}`;
}

function subjectChain(rule: Rule): string {
  return rule.subject.kind === 'global' ? 'all chains' : 'chain' in rule.subject ? rule.subject.chain : '?';
}

export function breachSummary(b: Breach): string {
  const limit = b.limit ?? b.rule.limit;
  const warnAt = b.warnAt ?? b.rule.warnAt;
  if (b.rule.subject.kind === 'unapproved') return unapprovedSummary(b.rule.subject.chain, b.value);
  if (b.rule.measure.kind === 'distinct-assets') {
    const { shownLevel } = ruleKindOf(b.rule);
    const levels =
      b.level === 'trip'
        ? `trips at ${shownLevel(limit)}`
        : `warns at ${shownLevel(warnAt)}; trips at ${shownLevel(limit)}`;
    return `${describeRule(b.rule)}: ${formatMeasure(b.rule, b.value)} at once (${levels})`;
  }
  return `${describeRule(b.rule)}: ${formatMeasure(b.rule, b.value)} > ${b.level === 'trip' ? 'limit' : 'warn level'} ${formatMeasure(
    b.rule,
    b.level === 'trip' ? limit : warnAt,
  )} (limit ${formatMeasure(b.rule, limit)})`;
}

/** For a drain-pattern breach, what the pattern means and the figures behind it; [] for a fixed limit. */
export function explainBreach(b: Breach): string[] {
  const m = b.rule.measure;
  const per = formatDuration(b.rule.windowSeconds);
  if (b.rule.subject.kind === 'unapproved') return unapprovedExplanation(b.outflows);
  switch (m.kind) {
    case 'distinct-assets': {
      const sums = m.assets.map(() => 0n);
      for (const r of b.outflows) {
        const i = distinctAssetOf(m, r);
        if (i >= 0) sums[i] = (sums[i] as bigint) + r.amount;
      }
      return [
        `Drain pattern: several assets are leaving at once, each above ${m.percent}% of its own limit — how a stolen-key drain`,
        'empties a hot wallet asset by asset while every single-asset limit still holds.',
        ...m.assets.flatMap((a, i) =>
          (sums[i] as bigint) > a.threshold
            ? [
                `  ${a.asset} on ${a.chain}: ${formatUnits(sums[i] as bigint, a.decimals)} in ${per} (its limit: ${formatUnits(a.limit, a.decimals)} per ${formatDuration(a.limitWindowSeconds)})`,
              ]
            : [],
        ),
      ];
    }
    case 'new-destination-usd': {
      const byDest = new Map<string, { to: string; chain: string; usd: bigint; n: number }>();
      for (const r of b.outflows) {
        const k = destinationKey(r);
        const d = byDest.get(k) ?? { to: r.to, chain: r.chain, usd: 0n, n: 0 };
        d.usd += r.usdMicros;
        d.n++;
        byDest.set(k, d);
      }
      const top = [...byDest.values()].sort((x, y) => (y.usd > x.usd ? 1 : y.usd < x.usd ? -1 : 0)).slice(0, 10);
      return [
        `Drain pattern: value is going to destinations this exchange had not paid in the ${formatDuration(m.lookbackSeconds)} before —`,
        'a thief sends to fresh addresses; customers mostly withdraw to addresses seen before.',
        ...top.map((d) => `  ${d.to} on ${d.chain}: ${formatUsd(d.usd)} in ${d.n} transfer${d.n === 1 ? '' : 's'}`),
      ];
    }
    case 'profile-usd': {
      const pct = m.percentilePpm / 10_000;
      return [
        `Drain pattern: this hot wallet sent far more than its own normal. Over the last ${formatDuration(m.baselineSeconds)} its`,
        `${pct}th-percentile ${per} total was ${formatUsd(b.baseline ?? 0n)}; it trips at ${Number(m.tripFactorPpm) / 1e6}× that (never below ${formatUsd(
          b.rule.limit,
        )}): ${formatUsd(b.limit ?? b.rule.limit)}.`,
      ];
    }
    case 'balance-drawdown':
    case 'balance-emptied':
      return [
        m.kind === 'balance-drawdown'
          ? `Drain pattern: an asset's hot-wallet balance fell by more than ${formatMeasure(b.rule, b.limit ?? b.rule.limit)} within ${per},`
          : `Drain pattern: outflows emptied an asset's hot-wallet balance within ${per},`,
        'counted in the asset itself (no price needed, so unlisted tokens count); inflows cushion it, own-wallet transfers do not count.',
        ...balanceLines(b.outflows),
      ];
    default:
      return [];
  }
}

/** Per asset among a balance breach's outflows: what went out, and what the hot wallets have left. */
function balanceLines(outflows: readonly OutflowRecord[]): string[] {
  const byAsset = new Map<string, { first: OutflowRecord; last: OutflowRecord; out: bigint }>();
  for (const r of outflows) {
    const key = `${r.chain}\u0000${balanceAssetKey(r)}`;
    const a = byAsset.get(key);
    if (!a) byAsset.set(key, { first: r, last: r, out: r.amount });
    else {
      a.out += r.amount;
      if (byWindowTime(r, a.last) > 0) a.last = r;
    }
  }
  return [...byAsset.values()].map(({ first, last, out }) => {
    const units = (v: bigint) => (first.decimals === null ? `${v} base units` : formatUnits(v, first.decimals));
    const name = first.known ? first.asset : `unlisted token ${first.contract ?? '(native)'}`;
    return `  ${name} on ${first.chain}: ${units(out)} out, ${last.balanceAfter === undefined ? 'balance unknown' : `${units(last.balanceAfter)} left`}`;
  });
}

export function txLink(config: BreakerConfig, r: Pick<OutflowRecord, 'chain' | 'txHash'>): string {
  const chain = config.chains.get(r.chain);
  return chain?.explorer ? chain.kind.txUrl(chain.explorer, r.txHash) : `${r.chain} tx ${r.txHash}`;
}

/** One outflow for a page: amount in whole units, USD, from → to, explorer link. */
export function outflowLine(config: BreakerConfig, r: OutflowRecord): string {
  const amount =
    r.decimals === null
      ? `${r.amount} base units of unknown token ${r.contract}`
      : `${formatUnits(r.amount, r.decimals)} ${r.asset}`;
  return `${amount} (${formatUsd(r.usdMicros)}) ${r.from} → ${r.to}  ${txLink(config, r)}`;
}

export function outflowJson(config: BreakerConfig, r: OutflowRecord) {
  return {
    id: r.id,
    chain: r.chain,
    block: r.block,
    txHash: r.txHash,
    asset: r.asset,
    contract: r.contract,
    amount: r.amount.toString(),
    usd: formatUsd(r.usdMicros),
    from: r.from,
    to: r.to,
    link: txLink(config, r),
  };
}

function totalsLines(ctx: PageContext, at: number): { lines: string[]; json: Record<string, unknown>[] } {
  const totals = windowTotalsAt(ctx.config.rules, ctx.history, at);
  const lines: string[] = [];
  const json: Record<string, unknown>[] = [];
  for (const total of totals) {
    const { rule, value } = total;
    const limit = total.limit ?? rule.limit;
    // "N assets or more" trips: show the trip level, not the (exclusive) limit.
    const level = ruleKindOf(rule).shownLevel(limit);
    const pct = level === 0n ? 0 : Number((value * 1000n) / level) / 10;
    json.push({ rule: rule.id, value: value.toString(), limit: limit.toString(), percent: pct });
    if (value === 0n) continue;
    lines.push(
      `  ${rule.id.padEnd(34)} ${formatMeasure(rule, value).padStart(22)} of ${formatMeasure(rule, level)} (${pct}%)`,
    );
  }
  return { lines, json };
}

function resetHow(ctx: PageContext, scope: string): string[] {
  const lines = [
    'To re-arm after review (a reason is required and recorded with your identity):',
    `  local:  npx breaker reset --scope ${scope} --reason "<what you reviewed>"`,
    `  AWS:    the ${ctx.config.name} reset-breaker function URL; break-glass: reset-breaker-direct (runbook: docs/DEPLOY.md#reset)`,
  ];
  if (ctx.config.pages.consoleUrl) lines.push(`  console: ${ctx.config.pages.consoleUrl}`);
  return lines;
}

export function renderTripPage(trip: TripInfo, breach: Breach, also: readonly Breach[], ctx: PageContext): Page {
  const scope = scopeKey(trip.scope);
  const halted = trip.scope.kind === 'global' ? 'ALL withdrawals on every chain' : `withdrawals on ${trip.scope.chain}`;
  const listed = breach.outflows.slice(0, MAX_LISTED);
  const totals = totalsLines(ctx, breach.windowEnd);
  // A stolen-key signal leads the page whichever rule broke first in the same evaluation.
  const stolen = [breach, ...also].find((b) => b.rule.subject.kind === 'unapproved');
  const text = [
    `BREAKER TRIPPED — ${ctx.config.name}: ${stolen ? `${UNAPPROVED_HEADLINE}; ` : ''}signing halted for ${halted}.`,
    ...(stolen && stolen !== breach ? ['', ...unapprovedExplanation(stolen.outflows)] : []),
    '',
    `Rule ${breach.rule.id}: ${breachSummary(breach)}`,
    ...explainBreach(breach),
    ...also.map((b) => `Also broken: ${b.rule.id}: ${breachSummary(b)}`),
    '',
    `Totals against limits (window ending ${new Date(breach.windowEnd * 1000).toISOString()}):`,
    ...totals.lines,
    '',
    `Transactions in the breaching window (${breach.outflows.length}, largest first${breach.outflows.length > MAX_LISTED ? `, first ${MAX_LISTED} shown` : ''}):`,
    ...listed.map((r) => `  ${outflowLine(ctx.config, r)}`),
    '',
    `Halted: ${scope} (${halted}). Trip id ${trip.tripId}.`,
    'If outflows continue after this halt, the hot keys are likely compromised: rotate them.',
    '',
    ...resetHow(ctx, scope),
  ].join('\n');
  return {
    id: `page-${trip.tripId}`,
    kind: 'trip',
    subject: (stolen
      ? `[HALT] ${ctx.config.name}: UNAPPROVED outflow, hot key may be stolen — ${scope} halted`
      : `[HALT] ${ctx.config.name}: ${breach.rule.id} broke, ${scope} halted`
    ).slice(0, 100),
    text,
    details: {
      tripId: trip.tripId,
      ...(stolen && { stolenKeySignal: true, unapprovedRule: stolen.rule.id }),
      rule: breach.rule.id,
      summary: breachSummary(breach),
      scope,
      value: breach.value.toString(),
      limit: (breach.limit ?? breach.rule.limit).toString(),
      windowSeconds: breach.rule.windowSeconds,
      windowEnd: breach.windowEnd,
      alsoBroken: also.map((b) => b.rule.id),
      totals: totals.json,
      transactions: breach.outflows.slice(0, 200).map((r) => outflowJson(ctx.config, r)),
      transactionCount: breach.outflows.length,
    },
  };
}

export function renderWarnPage(breach: Breach, id: string, ctx: PageContext): Page {
  const listed = breach.outflows.slice(0, 10);
  const totals = totalsLines(ctx, breach.windowEnd);
  const text = [
    `WARNING — ${ctx.config.name}: ${breach.rule.id} is at ${percentOfLimit(breach)}% of its limit. Nothing is halted yet.`,
    '',
    breachSummary(breach),
    ...explainBreach(breach),
    '',
    'Totals against limits:',
    ...totals.lines,
    '',
    'Largest transactions in the window:',
    ...listed.map((r) => `  ${outflowLine(ctx.config, r)}`),
  ].join('\n');
  return {
    id: `page-${id}`,
    kind: 'warn',
    subject: `[WARN] ${ctx.config.name}: ${breach.rule.id} at warn level`.slice(0, 100),
    text,
    details: {
      rule: breach.rule.id,
      summary: breachSummary(breach),
      value: breach.value.toString(),
      limit: (breach.limit ?? breach.rule.limit).toString(),
      warnAt: (breach.warnAt ?? breach.rule.warnAt).toString(),
      windowEnd: breach.windowEnd,
      totals: totals.json,
      transactions: listed.map((r) => outflowJson(ctx.config, r)),
    },
  };
}

function percentOfLimit(b: Breach): number {
  const limit = b.limit ?? b.rule.limit;
  const level = ruleKindOf(b.rule).shownLevel(limit);
  return level === 0n ? 0 : Number((b.value * 1000n) / level) / 10;
}

/**
 * A shadow-mode rule broke: what would have been halted, and the same evidence as a trip page, but
 * nothing was halted. Sent as a warning (it needs attention, not action), once until a reset.
 */
export function renderShadowTripPage(breach: Breach, id: string, ctx: PageContext): Page {
  const scope = scopeKey(breach.rule.halt);
  const would =
    breach.rule.halt.kind === 'global' ? 'ALL withdrawals on every chain' : `withdrawals on ${breach.rule.halt.chain}`;
  const listed = breach.outflows.slice(0, MAX_LISTED);
  const totals = totalsLines(ctx, breach.windowEnd);
  const text = [
    `SHADOW MODE — ${ctx.config.name}: rule ${breach.rule.id} would have tripped and halted ${would}.`,
    'The rule runs in shadow mode, so nothing was halted. Review whether this should have been a halt before enforcing it.',
    '',
    `Rule ${breach.rule.id}: ${breachSummary(breach)}`,
    ...explainBreach(breach),
    '',
    `Totals against limits (window ending ${new Date(breach.windowEnd * 1000).toISOString()}):`,
    ...totals.lines,
    '',
    `Transactions in the breaching window (${breach.outflows.length}, largest first${breach.outflows.length > MAX_LISTED ? `, first ${MAX_LISTED} shown` : ''}):`,
    ...listed.map((r) => `  ${outflowLine(ctx.config, r)}`),
    '',
    `To enforce this rule, remove it from limits.shadow (or set shadow: false on the pattern) and redeploy.`,
  ].join('\n');
  return {
    id: `page-${id}`,
    kind: 'warn',
    subject: `[SHADOW] ${ctx.config.name}: ${breach.rule.id} would have tripped (${scope})`.slice(0, 100),
    text,
    details: {
      shadow: true,
      rule: breach.rule.id,
      summary: breachSummary(breach),
      wouldHalt: scope,
      value: breach.value.toString(),
      limit: (breach.limit ?? breach.rule.limit).toString(),
      windowSeconds: breach.rule.windowSeconds,
      windowEnd: breach.windowEnd,
      totals: totals.json,
      transactions: breach.outflows.slice(0, 200).map((r) => outflowJson(ctx.config, r)),
      transactionCount: breach.outflows.length,
    },
  };
}

export function renderResetPage(id: string, record: AuditRecord, config: BreakerConfig): Page {
  return {
    id: `page-${id}`,
    kind: 'reset',
    subject: `[RESET] ${config.name}: breaker re-armed (${record.scope}) by ${record.actor}`.slice(0, 100),
    text: [
      `Breaker re-armed for ${record.scope} by ${record.actor}.`,
      `Reason: ${record.reason}`,
      'Limits are unchanged; outflows processed before the reset were reviewed and no longer count.',
    ].join('\n'),
    details: { ...record.details, actor: record.actor, reason: record.reason, scope: record.scope },
  };
}
