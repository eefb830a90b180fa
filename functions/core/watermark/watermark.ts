import type { BreakerConfig } from '../config/types.ts';
import type { NonceObservation, NonceTag, PendingHotTransaction } from '../ports.ts';
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
  /** Hashes of its transactions above the watermark, when the pending-transaction filter saw them. */
  transactions?: string[];
}

/**
 * Wallets whose used nonces went past what the guard approved and past what an earlier trip already
 * reported (`reported`, so a reset does not re-trip on the same nonces). `pending`: the hot wallets'
 * transactions the pending-transaction filter saw; one above the watermark names the breach's
 * transaction, and counts even when the nonce read came a moment before it.
 */
export function nonceBreaches(
  chain: string,
  observed: readonly NonceObservation[],
  approved: ReadonlyMap<string, bigint>,
  reported: Readonly<Record<string, string>> | undefined,
  tag: NonceTag,
  pending: readonly PendingHotTransaction[] = [],
): NonceBreach[] {
  const breaches: NonceBreach[] = [];
  const wallets = new Map(observed.map((o) => [o.wallet, o.nextNonce - 1n]));
  for (const tx of pending) wallets.set(tx.wallet, max(wallets.get(tx.wallet) ?? -1n, tx.nonce));
  for (const [wallet, highestUsed] of wallets) {
    const mark = approved.get(wallet);
    const seen = reported?.[wallet];
    if (highestUsed <= (mark ?? -1n) || (seen !== undefined && highestUsed <= BigInt(seen))) continue;
    const above = pending.filter((tx) => tx.wallet === wallet && tx.nonce > (mark ?? -1n)).map((tx) => tx.hash);
    breaches.push({
      chain,
      wallet,
      highestUsed,
      approved: mark,
      tag,
      ...(above.length > 0 && { transactions: [...new Set(above)] }),
    });
  }
  return breaches;
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
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
  const reported = state.nonceReported?.[chain];
  const fresh = breaches.filter((b) => {
    const seen = reported?.[b.wallet];
    return seen === undefined || b.highestUsed > BigInt(seen);
  });
  const lead = fresh[0];
  if (!lead) return undefined;
  const chainConfig = config.chains.get(chain);
  const explorer = (b: NonceBreach) =>
    chainConfig?.explorer ? `${chainConfig.explorer}/address/${b.wallet}` : `${b.chain} address ${b.wallet}`;
  const txUrl = (hash: string) =>
    chainConfig?.explorer ? chainConfig.kind.txUrl(chainConfig.explorer, hash) : `${chain} transaction ${hash}`;
  const transactions = fresh.flatMap((b) => b.transactions ?? []);
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
        } — ${explorer(b)}${(b.transactions ?? []).map((hash) => `\n    transaction ${hash} — ${txUrl(hash)}`).join('')}`,
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
      transactions: transactions.map((hash) => ({ txHash: hash, url: txUrl(hash) })),
      transactionCount: transactions.length,
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
