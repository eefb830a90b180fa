import { ChainReadError } from '../../core/errors.ts';
import { type EndpointProbe, endpointProbes, majorityHash, probeCounters } from '../evm/endpoint-probes.ts';
import type { Suspender } from '../evm/head-check.ts';
import type { NetworkProbe, RpcCounters } from '../evm/json-rpc-client.ts';
import { checkWith, parseBlockHeader, parseSlot, parseSlots } from './solana-rpc-shapes.ts';

/**
 * The head cross-check of a Solana chain with two or more endpoints (the EVM reader's
 * evm/head-check.ts, in Solana's calls). Every endpoint is asked its finalized slot; then the hash of
 * one block every endpoint has (the last block at or below the lowest finalized slot) is compared.
 * Taken out of use on the reader's client (`suspend`), until a later check finds it well again:
 *  - an endpoint more than `maxLagSlots` away from the second-highest finalized slot: behind it (its
 *    reads would fail with −32016 or serve only old slots), or ahead of it (it claims slots no other
 *    endpoint has finalized: reads up to them would fail everywhere). The second-highest, not the
 *    highest, so one endpoint alone (lying about its head) cannot set the others aside; with two
 *    endpoints a gap sets neither aside, and reads fail over on −32016;
 *  - an endpoint whose hash of the common block is not the majority's (another cluster's fork, or lying).
 * No majority (two endpoints, one hash each) means none can be trusted: the check throws
 * ChainReadError, so the poll fails loudly and the blindness alarm runs until they agree.
 * A check costs one getSlot per endpoint, one getBlocks, and one getBlock header per endpoint.
 */

export interface SolanaHeadCheckOptions {
  readonly label: string;
  readonly urls: readonly string[];
  readonly timeoutMs: number;
  readonly networkProbe: NetworkProbe;
  readonly maxLagSlots: number;
  readonly everyPolls: number;
  readonly fetch?: typeof fetch;
}

/** How far below the lowest head the common block is looked for (slots are sometimes skipped in runs). */
const REFERENCE_WINDOW = 100;

export class SolanaHeadCheck {
  readonly checks = { runs: 0, suspensions: 0, disagreements: 0 };
  private readonly options: SolanaHeadCheckOptions;
  private readonly probes: EndpointProbe[];
  private polls = 0;
  private recheck = true;

  constructor(options: SolanaHeadCheckOptions) {
    this.options = options;
    this.probes = endpointProbes(options.label, options.urls, {
      timeoutMs: options.timeoutMs,
      networkProbe: options.networkProbe,
      fetch: options.fetch,
    });
  }

  /** Is a check due at this poll? Call once per head read. */
  due(): boolean {
    return this.recheck || this.polls++ % this.options.everyPolls === 0;
  }

  /** After a failed read: check again at the next head. */
  recheckNextPoll(): void {
    this.recheck = true;
  }

  counters(): RpcCounters {
    return probeCounters(this.probes);
  }

  async run(client: Suspender): Promise<void> {
    this.checks.runs++;
    this.recheck = true;
    const heads = await Promise.all(
      this.probes.map((p) =>
        p.client
          .call<number>({ method: 'getSlot', params: [{ commitment: 'finalized' }], check: checkWith(parseSlot) })
          .catch(() => undefined),
      ),
    );
    const claimed = heads.filter((h): h is number => h !== undefined);
    if (claimed.length === 0) {
      throw new ChainReadError(`${this.options.label}: no endpoint answered getSlot during the head cross-check`);
    }
    const lowest = Math.min(...claimed);
    const descending = [...claimed].sort((a, b) => b - a);
    const reference = descending[1] ?? descending[0]!;
    const hashes = await this.referenceHashes(heads, lowest);

    const { majority, tie } = majorityHash(hashes);
    if (tie) {
      this.checks.disagreements++;
      throw new ChainReadError(
        `${this.options.label}: endpoints disagree on the hash of a finalized block with no majority (${this.probes
          .map((p, i) => `${p.name} says ${hashes[i] ?? 'nothing'}`)
          .join(', ')}); no endpoint can be trusted until they agree`,
      );
    }
    this.probes.forEach((p, i) => {
      const head = heads[i];
      const hash = hashes[i];
      let why: string | undefined;
      if (head !== undefined && reference - head > this.options.maxLagSlots) {
        why = `its finalized slot ${head} lags the others (${reference}) by more than ${this.options.maxLagSlots} slots`;
      } else if (head !== undefined && head - reference > this.options.maxLagSlots) {
        why = `it claims finalized slot ${head}, more than ${this.options.maxLagSlots} slots beyond the others (${reference})`;
      } else if (majority !== undefined && hash !== undefined && hash !== majority) {
        why = `a finalized block's hash there is ${hash}, ${majority} on the other endpoints`;
      }
      if (why) {
        client.suspend(p.url, why);
        this.checks.suspensions++;
      } else if (head !== undefined) {
        client.resume(p.url);
      }
    });
    this.recheck = false;
  }

  /** Each endpoint's hash of the last block at or below `lowest` (undefined where it did not answer). */
  private async referenceHashes(heads: (number | undefined)[], lowest: number): Promise<(string | undefined)[]> {
    let reference: number | undefined;
    for (const [i, p] of this.probes.entries()) {
      if (heads[i] === undefined) continue;
      const slots = await p.client
        .call<number[]>({
          method: 'getBlocks',
          params: [Math.max(0, lowest - REFERENCE_WINDOW), lowest, { commitment: 'finalized' }],
          check: checkWith(parseSlots),
        })
        .catch(() => undefined);
      if (slots) {
        reference = slots[slots.length - 1];
        break;
      }
    }
    if (reference === undefined) return heads.map(() => undefined);
    const slot = reference;
    return Promise.all(
      this.probes.map((p, i) =>
        heads[i] === undefined
          ? undefined
          : p.client
              .call<unknown>({
                method: 'getBlock',
                params: [slot, { commitment: 'finalized', transactionDetails: 'none', rewards: false }],
                check: checkWith((v) => parseBlockHeader(v, slot)),
              })
              .then((v) => parseBlockHeader(v, slot).blockhash)
              .catch(() => undefined),
      ),
    );
  }
}
