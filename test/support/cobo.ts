/**
 * A stand-in for Cobo's side of the WaaS withdrawal callback, from what Cobo documents and its sample
 * servers show (cobo.com/developers v2 webhooks-callbacks, v1 withdrawal-confirmation and
 * callback-signature; CoboGlobal/cobo-java-api LocalSigner):
 *
 * - the body is JSON; headers `Biz-Timestamp` (ms) and `Biz-Resp-Signature` (hex) sign
 *   `<raw body>|<timestamp>` hashed twice with SHA-256 — Ed25519 for WaaS 2.0, secp256k1 ECDSA
 *   (DER) for 1.0;
 * - only HTTP 200/201 with the body `ok` or `deny` is an answer; anything else and Cobo pushes the
 *   same message again (documented for 1.0; re-signed with a new timestamp here, an assumption).
 *
 * Not documented, so assumed: the answer deadline (10 s here) and the re-push interval.
 */
import { createECDH, createHash, createPrivateKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

export type CoboScheme = 'ed25519' | 'ecdsa';

export type CoboOutcome =
  | { kind: 'answered'; answer: 'ok' | 'deny'; pushes: number }
  | { kind: 'failed'; reason: string; status?: number; pushes: number };

export class CoboStandIn {
  readonly publicKeyHex: string;
  readonly #privateKey: KeyObject;
  /** Every push made, for assertions on re-pushes. */
  readonly pushes: { body: string; timestamp: string }[] = [];

  constructor(
    readonly scheme: CoboScheme,
    /** Where the callback listens (set once it is served). */
    public url: string,
    readonly options: { deadlineMs?: number; repushIntervalMs?: number; maxPushes?: number } = {},
  ) {
    if (scheme === 'ed25519') {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      this.#privateKey = privateKey;
      const jwk = publicKey.export({ format: 'jwk' });
      this.publicKeyHex = Buffer.from(jwk.x as string, 'base64url').toString('hex');
    } else {
      const ecdh = createECDH('secp256k1');
      ecdh.generateKeys();
      this.publicKeyHex = ecdh.getPublicKey('hex', 'compressed');
      const pub = ecdh.getPublicKey();
      this.#privateKey = createPrivateKey({
        key: {
          kty: 'EC',
          crv: 'secp256k1',
          d: ecdh.getPrivateKey().toString('base64url'),
          x: pub.subarray(1, 33).toString('base64url'),
          y: pub.subarray(33).toString('base64url'),
        },
        format: 'jwk',
      });
    }
  }

  /** Cobo's signature over `<body>|<timestamp>`, as its SDKs compute it. */
  signatureOf(body: string, timestamp: string, key: KeyObject = this.#privateKey): string {
    const once = createHash('sha256').update(`${body}|${timestamp}`, 'utf8').digest();
    return this.scheme === 'ed25519'
      ? sign(null, createHash('sha256').update(once).digest(), key).toString('hex')
      : sign('sha256', once, { key, dsaEncoding: 'der' }).toString('hex');
  }

  /** Push a withdrawal and follow re-pushes until `ok`/`deny` or the bound. */
  async push(message: Record<string, unknown> | string): Promise<CoboOutcome> {
    const body = typeof message === 'string' ? message : JSON.stringify(message);
    const max = this.options.maxPushes ?? 5;
    for (let n = 1; n <= max; n++) {
      const timestamp = String(Date.now());
      const res = await this.raw(body, {
        'Biz-Timestamp': timestamp,
        'Biz-Resp-Signature': this.signatureOf(body, timestamp),
      });
      this.pushes.push({ body, timestamp });
      if (res.kind === 'failed') return { ...res, pushes: n };
      if ((res.status === 200 || res.status === 201) && (res.text === 'ok' || res.text === 'deny')) {
        return { kind: 'answered', answer: res.text, pushes: n };
      }
      if (n === max) return { kind: 'failed', reason: `HTTP ${res.status} ${res.text}`, status: res.status, pushes: n };
      await new Promise((r) => setTimeout(r, this.options.repushIntervalMs ?? 50));
    }
    return { kind: 'failed', reason: 'no answer', pushes: max };
  }

  /** One POST with the given headers (a forger's, too). */
  async raw(
    body: string,
    headers: Record<string, string>,
  ): Promise<{ kind: 'http'; status: number; text: string } | { kind: 'failed'; reason: string }> {
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
        signal: AbortSignal.timeout(this.options.deadlineMs ?? 10_000),
      });
      return { kind: 'http', status: res.status, text: await res.text() };
    } catch (e) {
      return { kind: 'failed', reason: String(e) };
    }
  }
}

/** A WaaS 2.0 Transaction as pushed to the callback (fields of cobo_waas2 `Transaction`). */
export function coboV2Withdrawal(input: {
  transactionId: string;
  tokenId: string;
  outputs: { address: string; amount: string }[];
  type?: string;
  destinationType?: string;
}): Record<string, unknown> {
  const [first, ...rest] = input.outputs;
  return {
    transaction_id: input.transactionId,
    cobo_id: `2024${input.transactionId.length}000001`,
    request_id: `web_send_by_user_${input.transactionId}`,
    wallet_id: 'f47ac10b-58cc-4372-a567-0e02b2c3d479',
    type: input.type ?? 'Withdrawal',
    status: 'PendingApproval',
    chain_id: input.tokenId.split('_')[0],
    token_id: input.tokenId,
    source: { source_type: 'Org-Controlled', wallet_id: 'f47ac10b-58cc-4372-a567-0e02b2c3d479', address: '0xhot' },
    destination: {
      destination_type: input.destinationType ?? 'Address',
      ...(rest.length > 0 ? { utxo_outputs: input.outputs } : { account_output: { ...first, memo: '' } }),
      force_internal: false,
      force_external: false,
    },
    initiator: 'api-key-1',
    initiator_type: 'API',
    created_timestamp: Date.now(),
    updated_timestamp: Date.now(),
  };
}

/** A WaaS 1.0 withdrawal, the documented example's fields (amount in base units). */
export function coboV1Withdrawal(input: {
  id: string;
  coin: string;
  decimal: number;
  address: string;
  amount: string;
  side?: string;
}): Record<string, unknown> {
  return {
    id: input.id,
    coin: input.coin,
    display_code: input.coin.split('_').at(-1),
    description: input.coin,
    decimal: input.decimal,
    address: input.address,
    memo: '',
    source_address: '0xhot',
    source_address_detail: '0xhot',
    side: input.side ?? 'withdraw',
    amount: input.amount,
    abs_amount: input.amount,
    txid: '',
    vout_n: 0,
    request_id: `req-${input.id}`,
    status: 'pending',
    abs_cobo_fee: '0',
    created_time: Date.now(),
    last_time: Date.now(),
    confirmed_num: 0,
    request_created_time: Date.now(),
  };
}
