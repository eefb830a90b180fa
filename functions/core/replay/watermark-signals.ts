import type { BreakerConfig } from '../config/types.ts';
import { scopeKey } from '../model.ts';
import type { BreakerStore, PagePublisher } from '../ports.ts';
import { commitState } from '../use-cases/commit-transition.ts';
import { flushOutbox } from '../use-cases/outbox.ts';
import { combineSteps, type DecideStep } from '../use-cases/poll-decision.ts';
import { outpointWatermarkStep } from '../watermark/outpoints.ts';
import { watermarkStep } from '../watermark/watermark.ts';
import type { ScenarioEvent } from './scenario.ts';

/**
 * The watermarks in a replay. Every withdrawal through the signer carried its nonce (EVM) or the
 * outpoints it spends (Bitcoin) to the guard; a stolen-key event is a hot-wallet transaction the guard
 * never saw, so its nonce is above the watermark, or it spends an outpoint never approved. The nonce
 * watermark judges the chain's latest block each poll, so it sees that transaction one poll interval
 * after its block (no confirmations); the outpoint watermark judges the blocks the poll reads, so it
 * sees it when its outflows are seen (confirmations × block time + a poll interval). With
 * `pending: true` both see it at its block time — the replay cannot place a broadcast earlier than
 * the block it is in.
 */
export interface WatermarkSignal {
  /** Scenario seconds at which the check sees it. */
  atS: number;
  chain: string;
  wallet: string;
  /** The transaction (the scenario's `tx`, else a name for the event): what the outpoint page names. */
  tx: string;
}

/** The first stolen-key transaction of each watermarked chain, in the order the checks see them. */
export function watermarkSignals(
  config: BreakerConfig,
  observed: readonly { event: ScenarioEvent; chainId: string; from: string }[],
): WatermarkSignal[] {
  const first = new Map<string, WatermarkSignal>();
  for (const o of observed) {
    const chain = config.chains.get(o.chainId);
    if (!chain || !config.watermark.chains.has(chain.id) || o.event.via !== 'stolen-key') continue;
    const inBlocks = chain.kind.spendsOutpoints ? chain.confirmations * chain.blockTimeSeconds : 0;
    const atS = o.event.t + (config.watermark.pending ? 0 : inBlocks + chain.pollIntervalSeconds);
    const seen = first.get(chain.id);
    const tx = o.event.tx ?? `scenario-event-${o.event.index}`;
    if (!seen || atS < seen.atS) first.set(chain.id, { atS, chain: chain.id, wallet: o.from, tx });
  }
  return [...first.values()].sort((a, b) => a.atS - b.atS);
}

/** Commit one signal as the production check would, and carry out its pages; the trips it wrote. */
export async function applyWatermarkSignal(
  deps: { config: BreakerConfig; store: BreakerStore; publisher: PagePublisher },
  signal: WatermarkSignal,
  nowMs: number,
): Promise<{ ruleId: string; scope: string; tripId: string }[]> {
  const { config, store, publisher } = deps;
  const tag = config.watermark.pending ? 'pending' : 'latest';
  const { chain, wallet, tx } = signal;
  // Nonces and outpoints are not in a scenario: the thief's first transaction is one past a watermark
  // of nothing, or spends outputs the guard never approved.
  const step: DecideStep = config.chains.get(chain)?.kind.spendsOutpoints
    ? (state, at) =>
        outpointWatermarkStep(state, [{ chain, txid: tx, unapproved: [], wallets: [wallet], tag }], config, at)
    : (state, at) => watermarkStep(state, [{ chain, wallet, highestUsed: 0n, approved: undefined, tag }], config, at);
  const before = await store.getState();
  const decided = await commitState({ store, publisher, clock: { now: () => nowMs } }, combineSteps([step]));
  if (!decided.changed) return [];
  await flushOutbox({ store, publisher }, decided.state);
  return Object.values(decided.state.tripped)
    .filter((t) => !before.tripped[scopeKey(t.scope)])
    .map((t) => ({ ruleId: t.ruleId, scope: scopeKey(t.scope), tripId: t.tripId }));
}
