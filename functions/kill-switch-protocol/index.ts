/**
 * The kill switch's wire format, shared by the breaker (which writes it) and signing services
 * (which read it): the SSM parameter value, the signed webhook body and its HMAC signature.
 * Depends on zod and node:crypto only, so a signer can verify the webhook without any AWS SDK.
 */
export {
  type DecodedKillSwitchValue,
  decodeKillSwitchValue,
  encodeKillSwitchValue,
  isHaltedFromParameter,
  KILL_SWITCH_MAX_VALUE_BYTES,
  type KillSwitchDecision,
  type KillSwitchSource,
  type KillSwitchTrip,
  type KillSwitchValue,
  KillSwitchValueError,
  keepKillSwitch,
  parseKillSwitchValue,
} from './kill-switch-value.ts';
export {
  encodeKillSwitchWebhook,
  type KillSwitchReceiver,
  type KillSwitchWebhook,
  type KillSwitchWebhookBody,
  parseKillSwitchWebhook,
} from './webhook-body.ts';
export {
  DEFAULT_TOLERANCE_SECONDS,
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  type SignatureCheck,
  signatureOf,
  signBody,
  verifySignature,
} from './webhook-signature.ts';
