import { z } from 'zod';

/**
 * `actuators:` in the config file — the kill switch's layers beyond the table flag (which is always
 * on). Each is switchable with `enabled`; the webhook, Lambda and KMS layers exist only when
 * configured, and KMS is opt-in. `chains` limits a layer to halts covering those chains (a signer
 * that serves only them); by default any halt engages it.
 */

/**
 * Why the webhook URL is refused, or undefined. It carries the "released" message that re-arms a
 * signer, so plain http (readable and replayable on the network) is allowed only to this machine.
 */
export function webhookUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not an http(s) URL';
  }
  if (!/^https?:\/\/[^\s]+$/.test(url)) return 'not an http(s) URL';
  if (parsed.protocol === 'https:') return undefined;
  const host = parsed.hostname;
  const loopback = host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
  return loopback ? undefined : 'use https (plain http is accepted only for 127.0.0.1, ::1 or localhost)';
}

const webhookUrl = z.string({ error: 'expected a URL string' }).superRefine((s, ctx) => {
  const problem = webhookUrlProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const chainsFilter = z
  .array(z.string({ error: 'expected a chain id' }), { error: 'expected a list of chain ids' })
  .min(1, { error: 'list at least one chain, or leave chains out for every chain' })
  .optional();

/** A function name, or its (unqualified) ARN: reserved concurrency is set on the function, not a version. */
const LAMBDA_FUNCTION = /^(arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[a-zA-Z0-9_-]{1,64}$/;
/** A key id or key ARN (DisableKey does not accept aliases). */
const KMS_KEY =
  /^(arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:\d{12}:key\/)?(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export const actuatorsSchema = z
  .object({
    /** The SSM parameter mirror (the stack creates it and sets KILL_SWITCH_PARAMETER). */
    ssmParameter: z
      .object({ enabled: z.boolean().default(true) })
      .strict()
      .default({ enabled: true }),
    /** An HMAC-SHA256-signed POST of the kill switch to the signing service on every halt and re-arm. */
    webhook: z
      .object({
        enabled: z.boolean().default(true),
        url: webhookUrl,
        /** Name of the environment variable holding the shared secret (never the secret itself). */
        secretEnv: z
          .string({ error: 'expected an environment variable name' })
          .regex(/^[A-Z_][A-Z0-9_]*$/, { error: 'not an environment variable name like SIGNER_WEBHOOK_SECRET' }),
        timeoutMs: z.number().int().min(100).max(10_000).default(3000),
        retries: z.number().int().min(0).max(10).default(3),
        chains: chainsFilter,
      })
      .strict()
      .optional(),
    /** Reserved concurrency 0 on the signer Lambdas while halted; the previous setting is restored on re-arm. */
    lambdaConcurrency: z
      .object({
        enabled: z.boolean().default(true),
        functions: z
          .array(z.string().regex(LAMBDA_FUNCTION, { error: 'not a Lambda function name or unqualified function ARN' }))
          .min(1, { error: 'list at least one function' }),
        chains: chainsFilter,
      })
      .strict()
      .optional(),
    /** Opt-in: DisableKey on the signing keys while halted; re-enabled on re-arm if they were enabled before. */
    kmsKeys: z
      .object({
        enabled: z.boolean().default(true),
        keys: z
          .array(z.string().regex(KMS_KEY, { error: 'not a KMS key id or key ARN (aliases are not accepted)' }))
          .min(1, { error: 'list at least one key' }),
        chains: chainsFilter,
      })
      .strict()
      .optional(),
  })
  .strict();

export type ParsedActuators = z.output<typeof actuatorsSchema>;

export const ACTUATOR_DEFAULTS: ParsedActuators = { ssmParameter: { enabled: true } };

/** The validated actuator layers; `chains` undefined = engaged by any halt. */
export interface ActuatorsConfig {
  ssmParameter: { enabled: boolean };
  webhook?: { url: string; secretEnv: string; timeoutMs: number; retries: number; chains?: string[] };
  lambdaConcurrency?: { functions: string[]; chains?: string[] };
  kmsKeys?: { keys: string[]; chains?: string[] };
}

export function compileActuators(
  input: ParsedActuators,
  /** The configured chain ids, to check the layers' `chains` lists against. */
  chainIds: ReadonlySet<string>,
  issues: string[],
): ActuatorsConfig {
  const checkChains = (list: string[] | undefined, path: string) =>
    list?.forEach((c, i) => {
      if (!chainIds.has(c))
        issues.push(`${path}.chains[${i}]: no chain "${c}" under chains (known: ${[...chainIds].join(', ')})`);
    });
  const out: ActuatorsConfig = { ssmParameter: { enabled: input.ssmParameter.enabled } };
  const { webhook, lambdaConcurrency, kmsKeys } = input;
  if (webhook?.enabled) {
    checkChains(webhook.chains, 'actuators.webhook');
    out.webhook = {
      url: webhook.url,
      secretEnv: webhook.secretEnv,
      timeoutMs: webhook.timeoutMs,
      retries: webhook.retries,
      ...(webhook.chains && { chains: webhook.chains }),
    };
  }
  if (lambdaConcurrency?.enabled) {
    checkChains(lambdaConcurrency.chains, 'actuators.lambdaConcurrency');
    duplicates(lambdaConcurrency.functions, 'actuators.lambdaConcurrency.functions', issues);
    out.lambdaConcurrency = {
      functions: lambdaConcurrency.functions,
      ...(lambdaConcurrency.chains && { chains: lambdaConcurrency.chains }),
    };
  }
  if (kmsKeys?.enabled) {
    checkChains(kmsKeys.chains, 'actuators.kmsKeys');
    duplicates(kmsKeys.keys, 'actuators.kmsKeys.keys', issues);
    out.kmsKeys = { keys: kmsKeys.keys, ...(kmsKeys.chains && { chains: kmsKeys.chains }) };
  }
  return out;
}

function duplicates(list: readonly string[], path: string, issues: string[]): void {
  list.forEach((v, i) => {
    if (list.indexOf(v) !== i) issues.push(`${path}[${i}]: "${v}" is listed twice`);
  });
}
