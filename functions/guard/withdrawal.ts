import { z } from 'zod';
import { type ChainKind, canonicalAsset } from '../core/chain-kind.ts';
import type { BreakerConfig } from '../core/config/types.ts';
import { canonicalOutpoint, outpointProblem } from '../core/watermark/outpoints.ts';

/**
 * What a signing service asks the guard about: one withdrawal, before it is signed. Amounts are
 * base units (wei, satoshi, token units) as a bigint or a string of digits — never a float.
 */
export interface WithdrawalRequest {
  /** The exchange's withdrawal id; the approval record is idempotent by it. */
  withdrawalId: string;
  /** Chain id as in the breaker config ("ethereum"). */
  chain: string;
  /** Asset symbol as in the config ("USDT", "ETH"), or the token contract address. */
  asset: string;
  destination: string;
  amount: bigint | string | number;
  /**
   * EVM: the nonce the signer will sign this withdrawal with, and the hot wallet that signs it. The
   * guard records the nonce as that wallet's watermark before approving; a hot-wallet nonce above it
   * on-chain trips the breaker (docs/STOLEN-KEYS.md). Required on chains with `watermark` on; a
   * replacement of a pending transaction (same nonce, higher fee) asks again with the same nonce.
   */
  nonce?: bigint | string | number;
  hotWallet?: string;
  /**
   * Bitcoin: every outpoint (`<txid>:<vout>`) the transaction will spend. The guard records each as
   * approved before approving; a transaction spending a hot-wallet output the guard never approved
   * trips the breaker (docs/STOLEN-KEYS.md). Required on chains with `watermark` on; a replacement
   * (RBF) asks again with the same withdrawal id and every outpoint it spends, added ones included.
   */
  outpoints?: readonly string[];
}

export interface Withdrawal {
  withdrawalId: string;
  chain: string;
  asset: string;
  /** Normalised by the chain's kind (EVM: lower-case) when parsed with the config. */
  destination: string;
  amount: bigint;
  nonce?: bigint;
  /** Normalised by the chain's kind (EVM: lower-case) when parsed with the config. */
  hotWallet?: string;
  /** Canonical `txid:vout` (lower-case txid), distinct. */
  outpoints?: string[];
}

/** More inputs than a standard transaction (100,000 vbytes) can hold. */
export const MAX_OUTPOINTS = 2500;

export const withdrawalSchema = z
  .object(
    {
      withdrawalId: z
        .string({ error: 'expected a string' })
        .regex(/^[A-Za-z0-9._:-]{1,128}$/, { error: 'letters, digits and . _ : - only, 1–128 characters' }),
      chain: z
        .string({ error: 'expected a chain id string' })
        .regex(/^[a-z][a-z0-9-]{0,31}$/, { error: 'not a chain id like "ethereum"' }),
      // Up to 128: an XRPL issued currency with a 40-hex code and its issuer is 76 characters.
      asset: z.string({ error: 'expected an asset symbol or token contract' }).min(1).max(128),
      destination: z
        .string({ error: 'expected an address string' })
        .regex(/^[A-Za-z0-9]{20,100}$/, { error: 'not an address' }),
      amount: z
        .union(
          [
            z.bigint().nonnegative(),
            z.string().regex(/^\d{1,78}$/),
            z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
          ],
          { error: 'expected base units as a bigint or a string of digits (never a decimal or float)' },
        )
        .transform((v) => BigInt(v))
        .refine((v) => v > 0n, { error: 'must be > 0' }),
      nonce: z
        .union(
          [
            z.bigint().nonnegative(),
            z.string().regex(/^\d{1,20}$/),
            z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
          ],
          { error: 'expected a transaction nonce as a non-negative integer or a string of digits' },
        )
        .transform((v) => BigInt(v))
        .optional(),
      // Checked and normalised by the chain's kind in parseWithdrawal, like the destination.
      hotWallet: z.string({ error: 'expected an address string' }).min(1).optional(),
      outpoints: z
        .array(
          z
            .string({ error: 'expected "<txid>:<vout>"' })
            .superRefine((text, ctx) => {
              const problem = outpointProblem(text);
              if (problem) ctx.addIssue({ code: 'custom', message: problem });
            })
            .transform(canonicalOutpoint),
          { error: 'expected a list of outpoints "<txid>:<vout>"' },
        )
        .min(1, { error: 'expected at least one outpoint: a transaction spends something' })
        .max(MAX_OUTPOINTS, { error: `at most ${MAX_OUTPOINTS} outpoints` })
        .refine((list) => new Set(list).size === list.length, {
          error: 'an outpoint is listed twice (a transaction spends each once)',
        })
        .optional(),
    },
    { error: 'expected a withdrawal object' },
  )
  .strict()
  .refine((w) => (w.nonce === undefined) === (w.hotWallet === undefined), {
    error: 'nonce and hotWallet go together: the watermark is per hot wallet',
    path: ['nonce'],
  });

export type ParseResult =
  | { ok: true; withdrawal: Withdrawal }
  | { ok: false; rejection: 'invalid-withdrawal' | 'unknown-chain' | 'unknown-asset'; problem: string };

/** Validate a request (and, with the breaker config, that its chain and asset are watched). */
export function parseWithdrawal(input: unknown, config?: BreakerConfig): ParseResult {
  const parsed = withdrawalSchema.safeParse(input);
  if (!parsed.success) {
    const problem = parsed.error.issues.map((i) => `${i.path.join('.') || '(withdrawal)'}: ${i.message}`).join('; ');
    return { ok: false, rejection: 'invalid-withdrawal', problem };
  }
  const w = parsed.data;
  // Without the config the chain's kind is unknown: the record keeps what the signer sent, and
  // reconciliation compares it in the kind's canonical form.
  if (!config) return { ok: true, withdrawal: w };
  const chain = config.chains.get(w.chain);
  if (!chain) {
    return {
      ok: false,
      rejection: 'unknown-chain',
      problem: `chain "${w.chain}" is not watched by the breaker (known: ${[...config.chains.keys()].join(', ')})`,
    };
  }
  const assets = [chain.native, ...chain.tokens.values()];
  const asset = canonicalAsset(chain.kind, w.asset);
  const known = assets.some((a) => a.symbol === w.asset || (a.contract !== null && a.contract === asset));
  if (!known) {
    return {
      ok: false,
      rejection: 'unknown-asset',
      problem: `asset "${w.asset}" is not configured on ${w.chain} (known: ${assets.map((a) => a.symbol).join(', ')}); its outflows could not be valued or reconciled`,
    };
  }
  const problem = chain.kind.address.problem(w.destination);
  if (problem) return { ok: false, rejection: 'invalid-withdrawal', problem: `destination: ${problem}` };
  const hotWallet = w.hotWallet === undefined ? undefined : chain.kind.address.normalise(w.hotWallet);
  if (hotWallet !== undefined && !chain.hotWallets.includes(hotWallet)) {
    return {
      ok: false,
      rejection: 'invalid-withdrawal',
      problem: `hotWallet: ${w.hotWallet} is not a hot wallet of ${w.chain}`,
    };
  }
  const watermarkProblem = watermarkFieldsProblem(w, chain.kind, config.watermark.chains.has(w.chain));
  if (watermarkProblem) return { ok: false, rejection: 'invalid-withdrawal', problem: watermarkProblem };
  const destination = chain.kind.address.normalise(w.destination);
  return { ok: true, withdrawal: { ...w, asset, destination, ...(hotWallet !== undefined && { hotWallet }) } };
}

/** The watermark fields a chain's kind takes (nonce on EVM, outpoints on Bitcoin), and requires when watermarked. */
function watermarkFieldsProblem(w: Withdrawal, kind: ChainKind, watermarked: boolean): string | undefined {
  if (w.outpoints !== undefined && !kind.spendsOutpoints) {
    return `outpoints: ${w.chain} (kind ${kind.id}) spends no outpoints${kind.hasAccountNonces ? '; send nonce and hotWallet' : ''}`;
  }
  if (w.nonce !== undefined && !kind.hasAccountNonces) {
    return `nonce: ${w.chain} (kind ${kind.id}) has no account nonces${kind.spendsOutpoints ? '; send outpoints' : ''}`;
  }
  if (!watermarked) return undefined;
  // Fail closed: a withdrawal signed without its nonce or outpoints recorded would trip the watermark anyway.
  if (kind.hasAccountNonces && w.nonce === undefined) {
    return `nonce: required on ${w.chain}, where the nonce watermark is on (send nonce and hotWallet)`;
  }
  if (kind.spendsOutpoints && w.outpoints === undefined) {
    return `outpoints: required on ${w.chain}, where the spent-outpoint watermark is on (send every "<txid>:<vout>" the transaction spends)`;
  }
  return undefined;
}
