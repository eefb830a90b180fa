import { haltedScopes } from '../pages/actuator-pages.ts';
import type { BreakerState } from '../state.ts';
import { type Actuator, type LayerReading, modeFor } from './actuator.ts';

/**
 * Does a layer, as read back, enforce what the breaker state says? The answer is what is wrong,
 * one line each (empty: it agrees). Only the direction that matters is checked for `mode` layers:
 * engaged while the state halts them. A released state does not demand "not throttled", because an
 * operator may throttle a signer or disable a key on their own. `scopes` layers carry the state
 * itself, so they must match it exactly, and may never be ahead of it: the reading is taken before
 * the state is read, so a legitimate layer can only lag the state; a version ahead of it was forged
 * or left behind by a state item that was deleted or restored.
 */
export function layerDisagreement(
  actuator: Pick<Actuator, 'chains' | 'follows'>,
  reading: LayerReading,
  state: BreakerState,
): string[] {
  if (!reading.readable) return [`could not be read back: ${reading.problem}`];
  const problems: string[] = [];
  const mode = modeFor(state, actuator.chains);
  if (mode === 'engaged' && !reading.engaged) {
    problems.push(
      `does not stop signing, but the breaker state halts ${haltedScopes(state)} (read: ${reading.detail})`,
    );
  }
  if (actuator.follows === 'scopes' && reading.scopes !== undefined) {
    const want = Object.keys(state.tripped);
    const missing = want.filter((s) => !reading.scopes!.includes(s));
    const extra = reading.scopes.filter((s) => !want.includes(s));
    if (missing.length > 0 && mode === 'engaged' && reading.engaged) {
      problems.push(`does not carry the halted scope(s) ${missing.join(', ')}`);
    }
    if (extra.length > 0) problems.push(`carries scope(s) ${extra.join(', ')} that the breaker state does not halt`);
  }
  if (reading.version !== undefined && reading.version > state.version) {
    problems.push(
      `is at state version ${reading.version}, ahead of the breaker state's version ${state.version} ` +
        '(a forged write, or the state item was deleted or restored)',
    );
  }
  return problems;
}
