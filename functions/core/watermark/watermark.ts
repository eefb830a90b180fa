import type { BreakerConfig } from '../config/types.ts';
import { type HaltScope, scopeKey } from '../model.ts';
import type { NonceObservation, NonceTag } from '../ports.ts';
import type { AuditRecord, BreakerState, Page, TripInfo } from '../state.ts';

/**
 * The signed-nonce watermark: an exact stolen-key signal at any size.
 *
 * Every transaction a hot wallet sends uses its next nonce. The guard records, per hot wallet, the
 * highest nonce it approved (the signer sends it with each withdrawal) before anything is signed.
 * A hot wallet whose chain nonce has gone past that watermark has sent a transaction the guard never
 * saw: signed with the hot key outside the signer. That holds for transactions that move nothing
 * yet — an `approve`, a contract call — which outflow reconciliation
 * cannot see. A replacement of the signer's own pending transaction (same nonce, higher fee) does
 * not move the nonce, so it never trips.
 */

export interface NonceBreach {
  chain: string;
  wallet: string;
  /** The highest nonce the wallet has used (nextNonce − 1). */
  highestUsed: bigint;
  /** The highest nonce the guard approved for it; undefined when it never recorded one. */
  approved: bigint | undefined;
  tag: NonceTag;
}

/** The rule id a watermark trip carries (signers, mirrors and pages treat it like any trip). */
export function watermarkRuleId(chain: string): string {
  return `watermark-${chain}-nonce`;
}

/**
 * Wallets whose used nonces went past what the guard approved and past what an earlier trip already
 * reported (`reported`, so a reset does not re-trip on the same nonces).
 */
export function nonceBreaches(
  chain: string,
  observed: readonly NonceObservation[],
  approved: ReadonlyMap<string, bigint>,
  reported: Readonly<Record<string, string>> | undefined,
  tag: NonceTag,
): NonceBreach[] {
  const breaches: NonceBreach[] = [];
  for (const o of observed) {
    const highestUsed = o.nextNonce - 1n;
    const mark = approved.get(o.wallet);
    const seen = reported?.[o.wallet];
    if (highestUsed <= (mark ?? -1n) || (seen !== undefined && highestUsed <= BigInt(seen))) continue;
    breaches.push({ chain, wallet: o.wallet, highestUsed, approved: mark, tag });
  }
  return breaches;
}

/**
 * The decide step for breaches of one chain: trip the configured scope with the stolen-key page (or,
 * when that scope is already halted, page the signal and audit it), and remember the nonces reported.
 * Does not bump `version`/`updatedAtMs`: the caller's commit does that once.
 */
export function watermarkStep(
  state: BreakerState,
  breaches: readonly NonceBreach[],
  config: BreakerConfig,
  nowMs: number,
): BreakerState | undefined {
  const first = breaches[0];
  if (!first) return undefined;
  const chain = first.chain;
  const fresh = nonceBreaches(
    chain,
    breaches.map((b) => ({ wallet: b.wallet, nextNonce: b.highestUsed + 1n })),
    new Map(breaches.flatMap((b) => (b.approved === undefined ? [] : [[b.wallet, b.approved] as const]))),
    state.nonceReported?.[chain],
    first.tag,
  );
  if (fresh.length === 0) return undefined;
  const scope: HaltScope = config.watermark.halt === 'global' ? { kind: 'global' } : { kind: 'chain', chain };
  const key = scopeKey(scope);
  const next = structuredClone(state);
  next.nonceReported = {
    ...state.nonceReported,
    [chain]: {
      ...state.nonceReported?.[chain],
      ...Object.fromEntries(fresh.map((b) => [b.wallet, b.highestUsed.toString()])),
    },
  };
  const ruleId = watermarkRuleId(chain);
  const summary = summaryOf(fresh);
  const already = state.tripped[key];
  if (already) {
    // One trip per scope. A watermark trip already said the keys are stolen, and an escalation page
    // already said it of this halt: remember the nonces, page nothing (a thief sends on every poll).
    if (already.ruleId.startsWith('watermark-') || already.escalatedAtMs !== undefined) return next;
    // Otherwise the signal goes out once, as this halt's escalation: the keys are compromised.
    (next.tripped[key] as TripInfo).escalatedAtMs = nowMs;
    const page = signalPage(config, fresh, key, `page-${ruleId}-${state.version + 1}`, already);
    const record: AuditRecord = {
      id: `audit-${ruleId}-${state.version + 1}`,
      atMs: nowMs,
      action: 'stolen-key-signal',
      actor: 'breaker',
      scope: key,
      details: { ruleId, tripId: already.tripId, summary },
    };
    next.outbox = [...next.outbox, { kind: 'audit', id: record.id, record }, { kind: 'page', id: page.id, page }];
    return next;
  }
  const trip: TripInfo = {
    tripId: `trip-${state.version + 1}-${key}`,
    atMs: nowMs,
    ruleId,
    scope,
    evidence: {
      ruleId,
      summary,
      measure: 'count',
      value: (first.highestUsed + 1n).toString(),
      limit: first.approved === undefined ? '0' : (first.approved + 1n).toString(),
      windowSeconds: 0,
      windowEnd: Math.floor(nowMs / 1000),
      outflowIds: [],
    },
  };
  next.tripped[key] = trip;
  const record: AuditRecord = {
    id: `audit-${trip.tripId}`,
    atMs: nowMs,
    action: 'trip',
    actor: 'breaker',
    scope: key,
    details: { tripId: trip.tripId, ruleId, summary, stolenKeySignal: true },
  };
  const page = signalPage(config, fresh, key, `page-${trip.tripId}`);
  next.outbox = [...next.outbox, { kind: 'audit', id: record.id, record }, { kind: 'page', id: page.id, page }];
  return next;
}

function summaryOf(breaches: readonly NonceBreach[]): string {
  return breaches
    .map(
      (b) =>
        `${b.chain} hot wallet ${b.wallet} used nonce ${b.highestUsed}${b.tag === 'pending' ? ' (pending)' : ''}; the guard approved ${
          b.approved === undefined ? 'none' : `up to ${b.approved}`
        }`,
    )
    .join('; ');
}

function signalPage(
  config: BreakerConfig,
  breaches: readonly NonceBreach[],
  key: string,
  id: string,
  alreadyTripped?: TripInfo,
): Page {
  const halted = key === 'global' ? 'ALL withdrawals on every chain' : `withdrawals on ${key.slice('chain:'.length)}`;
  const explorer = (b: NonceBreach) => {
    const base = config.chains.get(b.chain)?.explorer;
    return base ? `${base}/address/${b.wallet}` : `${b.chain} address ${b.wallet}`;
  };
  const lines = [
    alreadyTripped
      ? `STOLEN-KEY SIGNAL while ${key} is already halted (${alreadyTripped.ruleId}, ${alreadyTripped.tripId}) — ${config.name}.`
      : `BREAKER TRIPPED — ${config.name}: a hot wallet sent a transaction the guard never approved. Signing halted for ${halted}.`,
    '',
    'STOLEN-KEY SIGNAL: the guard records the nonce of every withdrawal it lets the signer sign. A hot wallet has used a higher nonce, so a transaction was signed with the hot key outside the signer — by a stolen key, or by a signer that bypasses the guard or does not send nonces. It may move nothing yet (an approve, a contract call, a delegation). Treat the hot keys as compromised.',
    ...breaches.map(
      (b) =>
        `  ${b.wallet}: nonce ${b.highestUsed} ${b.tag === 'pending' ? 'pending in the mempool' : 'in a block'}; the guard approved ${
          b.approved === undefined ? 'no nonce for this wallet' : `nonces up to ${b.approved}`
        } — ${explorer(b)}`,
    ),
    '',
    'The halt stops the exchange signer, NOT a thief signing with the keys elsewhere: move what is left out of the hot wallets and revoke approvals (docs/STOLEN-KEYS.md).',
    '',
    'To re-arm after review (a reason is required and recorded with your identity):',
    `  local:  npx breaker reset --scope ${key} --reason "<what you reviewed>"`,
    `  AWS:    npx breaker reset --stack <stack> --scope ${key} --reason "…", or the reset-breaker function URL; break-glass: reset-breaker-direct (docs/DEPLOY.md#reset)`,
  ];
  if (config.pages.consoleUrl) lines.push(`  console: ${config.pages.consoleUrl}`);
  const first = breaches[0] as NonceBreach;
  return {
    id,
    kind: alreadyTripped ? 'escalation' : 'trip',
    subject:
      `[${alreadyTripped ? 'STOLEN-KEY' : 'HALT'}] ${config.name}: NONCE ABOVE WATERMARK, hot key may be stolen — ${key}${alreadyTripped ? ' already' : ''} halted`.slice(
        0,
        100,
      ),
    text: lines.join('\n'),
    details: {
      rule: watermarkRuleId(first.chain),
      scope: key,
      ...(alreadyTripped ? { tripId: alreadyTripped.tripId } : {}),
      stolenKeySignal: true,
      summary: summaryOf(breaches),
      wallets: breaches.map((b) => ({
        chain: b.chain,
        wallet: b.wallet,
        highestNonceUsed: b.highestUsed.toString(),
        highestNonceApproved: b.approved?.toString() ?? null,
        seen: b.tag,
      })),
      transactions: [],
      transactionCount: 0,
    },
  };
}
