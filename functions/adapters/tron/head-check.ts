import { ChainReadError } from '../../core/errors.ts';
import { describe } from '../http/http-request.ts';
import type { TronHttpApi } from './http-api.ts';

export interface TronHeadCheckOptions {
  readonly chain: string;
  readonly maxLagBlocks: number;
  readonly everyPolls: number;
}

export interface TronHeadCheckResult {
  /** Endpoints not to read from until the next check, with why. */
  readonly suspended: ReadonlyMap<TronHttpApi, string>;
}

/**
 * The head cross-check across HTTP endpoints (as adapters/evm/head-check.ts does for EVM): every
 * `everyPolls` head reads, and on the first, ask every endpoint for its solidified head, then for the
 * block at the lowest head among those not lagging. An endpoint lagging the best head by more than
 * `maxLagBlocks`, or holding a block hash the majority does not, is suspended until the next check.
 * With no majority (two endpoints, two hashes) nothing can be trusted: ChainReadError, every poll,
 * until they agree. Solidified blocks are final, so a disagreement is a lying or broken endpoint.
 * Cost of one check: one getnowblock and one getblockbynum per endpoint.
 */
export class TronHeadCheck {
  private reads = 0;
  private disagreeing = false;

  constructor(private readonly options: TronHeadCheckOptions) {}

  due(): boolean {
    return this.disagreeing || this.reads++ % this.options.everyPolls === 0;
  }

  async run(apis: readonly TronHttpApi[]): Promise<TronHeadCheckResult> {
    const suspended = new Map<TronHttpApi, string>();
    const heads = await Promise.all(
      apis.map((api) =>
        api.solidHead().then(
          (ref) => ref.number,
          (e) => {
            suspended.set(api, `unreachable: ${describe(e)}`);
            return undefined;
          },
        ),
      ),
    );
    const best = Math.max(-1, ...heads.filter((h) => h !== undefined));
    const current: TronHttpApi[] = [];
    apis.forEach((api, i) => {
      const head = heads[i];
      if (head === undefined) return;
      if (best - head > this.options.maxLagBlocks)
        suspended.set(api, `lagging: solidified head ${head}, ${best - head} blocks behind the best`);
      else current.push(api);
    });
    if (current.length < 2) return { suspended };
    const reference = Math.min(...current.map((api) => heads[apis.indexOf(api)] as number));
    const hashes = await Promise.all(
      current.map((api) =>
        api.blockId(reference).then(
          (hash) => hash,
          (e) => {
            suspended.set(api, `cannot serve block ${reference} below its own head: ${describe(e)}`);
            return undefined;
          },
        ),
      ),
    );
    const counts = new Map<string, number>();
    for (const h of hashes) if (h) counts.set(h, (counts.get(h) ?? 0) + 1);
    const answered = hashes.filter((h) => h !== undefined).length;
    const majority = [...counts].find(([, n]) => n * 2 > answered)?.[0];
    this.disagreeing = counts.size > 1;
    if (!majority && counts.size > 1) {
      throw new ChainReadError(
        `${this.options.chain}: HTTP endpoints disagree on solidified block ${reference} (${current.map((a, i) => `${a.label}: ${hashes[i] ?? 'no answer'}`).join('; ')}) and no majority decides: not reading until they agree`,
      );
    }
    current.forEach((api, i) => {
      const h = hashes[i];
      if (h && h !== majority)
        suspended.set(api, `on another chain: block ${reference} is ${h}, the majority says ${majority}`);
    });
    return { suspended };
  }
}
