/**
 * A stand-in for the Fireblocks API Co-signer's side of the callback protocol, built from what
 * Fireblocks documents (developers.fireblocks.com: approve-transactions, response-object,
 * basic-code-example, authenticate) and the payload of the public sample (fireblocks/eth_tx_validation):
 *
 * - requests are the compact RS256 JWT as the raw body, header `{"alg":"RS256","typ":"JWT"}`, no
 *   `iat`/`exp` (none in the documented sample), POSTed to `<base><prefix>/v2/tx_sign_request`
 *   or `/v2/config_change_sign_request`;
 * - an answer counts only when it is HTTP 200 whose body verifies as RS256 under the callback's
 *   public key and echoes the requestId; anything else fails the request, as does no answer
 *   within the deadline (30 s documented; tests pass a shorter one to stay fast);
 * - RETRY re-sends the identical token after the retry interval (3 min by default, documented).
 */
import { generateKeyPairSync } from 'node:crypto';
import { importPKCS8, importSPKI, jwtVerify, SignJWT } from 'jose';

export const COSIGNER_DEADLINE_MS = 30_000;
export const COSIGNER_RETRY_INTERVAL_MS = 180_000;

export interface KeyPairPem {
  publicKeyPem: string;
  privateKeyPem: string;
}

export function rsaKeyPair(bits = 2048): KeyPairPem {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

export type CosignerOutcome =
  | { kind: 'answered'; action: string; rejectionReason?: string; attempts: number; elapsedMs: number }
  | { kind: 'failed'; reason: string; status?: number; attempts: number; elapsedMs: number };

export interface CosignerOptions {
  /** `http://127.0.0.1:port` plus the custom prefix set in the co-signer. */
  baseUrl: string;
  /** The callback's public key, as given to the co-signer. */
  callbackPublicKeyPem: string;
  deadlineMs?: number;
  retryIntervalMs?: number;
  /** Bound on RETRY re-sends (the real co-signer stops after 60 min by default). */
  maxAttempts?: number;
  /** The co-signer's own key pair; its public half is what the handler is configured with. @default a new RSA-2048 pair */
  keys?: KeyPairPem;
}

export class FireblocksCosignerStandIn {
  readonly keys: KeyPairPem;
  readonly #options: Required<Omit<CosignerOptions, 'keys'>>;
  /** Every HTTP attempt made, for assertions on re-sends. */
  readonly sent: { path: string; token: string }[] = [];

  constructor(options: CosignerOptions) {
    const { keys, ...rest } = options;
    this.keys = keys ?? rsaKeyPair();
    this.#options = {
      deadlineMs: COSIGNER_DEADLINE_MS,
      retryIntervalMs: COSIGNER_RETRY_INTERVAL_MS,
      maxAttempts: 20,
      ...rest,
    };
  }

  /** Sign a payload exactly as the co-signer does. */
  async mint(payload: Record<string, unknown>): Promise<string> {
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .sign(await importPKCS8(this.keys.privateKeyPem, 'RS256'));
  }

  /** Ask about a transaction (signing or approval stage): mint, send, follow RETRY. */
  async signRequest(payload: Record<string, unknown>): Promise<CosignerOutcome> {
    return this.send('/v2/tx_sign_request', await this.mint(payload), String(payload.requestId));
  }

  async configChangeRequest(payload: Record<string, unknown>): Promise<CosignerOutcome> {
    return this.send('/v2/config_change_sign_request', await this.mint(payload), String(payload.requestId));
  }

  /** POST a raw body (a token, or anything a forger sends) and judge the answer as the co-signer would. */
  async send(path: string, body: string, requestId: string): Promise<CosignerOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const callbackKey = await importSPKI(this.#options.callbackPublicKeyPem, 'RS256');
    for (let attempt = 1; attempt <= this.#options.maxAttempts; attempt++) {
      this.sent.push({ path, token: body });
      let res: Response;
      try {
        res = await fetch(`${this.#options.baseUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body,
          signal: AbortSignal.timeout(this.#options.deadlineMs),
        });
      } catch (e) {
        const timedOut = (e as Error).name === 'TimeoutError';
        return {
          kind: 'failed',
          reason: timedOut ? `no answer within ${this.#options.deadlineMs} ms` : String(e),
          attempts: attempt,
          elapsedMs: elapsed(),
        };
      }
      const text = await res.text();
      if (res.status !== 200) {
        return {
          kind: 'failed',
          reason: `HTTP ${res.status}`,
          status: res.status,
          attempts: attempt,
          elapsedMs: elapsed(),
        };
      }
      let claims: Record<string, unknown>;
      try {
        claims = (await jwtVerify(text, callbackKey, { algorithms: ['RS256'] })).payload;
      } catch (e) {
        return {
          kind: 'failed',
          reason: `answer not signed by the callback key: ${(e as Error).message}`,
          attempts: attempt,
          elapsedMs: elapsed(),
        };
      }
      if (claims.requestId !== requestId) {
        return {
          kind: 'failed',
          reason: `answer for requestId ${String(claims.requestId)}`,
          attempts: attempt,
          elapsedMs: elapsed(),
        };
      }
      if (claims.action === 'RETRY') {
        await new Promise((r) => setTimeout(r, this.#options.retryIntervalMs));
        continue;
      }
      if (!['APPROVE', 'REJECT', 'IGNORE'].includes(String(claims.action))) {
        return {
          kind: 'failed',
          reason: `unknown action ${String(claims.action)}`,
          attempts: attempt,
          elapsedMs: elapsed(),
        };
      }
      return {
        kind: 'answered',
        action: String(claims.action),
        ...(typeof claims.rejectionReason === 'string' ? { rejectionReason: claims.rejectionReason } : {}),
        attempts: attempt,
        elapsedMs: elapsed(),
      };
    }
    return {
      kind: 'failed',
      reason: 'still RETRY after the last attempt',
      attempts: this.#options.maxAttempts,
      elapsedMs: elapsed(),
    };
  }
}

export interface TransferPayloadInput {
  requestId: string;
  txId?: string;
  asset: string;
  amountStr: string;
  destAddress: string;
  /** Signing-stage requests carry `fee` and `displayDstAddress`; approval-stage ones do not. */
  stage: 'signing' | 'approval';
  operation?: string;
  /** Several outputs (a UTXO batch payout): each with its own address and amount. */
  outputs?: { address: string; amountStr: string }[];
}

/**
 * A transaction payload with the documented fields (the sample in fireblocks/eth_tx_validation and
 * the Approve Transactions reference), including ones the breaker ignores.
 */
export function transferPayload(input: TransferPayloadInput): Record<string, unknown> {
  const signing = input.stage === 'signing';
  const outputs = input.outputs ?? [{ address: input.destAddress, amountStr: input.amountStr }];
  return {
    txId: input.txId ?? `tx-${input.requestId}`,
    operation: input.operation ?? 'TRANSFER',
    sourceType: 'VAULT',
    sourceId: '0',
    destType: 'ONE_TIME',
    destId: '',
    asset: input.asset,
    amount: Number(input.amountStr),
    amountStr: input.amountStr,
    requestedAmount: Number(input.amountStr),
    requestedAmountStr: input.amountStr,
    ...(signing ? { fee: '0.000597803762241000' } : {}),
    destAddressType: 'ONE_TIME',
    destAddress: input.destAddress,
    destinations: outputs.map((o) => ({
      amountNative: Number(o.amountStr),
      amountNativeStr: o.amountStr,
      amountUSD: 18.74292937,
      dstAddressType: 'ONE_TIME',
      dstId: '',
      dstWalletId: '',
      dstName: 'N/A',
      dstSubType: '',
      dstType: 'ONE_TIME',
      ...(signing ? { displayDstAddress: o.address } : {}),
      action: 'ALLOW',
      actionInfo: {
        capturedRuleNum: 5,
        rulesSnapshotId: 8164,
        byGlobalPolicy: false,
        byRule: true,
        rulePolicyAction: 'ALLOW',
      },
    })),
    requestId: input.requestId,
    note: '',
    extraParameters: {},
    players: ['21926ecc-4a8a-4614-bbac-7c591aa7efdd', '27900737-46f6-4ab5-9a0e-9c3e60d4eb47'],
    signerId: 'api-user-1',
  };
}
