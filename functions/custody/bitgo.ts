import { createHash, timingSafeEqual } from 'node:crypto';
import type { BreakerConfig } from '../core/config/types.ts';
import type { BitgoSettings } from '../core/custody/config.ts';
import { createBreakerGuard, type GuardLogger, type GuardStore } from '../guard/guard.ts';
import { createKillSwitch } from '../guard/kill-switch.ts';
import { parseWithdrawal, type WithdrawalRequest } from '../guard/withdrawal.ts';
import { type PlatformAssets, resolvePlatformAssets } from './assets.ts';
import { approveAll, approveWhenArmed, type CustodyDecision, withDeadline } from './decide.ts';
import { type CustodyHandler, type CustodyRequest, text } from './transport.ts';

/**
 * The breaker as the URL of a BitGo webhook policy rule (docs/CUSTODY.md). For each transaction of
 * a wallet with the rule, BitGo POSTs the transaction and reads only the status: 200 continues,
 * anything else triggers the rule's action — deny, or hold for a named approver
 * [developers.bitgo.com/docs/policies-webhook]. So every refusal here is a non-200, and a fault is
 * one too: there is no "ask again".
 *
 * Undocumented, so named in config (`custody.bitgo.fields`) rather than guessed silently: the body's
 * key names (BitGo lists its content only in prose) and the unit of output amounts (assumed base
 * units, as every BitGo wallet amount elsewhere). Also undocumented: any authentication of the
 * plain webhook — so the URL carries a secret path token, compared in constant time. BitGo's
 * optional signed-JWT mode (webhook signing keys) is not built: where its token travels and what it
 * claims is not published.
 */

export const BITGO_PATH = '/bitgo/';
const MIN_TOKEN_CHARS = 32;

export interface BitgoPolicyOptions {
  store: GuardStore;
  config: BreakerConfig;
  settings: Omit<BitgoSettings, 'pathTokenEnv'>;
  /** The secret path segment: the policy URL is `https://<host>/bitgo/<pathToken>`. */
  pathToken: string;
  logger?: GuardLogger;
}

export function createBitgoPolicy(options: BitgoPolicyOptions): CustodyHandler {
  const { config, settings } = options;
  if (
    typeof options.pathToken !== 'string' ||
    !/^[A-Za-z0-9_-]+$/.test(options.pathToken) ||
    options.pathToken.length < MIN_TOKEN_CHARS
  ) {
    throw new TypeError(
      `BitGo policy: the path token must be ≥ ${MIN_TOKEN_CHARS} URL-safe characters (letters, digits, _ -)`,
    );
  }
  const wallets = resolvePlatformAssets(settings.wallets, config, 'custody.bitgo.wallets');
  const guard = createBreakerGuard({ store: options.store, config, logger: options.logger });
  const killSwitch = createKillSwitch(options.store);
  const expected = digest(`${BITGO_PATH}${options.pathToken}`);

  const decide = async (rawBody: string, signal: AbortSignal): Promise<CustodyDecision> => {
    const planned = plan(rawBody, wallets, settings.fields, config);
    if (!planned.ok) return { kind: 'reject', reason: planned.reason };
    for (const request of planned.requests) {
      const parsed = parseWithdrawal(request, config);
      if (!parsed.ok) return { kind: 'reject', reason: `${request.withdrawalId}: ${parsed.problem}` };
    }
    if (planned.requests.length === 0) {
      // Every output goes to the breaker's own addresses (a consolidation): nothing to record, only the halt to respect.
      return approveWhenArmed(killSwitch, [planned.chain]);
    }
    return approveAll(guard, planned.requests, signal);
  };

  return async (req: CustodyRequest) => {
    const path = req.path.split('?')[0] ?? '';
    // A wrong token looks like any unknown path: nothing tells a prober it was close.
    if (req.method !== 'POST' || !timingSafeEqual(digest(path), expected)) return text(404, 'not found');
    const decision = await withDeadline(settings.timeoutMs, (signal) => decide(req.body, signal));
    if (decision.kind === 'approve') return text(200, 'approved by the breaker');
    options.logger?.warn('bitgo policy: refused', { reason: decision.reason });
    return decision.kind === 'fault' ? text(503, `breaker fault: ${decision.reason}`) : text(403, decision.reason);
  };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

type Plan = { ok: true; chain: string; requests: WithdrawalRequest[] } | { ok: false; reason: string };

function plan(rawBody: string, wallets: PlatformAssets, fields: BitgoSettings['fields'], config: BreakerConfig): Plan {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(rawBody) as Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  const walletId = body?.[fields.walletId];
  if (typeof walletId !== 'string') return { ok: false, reason: `no wallet id in "${fields.walletId}"` };
  const asset = wallets.get(walletId);
  if (!asset) return { ok: false, reason: `wallet ${walletId} is not mapped in custody.bitgo.wallets` };
  const outputs = body[fields.outputs];
  if (!Array.isArray(outputs) || outputs.length === 0)
    return { ok: false, reason: `no outputs in "${fields.outputs}"` };
  const chain = config.chains.get(asset.chain);
  const own = chain?.ownAddresses ?? new Set<string>();
  const normalise = (address: string) => (chain ? chain.kind.address.normalise(address) : address);
  // The same body always names the same transaction (it carries the half-signed hex): its hash is the id.
  const id = createHash('sha256').update(rawBody).digest('hex').slice(0, 40);
  const requests: WithdrawalRequest[] = [];
  for (const [i, out] of outputs.entries()) {
    const address = (out as Record<string, unknown>)?.[fields.outputAddress];
    const amount = (out as Record<string, unknown>)?.[fields.outputAmount];
    if (typeof address !== 'string')
      return { ok: false, reason: `output ${i}: no address in "${fields.outputAddress}"` };
    const units = typeof amount === 'number' && Number.isSafeInteger(amount) ? String(amount) : amount;
    if (typeof units !== 'string' || !/^\d{1,78}$/.test(units)) {
      return { ok: false, reason: `output ${i}: "${fields.outputAmount}" is not base units` };
    }
    if (own.has(normalise(address))) continue;
    requests.push({
      withdrawalId: `bitgo:${id}:${i}`,
      chain: asset.chain,
      asset: asset.asset,
      destination: address,
      amount: units,
    });
  }
  return { ok: true, chain: asset.chain, requests };
}
