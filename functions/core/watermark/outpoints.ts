import type { BreakerConfig } from '../config/types.ts';
import type { HotSpend } from '../model.ts';
import type { BreakerState } from '../state.ts';
import { outpointRuleId } from './rule-ids.ts';
import { type StolenKeyFinding, stolenKeyStep } from './stolen-key-trip.ts';

/**
 * The spent-outpoint watermark: the UTXO chains' form of the signed-nonce watermark (watermark.ts).
 *
 * A Bitcoin hot wallet has no nonce, but every transaction it signs spends outputs it holds, and an
 * output can be spent once. The guard records each outpoint (`txid:vout`) a withdrawal will spend
 * before it approves; a transaction that spends a hot-wallet outpoint the guard never approved was
 * signed with the hot key outside the signer. Anyone can pay a hot wallet, nobody else can spend from
 * it, so the signal is exact at any size — also for a transaction that only pays the hot wallet back
 * to itself, which moves nothing out and which outflow reconciliation cannot see. A replacement (RBF)
 * of the guard's own withdrawal spends the same approved outpoints (plus any it asked the guard for),
 * so it never trips.
 */

/** A transaction output's name: 64 hex digits of txid, a colon, the output index. */
export const OUTPOINT = /^([0-9a-f]{64}):(\d{1,10})$/;

/** Largest output index (vout is a 32-bit field). */
const MAX_VOUT = 0xffff_ffff;

/** Why `text` is not an outpoint (`txid:vout`), or undefined. Case-insensitive hex; see canonicalOutpoint. */
export function outpointProblem(text: string): string | undefined {
  const match = OUTPOINT.exec(text.toLowerCase());
  if (!match) return `"${text.slice(0, 80)}" is not an outpoint "<64-hex txid>:<vout>"`;
  if (Number(match[2]) > MAX_VOUT) return `"${text.slice(0, 80)}": vout ${match[2]} is above ${MAX_VOUT}`;
  return undefined;
}

/** The one spelling compared everywhere: lower-case txid, decimal vout without leading zeros. */
export function canonicalOutpoint(text: string): string {
  const match = OUTPOINT.exec(text.toLowerCase());
  if (!match) throw new TypeError(outpointProblem(text));
  return `${match[1]}:${Number(match[2])}`;
}

/** How many reported transaction ids a chain remembers (the state item stays small; oldest go first). */
export const REPORTED_TXIDS_KEPT = 64;

export interface OutpointBreach {
  chain: string;
  txid: string;
  /** The hot-wallet outpoints it spends that the guard never approved. */
  unapproved: string[];
  /** The hot wallets those outpoints belonged to. */
  wallets: string[];
  /** Seen in a block, or in the endpoint's mempool. */
  tag: HotSpend['tag'];
}

/**
 * Transactions spending a hot outpoint the guard did not approve, leaving out those an earlier trip
 * already reported (`reported`: txids, so a reset does not re-trip on the same transaction).
 */
export function outpointBreaches(
  chain: string,
  spends: readonly HotSpend[],
  approved: ReadonlySet<string>,
  reported: readonly string[] | undefined,
): OutpointBreach[] {
  const seen = new Set(reported ?? []);
  const breaches: OutpointBreach[] = [];
  for (const spend of spends) {
    if (seen.has(spend.txid)) continue;
    const unapproved = spend.inputs.filter((i) => !approved.has(i.outpoint));
    if (unapproved.length === 0) continue;
    seen.add(spend.txid);
    breaches.push({
      chain,
      txid: spend.txid,
      unapproved: unapproved.map((i) => i.outpoint),
      wallets: [...new Set(unapproved.map((i) => i.wallet))],
      tag: spend.tag,
    });
  }
  return breaches;
}

/**
 * The decide step for outpoint breaches of one chain (see stolenKeyStep): trip or escalate, and
 * remember the transaction ids reported.
 */
export function outpointWatermarkStep(
  state: BreakerState,
  breaches: readonly OutpointBreach[],
  config: BreakerConfig,
  nowMs: number,
): BreakerState | undefined {
  const chain = breaches[0]?.chain;
  if (chain === undefined) return undefined;
  const fresh = breaches.filter((b) => !state.outpointReported?.[chain]?.includes(b.txid));
  if (fresh.length === 0) return undefined;
  const explorer = config.chains.get(chain)?.explorer;
  const txUrl = (txid: string) => (explorer ? `${explorer}/tx/${txid}` : `${chain} transaction ${txid}`);
  const spent = fresh.reduce((n, b) => n + b.unapproved.length, 0);
  const finding: StolenKeyFinding = {
    chain,
    ruleId: outpointRuleId(chain),
    headline: 'UNAPPROVED UTXO SPEND',
    summary: fresh
      .map(
        (b) =>
          `${chain} transaction ${b.txid}${b.tag === 'pending' ? ' (pending)' : ''} spends ${b.unapproved.length || 'unnamed'} hot-wallet output(s) the guard never approved (${b.wallets.join(', ')})`,
      )
      .join('; '),
    explanation:
      'the guard records every hot-wallet output a withdrawal may spend before the signer signs it. A transaction spends one it never approved, so it was signed with the hot key outside the signer — by a stolen key, or by a signer that bypasses the guard or does not send outpoints. It may move nothing out yet (paying the hot wallet back to itself).',
    lines: fresh.map(
      (b) =>
        `  ${b.txid} ${b.tag === 'pending' ? 'pending in the mempool' : 'in a block'}: spends ${outpointList(b.unapproved)} of ${b.wallets.join(', ')} — ${txUrl(b.txid)}`,
    ),
    value: String(Math.max(spent, fresh.length)),
    limit: '0',
    details: {
      wallets: [...new Set(fresh.flatMap((b) => b.wallets))].map((wallet) => ({ chain, wallet })),
      transactions: fresh.map((b) => ({ txHash: b.txid, url: txUrl(b.txid), seen: b.tag, unapproved: b.unapproved })),
      transactionCount: fresh.length,
    },
  };
  return stolenKeyStep(state, finding, config, nowMs, (next) => {
    const kept = [...(state.outpointReported?.[chain] ?? []), ...fresh.map((b) => b.txid)];
    next.outpointReported = { ...state.outpointReported, [chain]: kept.slice(-REPORTED_TXIDS_KEPT) };
  });
}

/** The first few outpoints of a page line (a sweep may spend hundreds); a replay names none. */
function outpointList(outpoints: readonly string[]): string {
  if (outpoints.length === 0) return 'hot-wallet outputs';
  const more = outpoints.length > 5 ? ` and ${outpoints.length - 5} more` : '';
  return `${outpoints.slice(0, 5).join(', ')}${more}`;
}
