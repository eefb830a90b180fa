import { GetParameterCommand, ParameterNotFound, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { BreakerError, ConfigError, PublishError } from '../../core/errors.ts';
import type { BreakerState } from '../../core/state.ts';

/**
 * The kill switch parameter: an SSM String parameter mirroring the breaker state for signing services that
 * can only poll a parameter. The DynamoDB state item stays the truth; this is a copy, written on each
 * transition. Example value:
 *
 *   {"halted":true,"scopes":["global","chain:ethereum"],"version":7,"updatedAt":"2026-11-05T10:00:00.000Z",
 *    "trips":[{"scope":"global","tripId":"trip-…","ruleId":"global-usd-1h"}, …]}
 */
export interface KillSwitchValue {
  /** True when any scope is tripped. */
  halted: boolean;
  /** Tripped scope keys: 'global' first, then 'chain:<id>' in order. */
  scopes: string[];
  /** The breaker state version this mirrors. */
  version: number;
  /** The state's last write (ISO 8601); null in the value the parameter is deployed with. */
  updatedAt: string | null;
  trips: KillSwitchTrip[];
  /** Set when the trips did not fit in a standard parameter and were left out (scopes are always kept). */
  tripsOmitted?: number;
}

export interface KillSwitchTrip {
  scope: string;
  tripId: string;
  ruleId: string;
}

/** Standard-tier parameters hold at most 4 KB. */
export const KILL_SWITCH_MAX_VALUE_BYTES = 4096;

const PARAMETER_NAME = /^[A-Za-z0-9_.\-/]{1,2048}$/;

export interface SsmKillSwitchMirrorOptions {
  readonly client: SSMClient;
  /** The parameter's name (not its ARN: PutParameter accepts names only). */
  readonly parameterName: string;
}

/**
 * Writes the breaker state into the kill switch parameter. Cheap to call on every poll with the current
 * state: a version already mirrored costs no request. A newer version is read-compared-written: the stored
 * JSON's `version` is read first and, when it is the same or newer (another function mirrored a later
 * transition), nothing is written, so an older state never replaces a newer one. SSM has no conditional
 * put, so two writers can still cross within one round trip; the parameter then converges the next time
 * the current state is mirrored, since the writer of the older version remembers only that version.
 *
 * Throws PublishError (`PUBLISH_FAILED`) naming the parameter: signers polling it would see a stale state,
 * so the caller pages.
 */
export class SsmKillSwitchMirror {
  readonly #client: SSMClient;
  readonly #parameterName: string;
  /** Highest version known to be in the parameter, written or read by this instance. */
  #mirrored: number | undefined;

  constructor(options: SsmKillSwitchMirrorOptions) {
    if (typeof options.parameterName !== 'string' || !PARAMETER_NAME.test(options.parameterName)) {
      throw new ConfigError('SsmKillSwitchMirror options', [
        `parameterName: not an SSM parameter name: "${String(options.parameterName)}"`,
      ]);
    }
    this.#client = options.client;
    this.#parameterName = options.parameterName;
  }

  get parameterName(): string {
    return this.#parameterName;
  }

  async mirror(state: BreakerState): Promise<void> {
    if (this.#mirrored !== undefined && state.version <= this.#mirrored) return;
    const what = `kill switch parameter "${this.#parameterName}": could not mirror breaker state version ${state.version}`;
    const value = encodeKillSwitchValue(state);
    if (Buffer.byteLength(value) > KILL_SWITCH_MAX_VALUE_BYTES) {
      throw new PublishError(
        `${what}: ${Object.keys(state.tripped).length} tripped scopes do not fit in ${KILL_SWITCH_MAX_VALUE_BYTES} bytes`,
      );
    }
    try {
      const stored = await this.#storedVersion();
      if (stored !== undefined && stored >= state.version) {
        this.#mirrored = stored;
        return;
      }
      await this.#client.send(
        new PutParameterCommand({ Name: this.#parameterName, Value: value, Type: 'String', Overwrite: true }),
      );
      this.#mirrored = state.version;
    } catch (e) {
      throw new PublishError(`${what}: ${describeError(e)}`, { cause: e });
    }
  }

  /** The version in the stored JSON; undefined when the parameter is missing or holds no readable version. */
  async #storedVersion(): Promise<number | undefined> {
    try {
      const out = await this.#client.send(new GetParameterCommand({ Name: this.#parameterName }));
      const decoded = decodeKillSwitchValue(out.Parameter?.Value);
      return decoded.ok ? decoded.value.version : undefined;
    } catch (e) {
      if (e instanceof ParameterNotFound) return undefined;
      throw e;
    }
  }
}

/** The parameter value for a state (see KillSwitchValue); leaves the trips out if they would not fit. */
export function encodeKillSwitchValue(state: BreakerState): string {
  const scopes = Object.keys(state.tripped).sort(compareScopes);
  const value: KillSwitchValue = {
    halted: scopes.length > 0,
    scopes,
    version: state.version,
    updatedAt: new Date(state.updatedAtMs).toISOString(),
    trips: scopes.map((scope) => {
      const trip = state.tripped[scope]!;
      return { scope, tripId: trip.tripId, ruleId: trip.ruleId };
    }),
  };
  const full = JSON.stringify(value);
  if (Buffer.byteLength(full) <= KILL_SWITCH_MAX_VALUE_BYTES) return full;
  return JSON.stringify({ ...value, trips: [], tripsOmitted: value.trips.length });
}

function compareScopes(a: string, b: string): number {
  if (a === b) return 0;
  if (a === 'global') return -1;
  if (b === 'global') return 1;
  return a < b ? -1 : 1;
}

const scopeKey = z
  .string({ error: 'expected a scope string' })
  .regex(/^(global|chain:.+)$/, { error: 'not a halt scope ("global" or "chain:<id>")' });

const killSwitchSchema = z
  .object(
    {
      halted: z.boolean({ error: 'expected true or false' }),
      scopes: z.array(scopeKey, { error: 'expected a list of scopes' }),
      version: z.number({ error: 'expected a number' }).int().nonnegative(),
      updatedAt: z.iso.datetime({ error: 'expected an ISO 8601 time' }).nullable(),
      trips: z
        .array(z.object({ scope: scopeKey, tripId: z.string(), ruleId: z.string() }), { error: 'expected a list' })
        .default([]),
      tripsOmitted: z.number().int().nonnegative().optional(),
    },
    { error: 'expected a JSON object' },
  )
  .superRefine((v, ctx) => {
    // A value whose flag and scopes disagree was not written by the mirror: trust neither.
    if (v.halted !== v.scopes.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['halted'], message: `is ${v.halted} but scopes has ${v.scopes.length}` });
    }
    v.trips.forEach((t, i) => {
      if (!v.scopes.includes(t.scope)) {
        ctx.addIssue({ code: 'custom', path: ['trips', i, 'scope'], message: `"${t.scope}" is not in scopes` });
      }
    });
  });

type Decoded = { ok: true; value: KillSwitchValue } | { ok: false; problem: string };

function decodeKillSwitchValue(raw: unknown): Decoded {
  if (raw === undefined || raw === null) return { ok: false, problem: 'no value' };
  let json: unknown = raw;
  if (typeof raw === 'string') {
    try {
      json = JSON.parse(raw);
    } catch (e) {
      return { ok: false, problem: `not JSON (${(e as Error).message})` };
    }
  }
  const parsed = killSwitchSchema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues = parsed.error.issues.map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`);
  return { ok: false, problem: issues.join('; ') };
}

/** Parses a kill switch parameter value; throws KillSwitchParameterError ('malformed') naming the problem. */
export function parseKillSwitchValue(raw: string, parameterName = 'kill switch parameter'): KillSwitchValue {
  const decoded = decodeKillSwitchValue(raw);
  if (!decoded.ok) {
    throw new KillSwitchParameterError(parameterName, 'malformed', `malformed value: ${decoded.problem}`);
  }
  return decoded.value;
}

/** The kill switch parameter is missing, unreadable or malformed: a signer must treat that as halted. */
export class KillSwitchParameterError extends BreakerError {
  readonly parameterName: string;
  readonly reason: 'missing' | 'unreadable' | 'malformed';
  constructor(parameterName: string, reason: KillSwitchParameterError['reason'], detail: string, cause?: unknown) {
    super('STORE_UNAVAILABLE', `kill switch parameter "${parameterName}": ${detail}`, { cause });
    this.parameterName = parameterName;
    this.reason = reason;
  }
}

/** Reads and parses the kill switch parameter (for signers). Throws KillSwitchParameterError. */
export async function readKillSwitchParameter(client: SSMClient, parameterName: string): Promise<KillSwitchValue> {
  let raw: string | undefined;
  try {
    const out = await client.send(new GetParameterCommand({ Name: parameterName }));
    raw = out.Parameter?.Value;
  } catch (e) {
    if (e instanceof ParameterNotFound) {
      throw new KillSwitchParameterError(parameterName, 'missing', 'parameter not found', e);
    }
    throw new KillSwitchParameterError(parameterName, 'unreadable', describeError(e), e);
  }
  if (raw === undefined) throw new KillSwitchParameterError(parameterName, 'malformed', 'parameter has no value');
  return parseKillSwitchValue(raw, parameterName);
}

export type KillSwitchDecision =
  | { halted: false; version: number }
  | {
      halted: true;
      reason: string;
      /** True when the parameter could not be read or understood (not a trip). */
      failedClosed: boolean;
      scope?: string;
      tripId?: string;
      ruleId?: string;
      version?: number;
    };

/**
 * May a signer sign on `chain`? `value` is the parameter's value: the raw string, a parsed KillSwitchValue,
 * or undefined when the parameter is missing. Fails closed: missing or malformed means halted.
 */
export function isHaltedFromParameter(value: unknown, chain: string): KillSwitchDecision {
  if (typeof chain !== 'string' || chain === '') {
    return { halted: true, reason: 'withdrawal scope has no chain', failedClosed: true };
  }
  if (value === undefined || value === null) {
    return { halted: true, reason: 'kill switch parameter is missing', failedClosed: true };
  }
  const decoded = decodeKillSwitchValue(value);
  if (!decoded.ok) {
    return { halted: true, reason: `kill switch parameter is malformed: ${decoded.problem}`, failedClosed: true };
  }
  const { scopes, trips, version } = decoded.value;
  const scope = ['global', `chain:${chain}`].find((s) => scopes.includes(s));
  if (scope === undefined) return { halted: false, version };
  const trip = trips.find((t) => t.scope === scope);
  return {
    halted: true,
    reason: trip ? `breaker tripped: ${trip.ruleId} (${trip.tripId})` : `breaker tripped: ${scope}`,
    failedClosed: false,
    scope,
    ...(trip && { tripId: trip.tripId, ruleId: trip.ruleId }),
    version,
  };
}

/** Read the parameter and decide for `chain` in one call that never throws: any failure is a halt. */
export async function checkKillSwitchParameter(
  client: SSMClient,
  parameterName: string,
  chain: string,
): Promise<KillSwitchDecision> {
  try {
    return isHaltedFromParameter(await readKillSwitchParameter(client, parameterName), chain);
  } catch (e) {
    return { halted: true, reason: e instanceof Error ? e.message : String(e), failedClosed: true };
  }
}

function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.name && e.name !== 'Error' ? `${e.name}: ${e.message}` : e.message;
}
