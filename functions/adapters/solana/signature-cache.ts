import type { SolSignature } from './solana-rpc-shapes.ts';

/**
 * What the reader already knows of each watched address's finalized signatures, so that a read
 * does not page `getSignaturesForAddress` again through what an earlier read fetched.
 *
 * The API lists an address's signatures newest first, from the endpoint's finalized tip; there is no
 * way to start at a slot. Read far behind the tip (catching up), every range would page down from
 * the tip again. But a fetch that starts at the tip and pages down is complete for every slot above
 * the oldest one it reached, up to the endpoint's finalized slot (nothing newer existed there; and
 * finalized slots do not change). So the reader keeps that list and the slots it is complete for,
 * and a later range inside them needs no call; a range beyond them fetches only down to what is
 * known. A range below what is known (a rewind) fetches afresh.
 */

export interface KnownSignatures {
  /** Newest first. */
  signatures: SolSignature[];
  /** Complete for slots above this one (−1: the address's whole history). */
  below: number;
  /** Complete for slots up to this one. */
  top: number;
}

/** How to bring an address's signatures up to date for [from, to]. */
export type SignaturePlan =
  | { kind: 'known' }
  /**
   * Page down from the tip until a page reaches `stopSlot` or the history ends; `until` (the newest
   * known signature) makes the endpoint stop there, so a poll near the tip gets only what is new.
   */
  | { kind: 'fetch'; stopSlot: number; until?: string };

export class SignatureCache {
  private readonly known = new Map<string, KnownSignatures>();

  plan(address: string, from: number, to: number): SignaturePlan {
    const k = this.known.get(address);
    if (!k || k.below >= from) return { kind: 'fetch', stopSlot: from - 1 };
    if (k.top >= to) return { kind: 'known' };
    const newest = k.signatures[0]?.signature;
    return { kind: 'fetch', stopSlot: k.top, ...(newest && { until: newest }) };
  }

  /**
   * Record a fetch made for [from, to] under `plan`: `fetched` newest first from the tip,
   * `exhausted` when its last page was not full (no older signatures exist).
   */
  record(
    address: string,
    from: number,
    to: number,
    stopSlot: number,
    fetched: SolSignature[],
    exhausted: boolean,
  ): void {
    const oldest = fetched[fetched.length - 1];
    const newestSlot = fetched[0]?.slot ?? -1;
    // The fetch started at a tip at or above `to` (the calls carry minContextSlot: to).
    const top = Math.max(to, newestSlot);
    const k = this.known.get(address);
    if (k && stopSlot === k.top) {
      const fresh = fetched.filter((s) => s.slot > k.top);
      this.known.set(address, { signatures: [...fresh, ...k.signatures], below: k.below, top });
    } else {
      const below = exhausted || !oldest ? -1 : oldest.slot;
      this.known.set(address, { signatures: fetched, below, top });
    }
    this.forgetBelow(address, from);
  }

  /** The known signatures of `address` in [from, to], oldest slot first. */
  inRange(address: string, from: number, to: number): SolSignature[] {
    return (this.known.get(address)?.signatures ?? []).filter((s) => s.slot >= from && s.slot <= to).reverse();
  }

  /** Slots below `from` are read: keep memory bounded by what is still ahead. */
  private forgetBelow(address: string, from: number): void {
    const k = this.known.get(address);
    if (!k || k.below >= from - 1) return;
    k.signatures = k.signatures.filter((s) => s.slot >= from);
    k.below = from - 1;
  }
}
