/**
 * The types a signing service's own code names, in one place (`hot-wallet-breaker/types`).
 * Type-only: importing it loads nothing.
 */
export type { AssetConfig, BreakerConfig, ChainConfig } from './core/config/types.ts';
export type { ApprovedWithdrawalLog, BreakerStateStore } from './core/ports.ts';
export type { ApprovedWithdrawal } from './core/reconciliation/approved-withdrawal.ts';
export type { BreakerState, TripInfo } from './core/state.ts';
export type { CustodyHandler, CustodyRequest, CustodyResponse } from './custody/transport.ts';
export type { GuardRejection } from './guard/errors.ts';
export type { Approval, BreakerGuard, BreakerGuardOptions, GuardStore } from './guard/guard.ts';
export type { Withdrawal, WithdrawalRequest } from './guard/withdrawal.ts';
