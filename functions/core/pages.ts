import { formatUnits, formatUsd } from './amounts.ts';
import type { BreakerConfig, Rule } from './config/compile.ts';
import { type Breach, windowTotalsAt } from './evaluate.ts';
import { type OutflowRecord, scopeKey } from './model.ts';
import type { AuditRecord, Page, TripInfo } from './state.ts';
import { formatDuration } from './time.ts';

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
  }
}

export function describeRule(rule: Rule): string {
  const who =
    rule.subject.kind === 'global'
      ? 'all chains'
      : rule.subject.kind === 'chain'
        ? rule.subject.chain
        : `${rule.subject.asset} on ${rule.subject.chain}`;
  const what = rule.measure.kind === 'usd' ? 'USD' : rule.measure.kind === 'count' ? 'transfer count' : rule.measure.asset;
  return rule.windowSeconds === 0
    ? `single transfer ${what}, ${who}`
    : `${what} out of ${who} per ${formatDuration(rule.windowSeconds)}`;
}

export function breachSummary(b: Breach): string {
  return `${describeRule(b.rule)}: ${formatMeasure(b.rule, b.value)} > ${b.level === 'trip' ? 'limit' : 'warn level'} ${formatMeasure(
    b.rule,
    b.level === 'trip' ? b.rule.limit : b.rule.warnAt,
  )} (limit ${formatMeasure(b.rule, b.rule.limit)})`;
}

export function txLink(config: BreakerConfig, r: Pick<OutflowRecord, 'chain' | 'txHash'>): string {
  const explorer = config.chains.get(r.chain)?.explorer;
  return explorer ? `${explorer}/tx/${r.txHash}` : `${r.chain} tx ${r.txHash}`;
}

function outflowLine(config: BreakerConfig, r: OutflowRecord): string {
  const amount = r.decimals === null ? `${r.amount} base units of unknown token ${r.contract}` : `${formatUnits(r.amount, r.decimals)} ${r.asset}`;
  return `${amount} (${formatUsd(r.usdMicros)}) ${r.from} → ${r.to}  ${txLink(config, r)}`;
}

function outflowJson(config: BreakerConfig, r: OutflowRecord) {
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
  for (const { rule, value } of totals) {
    const pct = rule.limit === 0n ? 0 : Number((value * 1000n) / rule.limit) / 10;
    json.push({ rule: rule.id, value: value.toString(), limit: rule.limit.toString(), percent: pct });
    if (value === 0n) continue;
    lines.push(`  ${rule.id.padEnd(34)} ${formatMeasure(rule, value).padStart(22)} of ${formatMeasure(rule, rule.limit)} (${pct}%)`);
  }
  return { lines, json };
}

function resetHow(ctx: PageContext, scope: string): string[] {
  const lines = [
    'To re-arm after review (a reason is required and recorded with your identity):',
    `  local:  npx breaker reset --scope ${scope} --reason "<what you reviewed>"`,
    `  AWS:    invoke the ${ctx.config.name} reset-breaker function (runbook: docs/DEPLOY.md#reset)`,
  ];
  if (ctx.config.pages.consoleUrl) lines.push(`  console: ${ctx.config.pages.consoleUrl}`);
  return lines;
}

export function renderTripPage(trip: TripInfo, breach: Breach, also: readonly Breach[], ctx: PageContext): Page {
  const scope = scopeKey(trip.scope);
  const halted = trip.scope.kind === 'global' ? 'ALL withdrawals on every chain' : `withdrawals on ${trip.scope.chain}`;
  const listed = breach.outflows.slice(0, MAX_LISTED);
  const totals = totalsLines(ctx, breach.windowEnd);
  const text = [
    `BREAKER TRIPPED — ${ctx.config.name}: signing halted for ${halted}.`,
    '',
    `Rule ${breach.rule.id}: ${breachSummary(breach)}`,
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
    subject: `[HALT] ${ctx.config.name}: ${breach.rule.id} broke, ${scope} halted`.slice(0, 100),
    text,
    details: {
      tripId: trip.tripId,
      rule: breach.rule.id,
      summary: breachSummary(breach),
      scope,
      value: breach.value.toString(),
      limit: breach.rule.limit.toString(),
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
    `WARNING — ${ctx.config.name}: ${breach.rule.id} is at ${Number((breach.value * 1000n) / breach.rule.limit) / 10}% of its limit. Nothing is halted yet.`,
    '',
    breachSummary(breach),
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
      limit: breach.rule.limit.toString(),
      warnAt: breach.rule.warnAt.toString(),
      windowEnd: breach.windowEnd,
      totals: totals.json,
      transactions: listed.map((r) => outflowJson(ctx.config, r)),
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
