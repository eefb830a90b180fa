import { BreakerError } from '../core/errors.ts';
import type { TripInfo } from '../core/state.ts';

/** Why the guard refused a withdrawal. Only `halted` is the breaker tripping; every other one is a fail-closed fault. */
export type GuardRejection =
  | 'halted'
  | 'invalid-withdrawal'
  | 'unknown-chain'
  | 'unknown-asset'
  | 'state-unreadable'
  | 'state-missing'
  | 'state-malformed'
  | 'approval-conflict'
  | 'approval-unrecorded'
  | 'timeout';

/**
 * The guard refused to let a withdrawal be signed. Signers catch this one error (or test
 * `isBreakerError(e, 'WITHDRAWAL_HALTED')`) and must not sign. `failedClosed` tells a trip
 * (false: the breaker is halted for this scope) from a fault (true: the breaker could not be read,
 * the request was invalid, or the check took too long) — both mean "do not sign".
 */
export class WithdrawalHaltedError extends BreakerError {
  readonly rejection: GuardRejection;
  readonly failedClosed: boolean;
  readonly withdrawalId: string | undefined;
  /** The trip holding the halt (when `rejection` is 'halted'). */
  readonly trip: TripInfo | undefined;
  /** The halted scope key ('global', 'chain:ethereum') when halted. */
  readonly scope: string | undefined;

  constructor(
    rejection: GuardRejection,
    message: string,
    options: { withdrawalId?: string; trip?: TripInfo; scope?: string; cause?: unknown } = {},
  ) {
    super('WITHDRAWAL_HALTED', message, { cause: options.cause });
    this.rejection = rejection;
    this.failedClosed = rejection !== 'halted';
    this.withdrawalId = options.withdrawalId;
    this.trip = options.trip;
    this.scope = options.scope;
  }
}

export function isWithdrawalHalted(e: unknown): e is WithdrawalHaltedError {
  return e instanceof WithdrawalHaltedError;
}
