import type { BreakerConfig, ChainConfig } from '../config/types.ts';
import { ChainReadError, ConfigError } from '../errors.ts';
import type { HotSpend } from '../model.ts';
import type {
  NonceReader,
  NonceWatermarkLog,
  OutpointApprovalLog,
  PendingSpendReader,
  PendingTransactionReader,
} from '../ports.ts';
import { outpointBreaches, outpointWatermarkStep } from '../watermark/outpoints.ts';
import { nonceBreaches, watermarkStep } from '../watermark/watermark.ts';
import type { PollCheck } from './poll-decision.ts';

export interface WatermarkCheckDeps {
  config: BreakerConfig;
  chain: ChainConfig;
  /**
   * The chain reader; on a watermarked chain it must also read nonces (EvmChainReader does), or, on a
   * UTXO chain, report hot-wallet spends in its range reads and, with `pending`, in the mempool
   * (BitcoinChainReader does).
   */
  reader: unknown;
  /** Where the guard's watermarks are: the store that keeps the approvals log. */
  approvals: unknown;
}

/**
 * The watermark as a per-poll check (wired in functions/runtime/compose.ts): it gathers (I/O), then
 * returns a pure step that trips, or undefined when every hot wallet's nonce is within what the guard
 * approved. The nonces are read BEFORE the watermarks: the guard raises a watermark before the signer
 * may sign, so any transaction the nonce read counts had its watermark written before the nonce read,
 * and the later watermark read sees it. Read the other way round, a withdrawal approved and broadcast
 * between the two reads would look stolen (test/watermark/watermark-anvil.test.ts).
 */
export function watermarkCheck(deps: WatermarkCheckDeps): PollCheck {
  if (deps.chain.kind.spendsOutpoints) return outpointCheck(deps);
  const { config, chain } = deps;
  const log = watermarkLogOf(deps.approvals, chain.id);
  const reader = nonceReaderOf(deps.reader, chain.id);
  const tag = config.watermark.pending ? 'pending' : 'latest';
  // Optional: a reader with a pending-transaction filter names the transaction (EvmChainReader has one).
  const filter = config.watermark.pending ? pendingTransactionsOf(deps.reader) : undefined;
  return async () => {
    const observed = await reader.nextNonces(tag);
    const seen = (await filter?.pendingHotTransactions()) ?? [];
    const approved = await log.nonceWatermarks(chain.id);
    const breaches = nonceBreaches(chain.id, observed, approved, undefined, tag, seen);
    if (breaches.length === 0) return undefined;
    return (state, nowMs) => watermarkStep(state, breaches, config, nowMs);
  };
}

/**
 * The spent-outpoint watermark as a per-poll check: every transaction of the blocks the poll read that
 * spends a hot-wallet output, and with `pending` every such transaction in the endpoint's mempool,
 * must spend only outpoints the guard approved. One strongly consistent batch read of the approvals
 * per poll, only when something spent a hot output. As for nonces, the spends are read BEFORE the
 * approvals: an outpoint's approval is written before the signer may sign, so before any transaction
 * spending it exists, and the later approvals read sees it.
 */
function outpointCheck(deps: WatermarkCheckDeps): PollCheck {
  const { config, chain } = deps;
  const log = outpointLogOf(deps.approvals, chain.id);
  const mempool = config.watermark.pending ? pendingReaderOf(deps.reader, chain.id) : undefined;
  return async ({ read }) => {
    if (read && read.hotSpends === undefined) {
      // Judging nothing would look like "no thief": fail the poll loudly instead.
      throw new ChainReadError(`${chain.id}: the range read carries no hot-wallet spends for the outpoint watermark`);
    }
    const spends: HotSpend[] = [...(read?.hotSpends ?? []), ...((await mempool?.pendingHotSpends()) ?? [])];
    if (spends.length === 0) return undefined;
    const approved = await log.approvedOutpoints(
      chain.id,
      spends.flatMap((s) => s.inputs.map((i) => i.outpoint)),
    );
    const breaches = outpointBreaches(chain.id, spends, approved, undefined);
    if (breaches.length === 0) return undefined;
    return (state, nowMs) => outpointWatermarkStep(state, breaches, config, nowMs);
  };
}

function pendingTransactionsOf(reader: unknown): PendingTransactionReader | undefined {
  const r = reader as Partial<PendingTransactionReader> | null;
  return typeof r?.pendingHotTransactions === 'function' ? (r as PendingTransactionReader) : undefined;
}

function outpointLogOf(store: unknown, chain: string): OutpointApprovalLog {
  const log = store as Partial<OutpointApprovalLog> | null;
  if (typeof log?.approvedOutpoints !== 'function') {
    throw new ConfigError('watermark', [`${chain}: the store keeps no approved outpoints (the guard's approvals log)`]);
  }
  return log as OutpointApprovalLog;
}

function pendingReaderOf(reader: unknown, chain: string): PendingSpendReader {
  const r = reader as Partial<PendingSpendReader> | null;
  if (typeof r?.pendingHotSpends !== 'function') {
    throw new ConfigError('watermark', [`${chain}: its chain reader cannot read the mempool (watermark.pending)`]);
  }
  return r as PendingSpendReader;
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
