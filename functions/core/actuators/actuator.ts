import type { BreakerState } from '../state.ts';

/**
 * The kill switch's layers beyond the table flag. The table's state item is the truth; each layer
 * is brought in line with it whenever the outbox is flushed (after every trip and reset, and at
 * each poller start), so a layer that failed or was never reached converges on the next flush.
 * Layers are level-triggered — "make it match the state", not "do this once" — which makes every
 * layer idempotent by construction.
 */

/** Engaged: signing must stop (something covering the layer's chains is halted). Released: armed. */
export type ActuatorMode = 'engaged' | 'released';

export interface Actuator {
  /** Stable id, e.g. `lambda-concurrency`, used in audit ids, page ids and memory keys. */
  readonly id: string;
  /** For humans: "reserved concurrency 0 on Lambda functions signer-eth, signer-btc". */
  readonly description: string;
  /** The halts that engage it: any halt when undefined, else 'global' or one of these chains. */
  readonly chains?: readonly string[];
  /**
   * `scopes`: the layer carries the halted scopes themselves (SSM parameter, webhook), so it is
   * re-applied whenever they change; `mode`: only engaged/released matters (Lambda, KMS).
   */
  readonly follows: 'scopes' | 'mode';
  /**
   * Bring the layer to `mode` for `state`. Idempotent; throws when the layer could not be brought
   * there. Returns what was done, for the audit record.
   */
  apply(mode: ActuatorMode, state: BreakerState, options?: ApplyOptions): Promise<Record<string, unknown>>;
  /**
   * Read the layer back as it is now, for the per-poll self-check (checkLayer). Absent when the
   * layer cannot be read back (the webhook: the receiver keeps its state to itself).
   */
  readBack?(): Promise<LayerReading>;
  /** What an operator does by hand when this layer fails (for the page). */
  manualSteps(mode: ActuatorMode): string[];
}

export interface ApplyOptions {
  /**
   * The self-check found the layer disagreeing with the state it was read against: write it even
   * where the layer would normally defer to what it holds (a stored version ahead of the state's).
   */
  repair?: boolean;
}

/** What a layer enforces right now, as read back from it. */
export type LayerReading =
  | { readable: false; problem: string }
  | {
      readable: true;
      /** Signing is stopped by this layer (for `mode` layers: on every resource it covers). */
      engaged: boolean;
      /** `scopes` layers: the halted scopes the layer carries. */
      scopes?: readonly string[];
      /** `scopes` layers: the state version the layer carries. */
      version?: number;
      /** For humans: what was read ("signer-eth: reserved 5; signer-btc: reserved 0"). */
      detail: string;
    };

/** Durable memory for actuators: what was applied, and what to restore on release. */
export interface ActuatorMemo {
  key: string;
  /** Optimistic-concurrency version: 1 for the first write. */
  version: number;
  data: Record<string, unknown>;
  updatedAtMs: number;
}

export interface ActuatorMemory {
  getMemo(key: string): Promise<ActuatorMemo | undefined>;
  /** Write `memo` if the stored one has `expectedVersion` (undefined: none stored); false on a race. */
  putMemo(memo: ActuatorMemo, expectedVersion: number | undefined): Promise<boolean>;
}

/** Is a layer covering `chains` (any chain when undefined) engaged by `state`? */
export function modeFor(state: Pick<BreakerState, 'tripped'>, chains: readonly string[] | undefined): ActuatorMode {
  const keys = Object.keys(state.tripped ?? {});
  if (chains === undefined) return keys.length > 0 ? 'engaged' : 'released';
  return keys.includes('global') || chains.some((c) => keys.includes(`chain:${c}`)) ? 'engaged' : 'released';
}

/** What a layer must reflect: the mode, plus (for `scopes` layers) which trips hold it. */
export function signatureFor(actuator: Pick<Actuator, 'chains' | 'follows'>, state: BreakerState): string {
  const mode = modeFor(state, actuator.chains);
  if (actuator.follows === 'mode') return mode;
  const trips = Object.entries(state.tripped)
    .map(([scope, trip]) => `${scope}=${trip.tripId}`)
    .sort();
  return `${mode}:${trips.join(',')}`;
}
