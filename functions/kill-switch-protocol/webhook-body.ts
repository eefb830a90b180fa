import { z } from 'zod';
import {
  encodeKillSwitchValue,
  isHaltedFromParameter,
  type KillSwitchDecision,
  type KillSwitchSource,
  type KillSwitchValue,
  parseKillSwitchValue,
} from './kill-switch-value.ts';
import { DEFAULT_TOLERANCE_SECONDS, SIGNATURE_HEADER, verifySignature } from './webhook-signature.ts';

/**
 * The body of the breaker's kill-switch webhook. `killSwitch` is exactly the SSM parameter's value
 * (so one decision function serves both: isHaltedFromParameter). `mode` is what this webhook's
 * layer is told: engaged when a halt covers `chains` (every chain when null).
 *
 *   {"type":"breaker.kill-switch","deployment":"prod","mode":"engaged","chains":null,"sentAtMs":…,
 *    "killSwitch":{"halted":true,"scopes":["global"],"version":7,"updatedAt":"…","trips":[…]}}
 */
export interface KillSwitchWebhookBody {
  type: 'breaker.kill-switch';
  deployment: string;
  mode: 'engaged' | 'released';
  chains: string[] | null;
  sentAtMs: number;
  killSwitch: KillSwitchValue;
}

export function encodeKillSwitchWebhook(
  state: KillSwitchSource,
  deployment: string,
  mode: 'engaged' | 'released',
  chains: readonly string[] | undefined,
  nowMs: number,
): string {
  const body: KillSwitchWebhookBody = {
    type: 'breaker.kill-switch',
    deployment,
    mode,
    chains: chains ? [...chains] : null,
    sentAtMs: nowMs,
    killSwitch: parseKillSwitchValue(encodeKillSwitchValue(state)),
  };
  return JSON.stringify(body);
}

const bodySchema = z
  .object({
    type: z.literal('breaker.kill-switch'),
    deployment: z.string(),
    mode: z.enum(['engaged', 'released']),
    chains: z.array(z.string()).nullable(),
    sentAtMs: z.number(),
    killSwitch: z.unknown(),
  })
  .loose();

/** Who is receiving: the shared secret(s), and the deployment whose messages it accepts. */
export interface KillSwitchReceiver {
  /** One secret, or several during a rotation; each at least 16 characters. */
  secrets: string | readonly string[];
  /**
   * The breaker deployment (its config `name`) this receiver listens to. A message for another
   * deployment is refused even when it verifies, so a staging "released" can never re-arm
   * production's signer if the two ever share a secret.
   */
  deployment: string;
  /** @default 300 */
  toleranceSeconds?: number;
}

export type KillSwitchWebhook =
  | { ok: true; body: KillSwitchWebhookBody; decide(chain: string): KillSwitchDecision }
  | { ok: false; reason: string };

/**
 * For the signing service's webhook endpoint: verify the signature over the raw body (before
 * parsing), then parse and check the deployment. A failure means "ignore this request" — answer
 * 401/400 and keep the current kill-switch state; never un-halt on a request you could not verify.
 * What to keep from a verified one: keepKillSwitch. Throws RangeError when a secret is shorter than
 * 16 characters (a receiver misconfiguration, never a request's fault).
 */
export function parseKillSwitchWebhook(
  receiver: KillSwitchReceiver,
  rawBody: string,
  headers: Record<string, string | string[] | undefined>,
  nowMs: number,
): KillSwitchWebhook {
  const { secrets, deployment, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS } = receiver;
  if (typeof deployment !== 'string' || deployment === '') {
    throw new RangeError('kill-switch webhook receiver: deployment (the breaker config name) is required');
  }
  const check = verifySignature(secrets, rawBody, headers[SIGNATURE_HEADER], nowMs, toleranceSeconds);
  if (!check.ok) return { ok: false, reason: `signature ${check.reason}` };
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  const parsed = bodySchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'not a breaker.kill-switch body' };
  if (parsed.data.deployment !== deployment) {
    return { ok: false, reason: `deployment "${parsed.data.deployment}" is not this receiver's ("${deployment}")` };
  }
  let killSwitch: KillSwitchValue;
  try {
    killSwitch = parseKillSwitchValue(JSON.stringify(parsed.data.killSwitch), 'webhook killSwitch');
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  const body: KillSwitchWebhookBody = { ...parsed.data, killSwitch } as KillSwitchWebhookBody;
  return { ok: true, body, decide: (chain) => isHaltedFromParameter(killSwitch, chain) };
}
