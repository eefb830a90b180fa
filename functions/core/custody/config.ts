import { z } from 'zod';

/**
 * `custody:` in the config file: how the breaker answers a custody platform's pre-sign callback
 * (functions/custody, docs/CUSTODY.md). Each platform names its assets its own way; a map turns
 * the platform's id into the breaker's (chain, asset symbol) and the decimals its amounts use.
 * Secrets (private keys, path tokens) are never inline: a file path or an environment variable.
 */

const platformAsset = z
  .object(
    {
      chain: z.string({ error: 'expected a chain id of this config' }).min(1),
      asset: z.string({ error: 'expected an asset symbol of that chain' }).min(1),
      decimals: z
        .number({ error: 'expected the number of decimals' })
        .int({ error: 'must be an integer' })
        .min(0)
        .max(36),
    },
    { error: 'expected { chain, asset, decimals }' },
  )
  .strict();

export type PlatformAsset = z.output<typeof platformAsset>;

const assetMap = z
  .record(z.string().min(1), platformAsset, {
    error: 'expected a map of platform asset id → { chain, asset, decimals }',
  })
  .refine((m) => Object.keys(m).length > 0, { error: 'map at least one asset' });

/** Bound on one answer; every platform here gives up sooner or later (Fireblocks: 30 s). */
const timeoutMs = z
  .number({ error: 'expected milliseconds' })
  .int()
  .min(100, { error: 'must be ≥ 100' })
  .max(25_000, { error: 'must be ≤ 25000 (Fireblocks fails a request after 30 s)' });

const fireblocks = z
  .object({
    /** PEM of the co-signer's callback public key (`./cosigner print-public-key`). */
    cosignerPublicKeyFile: z.string().min(1),
    /** PEM of the RSA-2048 key whose public half was given to the co-signer. */
    callbackPrivateKeyFile: z.string().min(1),
    /** The custom prefix set in the co-signer before `/v2/...` (e.g. `/breaker`). */
    pathPrefix: z
      .string()
      .regex(/^(\/[A-Za-z0-9._~-]+)*$/, { error: 'a path like "/breaker" (no trailing slash), or empty' })
      .default(''),
    timeoutMs: timeoutMs.default(10_000),
    /** A store fault answers REJECT (fails the transaction) or RETRY (the co-signer asks again). */
    onFault: z.enum(['REJECT', 'RETRY'], { error: 'expected "REJECT" or "RETRY"' }).default('REJECT'),
    /** Operations the breaker can value; anything else (RAW, CONTRACT_CALL, TYPED_MESSAGE…) is refused. */
    operations: z.array(z.string().regex(/^[A-Z_]+$/)).default(['TRANSFER']),
    /** Workspace changes: REJECT them, or IGNORE them (a Console user decides). Always REJECT while halted. */
    configChanges: z.enum(['REJECT', 'IGNORE'], { error: 'expected "REJECT" or "IGNORE"' }).default('REJECT'),
    assets: assetMap,
  })
  .strict();

const cobo = z
  .object({
    /** WaaS 2.0 signs with Ed25519; WaaS 1.0 with secp256k1 ECDSA. */
    signature: z.enum(['ed25519', 'ecdsa'], { error: 'expected "ed25519" (WaaS 2.0) or "ecdsa" (WaaS 1.0)' }),
    /** Cobo's public key, hex (Ed25519: 32 bytes; ECDSA: 33-byte compressed point). */
    publicKey: z.string().regex(/^([0-9a-fA-F]{64}|0[23][0-9a-fA-F]{64})$/, {
      error: 'expected Cobo’s hex public key (64 hex for Ed25519, 66 for a compressed secp256k1 key)',
    }),
    /** A request whose BIZ_TIMESTAMP is further from now than this is refused (replay bound). */
    toleranceSeconds: z.number().int().min(10).max(3600).default(300),
    timeoutMs: timeoutMs.default(10_000),
    /** A store fault answers `deny`, or no answer (HTTP 503) so Cobo pushes the callback again. */
    onFault: z.enum(['deny', 'retry'], { error: 'expected "deny" or "retry"' }).default('deny'),
    /** Cobo token id (`ETH_USDT`; 1.0: `coin`) → the breaker's asset. */
    tokens: assetMap,
  })
  .strict();

const bitgo = z
  .object({
    /** Environment variable holding the secret path segment of the policy URL (≥ 32 characters). */
    pathTokenEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, { error: 'an environment variable name' }),
    timeoutMs: timeoutMs.default(10_000),
    /** BitGo wallet id → the breaker's asset (a BitGo wallet holds one coin). */
    wallets: assetMap,
    /**
     * BitGo documents the body only in prose ("wallet ID, rule ID, spend amount, approval count,
     * half-signed transaction hex, and an array of transaction outputs"). These are the key names
     * assumed; set them from one sandbox capture.
     */
    fields: z
      .object({
        walletId: z.string().min(1).default('walletId'),
        outputs: z.string().min(1).default('outputs'),
        outputAddress: z.string().min(1).default('address'),
        outputAmount: z.string().min(1).default('amount'),
      })
      .strict()
      .default({ walletId: 'walletId', outputs: 'outputs', outputAddress: 'address', outputAmount: 'amount' }),
  })
  .strict();

export const custodySchema = z
  .object({ fireblocks: fireblocks.optional(), cobo: cobo.optional(), bitgo: bitgo.optional() })
  .strict();

export type CustodySettings = z.output<typeof custodySchema>;
export type FireblocksSettings = z.output<typeof fireblocks>;
export type CoboSettings = z.output<typeof cobo>;
export type BitgoSettings = z.output<typeof bitgo>;
