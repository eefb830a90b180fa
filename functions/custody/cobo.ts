import { createHash, createPublicKey, ECDH, type KeyObject, verify } from 'node:crypto';
import { z } from 'zod';
import type { BreakerConfig } from '../core/config/types.ts';
import type { CoboSettings } from '../core/custody/config.ts';
import { type Clock, systemClock } from '../core/time.ts';
import { createBreakerGuard, type GuardLogger, type GuardStore } from '../guard/guard.ts';
import { parseWithdrawal, type WithdrawalRequest } from '../guard/withdrawal.ts';
import { type PlatformAssets, resolvePlatformAssets, wholeUnitsToBase } from './assets.ts';
import { approveAll, type CustodyDecision, withDeadline } from './decide.ts';
import { type CustodyHandler, type CustodyRequest, header, text } from './transport.ts';

/**
 * The breaker as a Cobo WaaS callback endpoint (docs/CUSTODY.md). Before a withdrawal made through
 * the WaaS API goes on, Cobo POSTs it to the registered callback URL and waits for HTTP 200/201
 * with the body `ok` (approve) or `deny` [cobo.com/developers/v2/guides/webhooks-callbacks/introduction;
 * v1 …/withdrawal-confirmation]. Requests are signed over `<raw body>|<Biz-Timestamp>`, hashed
 * twice with SHA-256: WaaS 2.0 with Ed25519, WaaS 1.0 with secp256k1 ECDSA (DER, hex)
 * [Cobo's sample callback servers; CoboGlobal/cobo-java-api LocalSigner.verifyEcdsaSignature].
 *
 * - `ok` only when the guard approved (and recorded) every output;
 * - `deny` on a halt, on anything the breaker cannot value, on a fault when `onFault` is `deny`;
 * - with `onFault: retry` a fault gets no `ok`/`deny` but HTTP 503, and Cobo pushes the callback
 *   again (documented for 1.0: "Failure to provide this response will result in continued pushes").
 * Cobo's payload carries no freshness claim of its own, so the signed timestamp must be within
 * `toleranceSeconds` of now (our bound, not a documented one) and the id makes re-pushes idempotent.
 */

export interface CoboCallbackOptions {
  store: GuardStore;
  config: BreakerConfig;
  settings: CoboSettings;
  clock?: Clock;
  logger?: GuardLogger;
}

/** WaaS 2.0: the Transaction object; amounts are whole-unit decimal strings ("1.5"). */
const outputSchema = z.object({ address: z.string(), amount: z.string() }).loose();
const v2Schema = z
  .object({
    transaction_id: z.string().min(1),
    type: z.string().optional(),
    token_id: z.string(),
    destination: z
      .object({
        destination_type: z.string(),
        account_output: outputSchema.optional(),
        utxo_outputs: z.array(outputSchema).optional(),
      })
      .loose(),
  })
  .loose();

/** WaaS 1.0: the withdrawal record; `amount` is in base units, `decimal` states the coin's decimals. */
const v1Schema = z
  .object({
    id: z.union([z.string(), z.number()]).transform(String),
    request_id: z.string().optional(),
    coin: z.string(),
    side: z.string(),
    address: z.string(),
    amount: z.union([z.string(), z.number()]).transform(String),
    decimal: z.number().int().optional(),
  })
  .loose();

export function createCoboCallback(options: CoboCallbackOptions): CustodyHandler {
  const { config, settings } = options;
  const assets = resolvePlatformAssets(settings.tokens, config, 'custody.cobo.tokens');
  const verifySignature = signatureVerifier(settings);
  const guard = createBreakerGuard({ store: options.store, config, logger: options.logger });
  const clock = options.clock ?? systemClock;

  const decide = async (body: unknown, signal: AbortSignal): Promise<CustodyDecision> => {
    const planned = settings.signature === 'ed25519' ? planV2(body, assets) : planV1(body, assets);
    if (!planned.ok) return { kind: 'reject', reason: planned.reason };
    for (const request of planned.requests) {
      const parsed = parseWithdrawal(request, config);
      if (!parsed.ok) return { kind: 'reject', reason: `${request.withdrawalId}: ${parsed.problem}` };
    }
    return approveAll(guard, planned.requests, signal);
  };

  return async (req: CustodyRequest) => {
    if (req.method === 'GET' && req.path.split('?')[0] === '/healthz') return text(200, 'healthy');
    if (req.method !== 'POST') return text(405, 'only POST is served');
    const timestamp = header(req, 'biz-timestamp') ?? header(req, 'biz_timestamp');
    const signature = header(req, 'biz-resp-signature') ?? header(req, 'biz_resp_signature');
    if (!timestamp || !signature) return text(401, 'Biz-Timestamp and Biz-Resp-Signature are required');
    if (
      !/^\d{10,16}$/.test(timestamp) ||
      Math.abs(clock.now() - Number(timestamp)) > settings.toleranceSeconds * 1000
    ) {
      return text(401, `Biz-Timestamp ${timestamp} is not within ${settings.toleranceSeconds} s of now`);
    }
    if (!verifySignature(`${req.body}|${timestamp}`, signature)) {
      options.logger?.error('cobo callback: signature not verified', {});
      return text(401, 'signature not verified with Cobo’s public key');
    }
    let body: unknown;
    try {
      body = JSON.parse(req.body);
    } catch {
      return text(200, 'deny');
    }
    const decision = await withDeadline(settings.timeoutMs, (signal) => decide(body, signal));
    if (decision.kind === 'approve') return text(200, 'ok');
    options.logger?.warn('cobo callback: refused', { reason: decision.reason });
    if (decision.kind === 'fault' && settings.onFault === 'retry')
      return text(503, `breaker fault: ${decision.reason}`);
    return text(200, 'deny');
  };
}

type Plan = { ok: true; requests: WithdrawalRequest[] } | { ok: false; reason: string };

function planV2(body: unknown, assets: PlatformAssets): Plan {
  const parsed = v2Schema.safeParse(body);
  if (!parsed.success) return { ok: false, reason: `not a WaaS 2.0 transaction: ${parsed.error.issues[0]?.message}` };
  const tx = parsed.data;
  if (tx.type !== undefined && tx.type !== 'Withdrawal') return { ok: false, reason: `transaction type ${tx.type}` };
  if (tx.destination.destination_type !== 'Address') {
    return {
      ok: false,
      reason: `destination type ${tx.destination.destination_type} is not a transfer the breaker can value`,
    };
  }
  const asset = assets.get(tx.token_id);
  if (!asset) return { ok: false, reason: `token ${tx.token_id} is not mapped in custody.cobo.tokens` };
  const outputs = tx.destination.utxo_outputs?.length
    ? tx.destination.utxo_outputs
    : tx.destination.account_output
      ? [tx.destination.account_output]
      : [];
  if (outputs.length === 0) return { ok: false, reason: 'no destination output in the transaction' };
  const requests: WithdrawalRequest[] = [];
  for (const [i, out] of outputs.entries()) {
    const withdrawalId = outputs.length > 1 ? `cobo:${tx.transaction_id}:${i}` : `cobo:${tx.transaction_id}`;
    try {
      const amount = wholeUnitsToBase(out.amount, asset.decimals);
      requests.push({ withdrawalId, chain: asset.chain, asset: asset.asset, destination: out.address, amount });
    } catch (e) {
      return { ok: false, reason: `${withdrawalId}: ${(e as Error).message} (${tx.token_id})` };
    }
  }
  return { ok: true, requests };
}

function planV1(body: unknown, assets: PlatformAssets): Plan {
  const parsed = v1Schema.safeParse(body);
  if (!parsed.success) return { ok: false, reason: `not a WaaS 1.0 withdrawal: ${parsed.error.issues[0]?.message}` };
  const w = parsed.data;
  if (w.side !== 'withdraw') return { ok: false, reason: `side ${w.side} is not a withdrawal` };
  const asset = assets.get(w.coin);
  if (!asset) return { ok: false, reason: `coin ${w.coin} is not mapped in custody.cobo.tokens` };
  if (w.decimal !== undefined && w.decimal !== asset.decimals) {
    return { ok: false, reason: `coin ${w.coin} has ${w.decimal} decimals at Cobo but ${asset.decimals} in the map` };
  }
  if (!/^\d{1,78}$/.test(w.amount)) return { ok: false, reason: `amount ${w.amount} is not base units` };
  const withdrawalId = `cobo:${w.request_id || w.id}`;
  return {
    ok: true,
    requests: [
      { withdrawalId, chain: asset.chain, asset: asset.asset, destination: w.address, amount: BigInt(w.amount) },
    ],
  };
}

/** Verify Cobo's signature over `message`: SHA-256 twice, then Ed25519 (2.0) or secp256k1 ECDSA (1.0). */
function signatureVerifier(settings: CoboSettings): (message: string, signatureHex: string) => boolean {
  const key = coboPublicKey(settings);
  return (message, signatureHex) => {
    if (!/^([0-9a-fA-F]{2}){8,80}$/.test(signatureHex)) return false;
    const once = createHash('sha256').update(message, 'utf8').digest();
    const signature = Buffer.from(signatureHex, 'hex');
    try {
      return settings.signature === 'ed25519'
        ? verify(null, createHash('sha256').update(once).digest(), key, signature)
        : // ECDSA hashes its input once more: the signed digest is SHA-256(SHA-256(message)).
          verify('sha256', once, { key, dsaEncoding: 'der' }, signature);
    } catch {
      return false;
    }
  };
}

function coboPublicKey(settings: CoboSettings): KeyObject {
  if (settings.signature === 'ed25519') {
    if (settings.publicKey.length !== 64)
      throw new TypeError('custody.cobo.publicKey: an Ed25519 key is 64 hex characters');
    return createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(settings.publicKey, 'hex').toString('base64url') },
      format: 'jwk',
    });
  }
  if (settings.publicKey.length !== 66) {
    throw new TypeError('custody.cobo.publicKey: a secp256k1 key is a 66-hex-character compressed point');
  }
  const point = ECDH.convertKey(settings.publicKey, 'secp256k1', 'hex', undefined, 'uncompressed') as Buffer;
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'secp256k1',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  });
}
