import { ChainReadError } from '../../core/errors.ts';
import { type EndpointProbe, endpointProbes, majorityHash, probeCounters } from './endpoint-probes.ts';
import type { RpcCounters } from './json-rpc-client.ts';
import { quantityToNumber, toQuantity } from './rpc-shapes.ts';

/**
 * The head cross-check: with two or more endpoints, compare what they say about the chain, and take
 * out of use (`JsonRpcClient.suspend`) an endpoint that
 *  - lags the best verified head by more than `maxLagBlocks` (reads from it would only see old blocks);
 *  - claims a head it cannot serve a block for (a head ahead of reality);
 *  - disagrees with the majority on the hash of a block every endpoint has (another fork, or lying).
 * An endpoint that passes a later check is resumed. When endpoints disagree on a hash and there is
 * no majority (two endpoints, one each), nothing can be trusted: the check throws ChainReadError, so
 * polls fail loudly and the blindness alarm runs, until they agree again.
 *
 * It runs every `everyPolls` heads, on the first, when the head jumps (moves more than the lag
 * allowance beyond what the elapsed time explains, or goes backwards by more than it), and on every
 * head while a disagreement lasts. A check costs one eth_blockNumber per endpoint plus one
 * eth_getBlockByNumber (two for an endpoint whose head is suspiciously far ahead), sent to every
 * endpoint at once.
 */

export interface HeadCheckOptions {
  readonly label: string;
  readonly urls: readonly string[];
  readonly timeoutMs: number;
  readonly chainId?: number;
  readonly maxLagBlocks: number;
  readonly everyPolls: number;
  readonly blockTimeSeconds: number;
  /** The block whose hash is compared is this deep below the lowest head (a confirmed block). */
  readonly confirmations: number;
  readonly fetch?: typeof fetch;
  /** Wall clock for the jump heuristic. @default Date.now */
  readonly now?: () => number;
}

export type EndpointVerdict =
  | { readonly status: 'ok'; readonly head: number; readonly hash?: string }
  | { readonly status: 'unreachable'; readonly detail: string }
  | { readonly status: 'lagging'; readonly head: number; readonly behind: number }
  | { readonly status: 'head-unservable'; readonly head: number }
  | { readonly status: 'forked'; readonly head: number; readonly hash: string; readonly majority: string };

export interface CrossCheckReport {
  /** The block whose hash was compared. */
  readonly reference: number;
  /** The highest head an endpoint both claimed and could serve. */
  readonly best: number;
  readonly endpoints: readonly { readonly url: string; readonly endpoint: string; readonly verdict: EndpointVerdict }[];
}

/** What the check does to the reader's client. */
export interface Suspender {
  suspend(url: string, why: string): void;
  resume(url: string): void;
}

interface RawBlock {
  number: string;
  hash: string;
}

type Answer = { unreachable: string } | { head: number; ref: RawBlock | null; servesHead: boolean };

export class EvmHeadCheck {
  readonly checks = { runs: 0, suspensions: 0, disagreements: 0 };
  private readonly options: HeadCheckOptions;
  private readonly probes: EndpointProbe[];
  private readonly now: () => number;
  private heads = 0;
  private last: { head: number; atMs: number } | undefined;
  private recheck = true;
  private lastReport: CrossCheckReport | undefined;
  /** URLs this check took out of use and has not resumed. */
  private readonly suspended = new Set<string>();

  constructor(options: HeadCheckOptions) {
    if (options.urls.length < 2) throw new RangeError(`${options.label}: a head cross-check needs two endpoints`);
    this.options = options;
    this.now = options.now ?? Date.now;
    this.probes = endpointProbes(options.label, options.urls, {
      timeoutMs: options.timeoutMs,
      chainId: options.chainId,
      fetch: options.fetch,
    });
  }

  /** Should the head just read be cross-checked? Call once per head read. */
  due(head: number): boolean {
    this.heads++;
    const nowMs = this.now();
    const last = this.last;
    if (this.recheck || !last || this.heads % this.options.everyPolls === 0) return true;
    const elapsedBlocks = Math.ceil((nowMs - last.atMs) / 1000 / this.options.blockTimeSeconds);
    const lag = this.options.maxLagBlocks;
    return head < last.head - lag || head > last.head + lag + elapsedBlocks;
  }

  /** The head this poll goes on with (after a check, the head of the endpoint reads will use). */
  settle(head: number): void {
    this.last = { head, atMs: this.now() };
  }

  report(): CrossCheckReport | undefined {
    return this.lastReport;
  }

  /** Whether some endpoint is out of use because of a check (a later check may resume it). */
  hasSuspensions(): boolean {
    return this.suspended.size > 0;
  }

  counters(): RpcCounters {
    return probeCounters(this.probes);
  }

  resetCounters(): void {
    for (const p of this.probes) p.client.resetCounters();
  }

  /** Ask every endpoint, judge them, and suspend or resume each on `client`. */
  async run(client: Suspender): Promise<CrossCheckReport> {
    this.checks.runs++;
    const lag = this.options.maxLagBlocks;
    const heads = await Promise.all(
      this.probes.map((p) =>
        p.client
          .call<string>({ method: 'eth_blockNumber', params: [], check: hexQuantity })
          .then((hex) => ({ ok: true as const, head: quantityToNumber(hex) }))
          .catch((e: unknown) => ({ ok: false as const, detail: (e as Error).message })),
      ),
    );
    const claimed = heads.flatMap((h) => (h.ok ? [h.head] : []));
    if (claimed.length === 0) {
      this.recheck = true;
      throw new ChainReadError(
        `${this.options.label}: no endpoint answered eth_blockNumber during the head cross-check`,
      );
    }
    const lowest = Math.min(...claimed);
    const reference = Math.max(0, lowest - this.options.confirmations);

    // Each endpoint: the reference block, and its own head block when that head is far above the rest.
    const answers = await Promise.all(
      this.probes.map(async (p, i): Promise<Answer> => {
        const h = heads[i]!;
        if (!h.ok) return { unreachable: h.detail };
        const suspicious = h.head - lowest > lag;
        const calls = [reference, ...(suspicious ? [h.head] : [])].map((n) => ({
          method: 'eth_getBlockByNumber',
          params: [toQuantity(n), false],
          nullable: true,
          check: blockShape,
        }));
        try {
          const [ref, own] = (await p.client.batch(calls)) as (RawBlock | null)[];
          return { head: h.head, ref: ref ?? null, servesHead: suspicious ? own !== null : true };
        } catch (e) {
          return { unreachable: (e as Error).message };
        }
      }),
    );

    const verdicts: (EndpointVerdict | undefined)[] = answers.map((a) => {
      if ('unreachable' in a) return { status: 'unreachable', detail: a.unreachable };
      if (!a.servesHead || a.ref === null) return { status: 'head-unservable', head: a.head };
      return undefined;
    });
    const servable = answers.flatMap((a, i) => (verdicts[i] === undefined && 'head' in a ? [a.head] : []));
    const best = servable.length > 0 ? Math.max(...servable) : lowest;

    const { majority, tie } = majorityHash(
      answers.map((a, i) => (verdicts[i] === undefined && 'ref' in a && a.ref ? a.ref.hash.toLowerCase() : undefined)),
    );
    if (tie) {
      this.checks.disagreements++;
      this.recheck = true;
      const who = answers
        .map((a, i) => ('ref' in a && a.ref ? `${this.probes[i]!.name} says ${a.ref.hash}` : undefined))
        .filter(Boolean)
        .join(', ');
      throw new ChainReadError(
        `${this.options.label}: endpoints disagree on the hash of block ${reference} with no majority (${who}); ` +
          'no endpoint can be trusted until they agree',
      );
    }

    const endpoints = answers.map((a, i) => {
      const probe = this.probes[i]!;
      let verdict = verdicts[i];
      if (verdict === undefined && 'head' in a && a.ref) {
        const hash = a.ref.hash.toLowerCase();
        if (majority !== undefined && hash !== majority) {
          verdict = { status: 'forked', head: a.head, hash, majority };
        } else if (best - a.head > lag) {
          verdict = { status: 'lagging', head: a.head, behind: best - a.head };
        } else {
          verdict = { status: 'ok', head: a.head, hash };
        }
      }
      return { url: probe.url, endpoint: probe.name, verdict: verdict as EndpointVerdict };
    });

    // Nothing passed: leave the client as it is (a later check can still tell) and fail loudly.
    if (!endpoints.some((e) => e.verdict.status === 'ok')) {
      this.recheck = true;
      throw new ChainReadError(
        `${this.options.label}: no endpoint passed the head cross-check: ${endpoints
          .map((e) => `${e.endpoint} ${describeVerdict(e.verdict, reference, lag) ?? e.verdict.status}`)
          .join('; ')}`,
      );
    }
    for (const { url, verdict } of endpoints) {
      const why = describeVerdict(verdict, reference, lag);
      if (why) {
        client.suspend(url, why);
        if (!this.suspended.has(url)) this.checks.suspensions++;
        this.suspended.add(url);
      } else if (verdict.status === 'ok') {
        client.resume(url);
        this.suspended.delete(url);
      }
    }
    this.recheck = false;
    this.lastReport = { reference, best, endpoints };
    return this.lastReport;
  }
}

/** Why an endpoint is taken out of use; undefined when it is not (fine, or merely unreachable now). */
export function describeVerdict(v: EndpointVerdict, reference: number, lag: number): string | undefined {
  switch (v.status) {
    case 'lagging':
      return `lags the best head by ${v.behind} blocks (more than ${lag})`;
    case 'head-unservable':
      return `claims head ${v.head} but cannot serve that block or block ${reference}`;
    case 'forked':
      return `block ${reference} is ${v.hash} there, ${v.majority} on the other endpoints`;
    default:
      return undefined;
  }
}

function hexQuantity(r: unknown): string | undefined {
  return typeof r === 'string' && /^0x[0-9a-fA-F]{1,16}$/.test(r) ? undefined : 'not a hex quantity';
}

function blockShape(r: unknown): string | undefined {
  const b = r as Partial<RawBlock>;
  if (typeof b !== 'object' || b === null) return 'block is not an object';
  if (typeof b.hash !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(b.hash)) return 'block without a hash';
  return undefined;
}
