import { jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import type { BreakerConfig } from '../core/config/types.ts';
import type { FireblocksSettings } from '../core/custody/config.ts';
import { createBreakerGuard, type GuardLogger, type GuardStore } from '../guard/guard.ts';
import { createKillSwitch } from '../guard/kill-switch.ts';
import { parseWithdrawal, type WithdrawalRequest } from '../guard/withdrawal.ts';
import { type PlatformAssets, resolvePlatformAssets, wholeUnitsToBase } from './assets.ts';
import { approveAll, approveWhenArmed, type CustodyDecision, withDeadline } from './decide.ts';
import { importRs256PrivateKey, importRs256PublicKey } from './rsa-keys.ts';
import { type CustodyHandler, type CustodyRequest, type CustodyResponse, text } from './transport.ts';

/**
 * The breaker as a Fireblocks API Co-signer Callback Handler (docs/CUSTODY.md).
 *
 * The co-signer POSTs `<prefix>/v2/tx_sign_request` and `<prefix>/v2/config_change_sign_request`
 * with the raw RS256 JWT as the body, signed by its own key; the answer is HTTP 200 with a JWT
 * signed by the callback key carrying `{action, requestId, rejectionReason}` [developers.fireblocks.com:
 * approve-transactions, response-object, basic-code-example]. It must come within 30 s or the
 * co-signer fails the request.
 *
 * - APPROVE only when the breaker is armed for the chain and the guard recorded the approval;
 * - REJECT on a halt (never RETRY: a retried request would go through by itself after a reset),
 *   on anything the breaker cannot value (unmapped asset, a non-transfer operation, more decimals
 *   than the asset has), on a reused request id with other details;
 * - a store fault (or a decision slower than `timeoutMs`) answers `onFault`: REJECT, or RETRY when
 *   configured — the co-signer then sends the identical token again later;
 * - approvals are recorded only for signing-stage requests (they carry `fee`/`displayDstAddress`):
 *   an approval-stage request can wait in a human queue for hours, outside reconciliation's window.
 */

export const FIREBLOCKS_TX_PATH = '/v2/tx_sign_request';
export const FIREBLOCKS_CONFIG_CHANGE_PATH = '/v2/config_change_sign_request';

export type FireblocksAction = 'APPROVE' | 'REJECT' | 'RETRY' | 'IGNORE';

export interface FireblocksCallbackOptions {
  store: GuardStore;
  config: BreakerConfig;
  settings: Omit<FireblocksSettings, 'cosignerPublicKeyFile' | 'callbackPrivateKeyFile'>;
  /** PEM of the co-signer's public key: requests must verify against it, RS256 only. */
  cosignerPublicKeyPem: string;
  /** PEM of the callback's RSA-2048 private key: every answer is signed with it. */
  callbackPrivateKeyPem: string;
  logger?: GuardLogger;
}

/** Only what the breaker relies on; Fireblocks adds fields over time, so anything else is ignored. */
const destinationSchema = z
  .object({ amountNativeStr: z.string().optional(), displayDstAddress: z.string().optional() })
  .loose();
const txPayloadSchema = z
  .object({
    requestId: z.string().min(1).max(200),
    txId: z.string().optional(),
    operation: z.string(),
    asset: z.string(),
    amountStr: z.string().optional(),
    destAddress: z.string().optional(),
    fee: z.unknown().optional(),
    destinations: z.array(destinationSchema).optional(),
  })
  .loose();
type TxPayload = z.output<typeof txPayloadSchema>;
const configChangeSchema = z.object({ requestId: z.string().min(1).max(200), type: z.string() }).loose();

const MAX_REASON_CHARS = 500;

export async function createFireblocksCallback(options: FireblocksCallbackOptions): Promise<CustodyHandler> {
  const { config, settings } = options;
  const assets = resolvePlatformAssets(settings.assets, config, 'custody.fireblocks.assets');
  const cosignerKey = await importRs256PublicKey(options.cosignerPublicKeyPem, 'Fireblocks co-signer public key');
  const callbackKey = await importRs256PrivateKey(options.callbackPrivateKeyPem, 'Fireblocks callback private key');
  const guard = createBreakerGuard({ store: options.store, config, logger: options.logger });
  const killSwitch = createKillSwitch(options.store);
  const operations = new Set(settings.operations);
  const txPath = `${settings.pathPrefix}${FIREBLOCKS_TX_PATH}`;
  const configChangePath = `${settings.pathPrefix}${FIREBLOCKS_CONFIG_CHANGE_PATH}`;

  const answer = async (
    requestId: string,
    action: FireblocksAction,
    rejectionReason?: string,
  ): Promise<CustodyResponse> => {
    const claims = rejectionReason
      ? { action, requestId, rejectionReason: rejectionReason.slice(0, MAX_REASON_CHARS) }
      : { action, requestId };
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(callbackKey);
    return text(200, token);
  };

  const fromDecision = (requestId: string, d: CustodyDecision): Promise<CustodyResponse> => {
    if (d.kind === 'approve') return answer(requestId, 'APPROVE');
    if (d.kind === 'reject') return answer(requestId, 'REJECT', d.reason);
    return answer(requestId, settings.onFault, `breaker fault: ${d.reason}`);
  };

  /** The payload, or why the token is not the co-signer's (algorithm pinned: `none`, HS*, PS* never verify). */
  const verified = async (body: string): Promise<{ ok: true; payload: unknown } | { ok: false; reason: string }> => {
    try {
      const { payload } = await jwtVerify(body.trim(), cosignerKey, { algorithms: ['RS256'] });
      return { ok: true, payload };
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
  };

  const decideTx = async (tx: TxPayload, signal: AbortSignal): Promise<CustodyDecision> => {
    const planned = plan(tx, assets, operations);
    if (!planned.ok) return { kind: 'reject', reason: planned.reason };
    // Every output is valid before anything is recorded: a batch is approved whole or not at all.
    for (const request of planned.requests) {
      const parsed = parseWithdrawal(request, config);
      if (!parsed.ok) return { kind: 'reject', reason: `${request.withdrawalId}: ${parsed.problem}` };
    }
    if (!planned.signing)
      return approveWhenArmed(
        killSwitch,
        planned.requests.map((r) => r.chain),
      );
    return approveAll(guard, planned.requests, signal);
  };

  return async (req: CustodyRequest) => {
    const path = req.path.split('?')[0] ?? '';
    if (req.method === 'GET' && path === `${settings.pathPrefix}/healthz`) return text(200, 'ok');
    if (req.method !== 'POST' || (path !== txPath && path !== configChangePath)) {
      return text(404, `only POST ${txPath} and ${configChangePath} are served`);
    }
    const token = await verified(req.body);
    if (!token.ok) {
      options.logger?.error('fireblocks callback: request token not verified', { reason: token.reason });
      return text(401, `request token not verified: ${token.reason}`);
    }

    if (path === configChangePath) {
      const change = configChangeSchema.safeParse(token.payload);
      if (!change.success) return text(400, 'config change request without requestId/type');
      // Workspace changes are never approved; while anything is halted (or unreadable) they are refused outright.
      const armed = await withDeadline(settings.timeoutMs, () => approveWhenArmed(killSwitch, config.chains.keys()));
      if (armed.kind !== 'approve') return answer(change.data.requestId, 'REJECT', `breaker halted: ${armed.reason}`);
      return settings.configChanges === 'IGNORE'
        ? answer(
            change.data.requestId,
            'IGNORE',
            'the breaker does not judge workspace changes: left to a Console user',
          )
        : answer(
            change.data.requestId,
            'REJECT',
            `workspace change ${change.data.type} refused by policy (custody.fireblocks.configChanges)`,
          );
    }

    const tx = txPayloadSchema.safeParse(token.payload);
    if (!tx.success) {
      const requestId = (token.payload as { requestId?: unknown })?.requestId;
      const problem = tx.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      return typeof requestId === 'string' && requestId.length > 0
        ? answer(requestId, 'REJECT', `malformed signing request: ${problem}`)
        : text(400, `malformed signing request: ${problem}`);
    }
    const decision = await withDeadline(settings.timeoutMs, (signal) => decideTx(tx.data, signal));
    if (decision.kind !== 'approve') {
      options.logger?.warn('fireblocks callback: refused', { requestId: tx.data.requestId, reason: decision.reason });
    }
    return fromDecision(tx.data.requestId, decision);
  };
}

type Plan = { ok: true; signing: boolean; requests: WithdrawalRequest[] } | { ok: false; reason: string };

/** The withdrawals one co-signer request asks for, in the breaker's terms (exact base units). */
function plan(tx: TxPayload, assets: PlatformAssets, operations: ReadonlySet<string>): Plan {
  if (!operations.has(tx.operation)) {
    return {
      ok: false,
      reason: `operation ${tx.operation} is not one the breaker can value (allowed: ${[...operations].join(', ')})`,
    };
  }
  const asset = assets.get(tx.asset);
  if (!asset) return { ok: false, reason: `asset ${tx.asset} is not mapped in custody.fireblocks.assets` };
  const destinations = tx.destinations ?? [];
  // Documented: `fee` and `displayDstAddress` come with signing requests only.
  const signing = tx.fee !== undefined || destinations.some((d) => d.displayDstAddress !== undefined);
  const outputs =
    destinations.length > 1
      ? destinations.map((d) => ({ address: d.displayDstAddress, amount: d.amountNativeStr }))
      : [{ address: tx.destAddress || destinations[0]?.displayDstAddress, amount: tx.amountStr }];
  const requests: WithdrawalRequest[] = [];
  for (const [i, out] of outputs.entries()) {
    const withdrawalId = outputs.length > 1 ? `fireblocks:${tx.requestId}:${i}` : `fireblocks:${tx.requestId}`;
    if (!out.address) return { ok: false, reason: `${withdrawalId}: no destination address in the request` };
    if (out.amount === undefined) return { ok: false, reason: `${withdrawalId}: no amount string in the request` };
    let amount: bigint;
    try {
      amount = wholeUnitsToBase(out.amount, asset.decimals);
    } catch (e) {
      return { ok: false, reason: `${withdrawalId}: ${(e as Error).message} (${tx.asset})` };
    }
    requests.push({ withdrawalId, chain: asset.chain, asset: asset.asset, destination: out.address, amount });
  }
  return { ok: true, signing, requests };
}
