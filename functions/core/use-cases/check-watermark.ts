import type { BreakerConfig, ChainConfig } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import type { NonceReader, NonceWatermarkLog } from '../ports.ts';
import type { BreakerState } from '../state.ts';
import { nonceBreaches, watermarkStep } from '../watermark/watermark.ts';
import { commitTransition, type TransitionDeps } from './commit-transition.ts';

export interface WatermarkCheckDeps extends TransitionDeps {
  config: BreakerConfig;
  chain: ChainConfig;
  /** The chain reader; on a watermarked chain it must also read nonces (EvmChainReader does). */
  reader: unknown;
  /** Where the guard's watermarks are (the approvals log); by default the store. */
  approvals?: unknown;
}

/**
 * Gather for one poll (I/O), then a pure step to commit, or undefined when every hot wallet's nonce
 * is within what the guard approved. The watermarks are read BEFORE the nonces: the guard raises a
 * watermark before the signer may sign, so any transaction the nonce read counts had its watermark
 * written before the watermark read — read the other way round, a withdrawal approved and broadcast
 * between the two reads would look stolen.
 */
export async function gatherWatermark(
  deps: WatermarkCheckDeps,
): Promise<((state: BreakerState, nowMs: number) => BreakerState | undefined) | undefined> {
  const { config, chain } = deps;
  if (!config.watermark.chains.has(chain.id)) return undefined;
  const log = watermarkLogOf(deps.approvals ?? deps.store, chain.id);
  const reader = nonceReaderOf(deps.reader, chain.id);
  const tag = config.watermark.pending ? 'pending' : 'latest';
  const approved = await log.nonceWatermarks(chain.id);
  const observed = await reader.nextNonces(tag);
  const breaches = nonceBreaches(chain.id, observed, approved, undefined, tag);
  if (breaches.length === 0) return undefined;
  return (state, nowMs) => watermarkStep(state, breaches, config, nowMs);
}

/** Run the watermark check of one chain and commit a trip (or signal) it finds; pages go out before it returns. */
export async function checkNonceWatermark(deps: WatermarkCheckDeps): Promise<void> {
  const step = await gatherWatermark(deps);
  if (!step) return;
  const committed = await commitTransition(deps, (state, nowMs) => {
    const next = step(state, nowMs);
    return next && { ...next, version: state.version + 1, updatedAtMs: nowMs };
  });
  if (committed?.undelivered) throw committed.undelivered;
}

function watermarkLogOf(store: unknown, chain: string): NonceWatermarkLog {
  const log = store as Partial<NonceWatermarkLog> | null;
  if (typeof log?.nonceWatermarks !== 'function') {
    throw new ConfigError('watermark', [`${chain}: the store keeps no nonce watermarks (the guard's approvals log)`]);
  }
  return log as NonceWatermarkLog;
}

function nonceReaderOf(reader: unknown, chain: string): NonceReader {
  const r = reader as Partial<NonceReader> | null;
  if (typeof r?.nextNonces !== 'function') {
    throw new ConfigError('watermark', [`${chain}: its chain reader cannot read hot-wallet nonces`]);
  }
  return r as NonceReader;
}
