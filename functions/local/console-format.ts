import type { ConsoleStatus } from '../console/service.ts';
import type { AuditRecord } from '../core/state.ts';

/** `breaker status` as text, from the console API's status (the same for the local store and a stack). */
export function consoleStatusText(s: ConsoleStatus): string {
  const headline = !s.initialised
    ? 'NOT INITIALISED — halted; run `breaker init` (a deploy initialises it in AWS)'
    : s.armed
      ? 'ARMED'
      : 'TRIPPED';
  const lines = [`Breaker ${s.name}: ${headline} (state version ${s.version})`];
  for (const scope of s.scopes) {
    lines.push(
      `  ${scope.scope.padEnd(20)} ${scope.status.toUpperCase()}${scope.haltedBy ? ` by ${scope.haltedBy}` : ''}`,
    );
  }
  for (const t of s.trips) {
    lines.push('', `Tripped ${t.tripId} at ${new Date(t.atMs).toISOString()}: ${t.summary}`);
    if (t.manual) lines.push(`  by hand: ${t.manual.actor}`);
    else lines.push(`  rule ${t.ruleId}: ${t.value} against limit ${t.limit} (${t.ruleDescription})`);
    if (t.transactionCount > 0) lines.push(`  transactions in the window (${t.transactionCount}, largest first):`);
    for (const x of t.transactions.slice(0, 10)) {
      lines.push(`    ${x.chain} block ${x.block}: ${x.amount} ${x.asset} (${x.usd}) → ${x.to}  ${x.link ?? x.txHash}`);
    }
    if (t.transactions.length > 10) lines.push(`    … ${t.transactions.length - 10} more (breaker console shows all)`);
  }
  if (s.pendingReset) {
    const p = s.pendingReset;
    lines.push(
      '',
      `Reset requested by ${p.requestedBy} (${p.requestId}), ${p.expired ? 'EXPIRED' : `waiting for a second operator until ${new Date(p.expiresAtMs).toISOString()}`}:`,
      `  ${p.reason}`,
      `  approve: breaker reset --approve ${p.requestId}`,
    );
  }
  lines.push('', 'Chains:');
  for (const c of s.chains) {
    const seen = c.lastBlock === null ? 'not polled yet' : `block ${c.lastBlock}`;
    const lag = c.lagBlocks === null ? '' : `, ${c.lagBlocks} behind head ${c.head}`;
    const rpc = c.rpc.status === 'error' ? `, RPC error: ${c.rpc.error}` : '';
    lines.push(
      `  ${c.chain.padEnd(12)} ${c.halted ? 'HALTED' : 'ok    '} last processed ${seen}${lag}, cursor written ${c.cursorAgeSeconds ?? '-'} s ago${rpc}`,
    );
  }
  if (s.pendingEffects > 0) lines.push(`${s.pendingEffects} page(s)/audit record(s) queued, not yet delivered`);
  return lines.join('\n');
}

export function auditLine(a: AuditRecord): string {
  const two = (a.details.twoPerson ?? undefined) as { requestedBy?: string } | undefined;
  return `${new Date(a.atMs).toISOString()} ${a.action.padEnd(15)} by ${a.actor}${a.scope ? ` [${a.scope}]` : ''}${
    a.reason ? ` — ${a.reason}` : ''
  }${two?.requestedBy ? ` (requested by ${two.requestedBy})` : ''}`;
}
