import { formatUnits, formatUsd } from '../core/amounts.ts';
import type { OutflowRecord } from '../core/model.ts';
import type { BreakerStatus } from '../core/use-cases/breaker-status.ts';

export function shortAddress(a: string): string {
  return a.length > 14 ? `${a.slice(0, 8)}…${a.slice(-4)}` : a;
}

export function outflowSummary(r: OutflowRecord): string {
  const amount =
    r.decimals === null
      ? `${r.amount} units of UNKNOWN token ${shortAddress(r.contract ?? '')}`
      : `${formatUnits(r.amount, r.decimals)} ${r.asset}`;
  const note = r.own ? '  (own wallet: recorded, not counted)' : '';
  return `${r.chain} block ${r.block}: ${amount} ≈ ${formatUsd(r.usdMicros)} → ${shortAddress(r.to)}${note}`;
}

export function statusText(s: BreakerStatus): string {
  const lines = [`Breaker ${s.name}: ${s.armed ? 'ARMED' : 'TRIPPED'} (state version ${s.version})`];
  for (const t of s.tripped) {
    lines.push(
      `  tripped ${t.tripId}: ${t.evidence.summary}`,
      `    at ${new Date(t.atMs).toISOString()}, halts ${t.scope.kind === 'global' ? 'everything' : t.scope.chain}`,
    );
  }
  lines.push('Chains:');
  for (const c of s.chains) {
    const seen =
      c.lastBlock === null
        ? 'not polled yet'
        : `block ${c.lastBlock}${c.lastBlockTime ? ` (${new Date(c.lastBlockTime * 1000).toISOString()})` : ''}`;
    lines.push(
      `  ${c.chain.padEnd(12)} ${c.halted ? 'HALTED' : 'ok    '} last processed ${seen}, cursor written ${c.cursorAgeSeconds ?? '-'} s ago`,
    );
  }
  if (s.pendingEffects > 0) lines.push(`${s.pendingEffects} page(s)/audit record(s) queued, not yet delivered`);
  if (s.recentAudit.length > 0) {
    lines.push('Recent audit:');
    for (const a of s.recentAudit) {
      lines.push(
        `  ${new Date(a.atMs).toISOString()} ${a.action.padEnd(6)} by ${a.actor}${a.scope ? ` [${a.scope}]` : ''}${a.reason ? ` — ${a.reason}` : ''}`,
      );
    }
  }
  return lines.join('\n');
}
