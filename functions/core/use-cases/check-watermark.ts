import type { BreakerConfig, ChainConfig } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import type { NonceReader, NonceWatermarkLog } from '../ports.ts';
import { nonceBreaches, watermarkStep } from '../watermark/watermark.ts';
import type { PollCheck } from './poll-decision.ts';

export interface WatermarkCheckDeps {
  config: BreakerConfig;
  chain: ChainConfig;
  /** The chain reader; on a watermarked chain it must also read nonces (EvmChainReader does). */
  reader: unknown;
  /** Where the guard's watermarks are: the store that keeps the approvals log. */
  approvals: unknown;
}

/**
 * The watermark as a per-poll check (wired in functions/runtime/compose.ts): it gathers (I/O), then
 * returns a pure step that trips, or undefined when every hot wallet's nonce is within what the guard
 * approved. The watermarks are read BEFORE the nonces: the guard raises a watermark before the signer
 * may sign, so any transaction the nonce read counts had its watermark written before the watermark
 * read — read the other way round, a withdrawal approved and broadcast between the two reads would
 * look stolen.
 */
export function watermarkCheck(deps: WatermarkCheckDeps): PollCheck {
  const { config, chain } = deps;
  const log = watermarkLogOf(deps.approvals, chain.id);
  const reader = nonceReaderOf(deps.reader, chain.id);
  const tag = config.watermark.pending ? 'pending' : 'latest';
  return async () => {
    const approved = await log.nonceWatermarks(chain.id);
    const observed = await reader.nextNonces(tag);
    const breaches = nonceBreaches(chain.id, observed, approved, undefined, tag);
    if (breaches.length === 0) return undefined;
    return (state, nowMs) => watermarkStep(state, breaches, config, nowMs);
  };
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
