import type { BreakerConfig } from '../config/types.ts';
import type { NonceObservation, NonceTag } from '../ports.ts';
import type { BreakerState } from '../state.ts';
import { watermarkRuleId } from './rule-ids.ts';
import { type StolenKeyFinding, stolenKeyStep } from './stolen-key-trip.ts';

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
  const lead = fresh[0];
  if (!lead) return undefined;
  const explorer = (b: NonceBreach) => {
    const base = config.chains.get(b.chain)?.explorer;
    return base ? `${base}/address/${b.wallet}` : `${b.chain} address ${b.wallet}`;
  };
  const finding: StolenKeyFinding = {
    chain,
    ruleId: watermarkRuleId(chain),
    headline: 'NONCE ABOVE WATERMARK',
    summary: summaryOf(fresh),
    explanation:
      'the guard records the nonce of every withdrawal it lets the signer sign. A hot wallet has used a higher nonce, so a transaction was signed with the hot key outside the signer — by a stolen key, or by a signer that bypasses the guard or does not send nonces. It may move nothing yet (an approve, a contract call, a delegation).',
    lines: fresh.map(
      (b) =>
        `  ${b.wallet}: nonce ${b.highestUsed} ${b.tag === 'pending' ? 'pending in the mempool' : 'in a block'}; the guard approved ${
          b.approved === undefined ? 'no nonce for this wallet' : `nonces up to ${b.approved}`
        } — ${explorer(b)}`,
    ),
    value: (lead.highestUsed + 1n).toString(),
    limit: lead.approved === undefined ? '0' : (lead.approved + 1n).toString(),
    details: {
      wallets: fresh.map((b) => ({
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
  return stolenKeyStep(state, finding, config, nowMs, (next) => {
    next.nonceReported = {
      ...state.nonceReported,
      [chain]: {
        ...state.nonceReported?.[chain],
        ...Object.fromEntries(fresh.map((b) => [b.wallet, b.highestUsed.toString()])),
      },
    };
  });
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
