/**
 * What a signing service embeds (docs/SIGNER.md): the guard as a function or a middy middleware,
 * its HTTP callback form, and the verification of the breaker's signed kill-switch webhook.
 */

export {
  type KillSwitchWebhookBody,
  parseKillSwitchWebhook,
  SIGNATURE_HEADER,
  signBody,
  verifySignature,
} from '../kill-switch-protocol/index.ts';
export { type GuardRejection, isWithdrawalHalted, WithdrawalHaltedError } from './errors.ts';
export {
  type Approval,
  type BreakerGuard,
  type BreakerGuardOptions,
  createBreakerGuard,
  GUARD_METRICS,
  type GuardLogger,
  type GuardMetrics,
  type GuardStore,
  guardWithdrawal,
} from './guard.ts';
export {
  createGuardHttpHandler,
  type GuardAnswer,
  type GuardHttpOptions,
  guardFunctionUrlHandler,
  guardHttpListener,
} from './http-endpoint.ts';
export { createKillSwitch, type HaltDecision, type WithdrawalScope } from './kill-switch.ts';
export { type BreakerGuardContext, type BreakerGuardMiddlewareOptions, breakerGuard } from './middleware.ts';
export type { Withdrawal, WithdrawalRequest } from './withdrawal.ts';
