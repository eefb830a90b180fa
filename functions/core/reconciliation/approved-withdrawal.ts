/**
 * A withdrawal the signing service was allowed to sign: recorded by the guard before signing, so an
 * on-chain outflow that matches none of them did not come through the guarded signer.
 */
export interface ApprovedWithdrawal {
  /** The exchange's own withdrawal id: the record is idempotent by it. */
  withdrawalId: string;
  chain: string;
  /** Asset symbol as in the config (`USDT`), or a token identifier (canonical when the guard had the config). */
  asset: string;
  /** Destination address: normalised by the chain's kind when the guard had the config, else as the signer sent it. */
  destination: string;
  /** Base units (wei, satoshi, token units). */
  amount: bigint;
  /** Wall-clock ms when the guard approved it. */
  approvedAtMs: number;
  /**
   * EVM: the hot wallet that signs it (lower-case) and the nonce it signs with, when the signer sends
   * them; they raise that wallet's nonce watermark (functions/core/watermark). Not part of the
   * withdrawal's identity: a withdrawal re-signed with another nonce is the same withdrawal.
   */
  hotWallet?: string;
  nonce?: bigint;
  /**
   * Bitcoin: the outpoints (`txid:vout`, canonical) the withdrawal spends, when the signer sends them;
   * each is recorded as approved (functions/core/watermark/outpoints.ts). Not part of its identity: a
   * replacement that adds an input is the same withdrawal.
   */
  outpoints?: string[];
}

/**
 * The same withdrawal id must always name the same transfer; anything else is a conflict. Compared as
 * recorded: the guard writes both in the same (canonical, with the config) form.
 */
export function sameWithdrawal(a: ApprovedWithdrawal, b: ApprovedWithdrawal): boolean {
  return (
    a.withdrawalId === b.withdrawalId &&
    a.chain === b.chain &&
    a.asset === b.asset &&
    a.destination === b.destination &&
    a.amount === b.amount
  );
}
