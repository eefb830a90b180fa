import { z } from 'zod';

/**
 * The kill switch's value: what the SSM parameter holds and what the signed webhook carries in
 * `killSwitch`, so one decision function (isHaltedFromParameter) serves both. Example:
 *
 *   {"halted":true,"scopes":["global","chain:ethereum"],"version":7,"updatedAt":"2026-11-05T10:00:00.000Z",
 *    "trips":[{"scope":"global","tripId":"trip-…","ruleId":"global-usd-1h"}, …]}
 */
export interface KillSwitchValue {
  /** True when any scope is tripped. */
  halted: boolean;
  /** Tripped scope keys: 'global' first, then 'chain:<id>' in order. */
  scopes: string[];
  /** The breaker state version this mirrors; versions compare only within one epoch. */
  version: number;
  /**
   * Identifies one life of the breaker state item (set when it is created). A value from another
   * epoch is never judged older or newer by its version: receivers restart their version tracking.
   */
  epoch?: string;
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

/**
 * The part of the breaker state the value is made from. The breaker's BreakerState fits it; the
 * protocol names only these fields so a signer can use it without the breaker's core.
 */
export interface KillSwitchSource {
  version: number;
  epoch?: string;
  updatedAtMs: number;
  tripped: Readonly<Record<string, { readonly tripId: string; readonly ruleId: string }>>;
}

/** Standard-tier SSM parameters hold at most 4 KB. */
export const KILL_SWITCH_MAX_VALUE_BYTES = 4096;

/** The value for a state (see KillSwitchValue); leaves the trips out if they would not fit. */
export function encodeKillSwitchValue(state: KillSwitchSource): string {
  const scopes = Object.keys(state.tripped).sort(compareScopes);
  const value: KillSwitchValue = {
    halted: scopes.length > 0,
    scopes,
    version: state.version,
    ...(state.epoch !== undefined && { epoch: state.epoch }),
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
      epoch: z.string({ error: 'expected an epoch id string' }).min(1).max(128).optional(),
      updatedAt: z.iso.datetime({ error: 'expected an ISO 8601 time' }).nullable(),
      trips: z
        .array(z.object({ scope: scopeKey, tripId: z.string(), ruleId: z.string() }), { error: 'expected a list' })
        .default([]),
      tripsOmitted: z.number().int().nonnegative().optional(),
    },
    { error: 'expected a JSON object' },
  )
  .superRefine((v, ctx) => {
    // A value whose flag and scopes disagree was not written by the breaker: trust neither.
    if (v.halted !== v.scopes.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['halted'], message: `is ${v.halted} but scopes has ${v.scopes.length}` });
    }
    v.trips.forEach((t, i) => {
      if (!v.scopes.includes(t.scope)) {
        ctx.addIssue({ code: 'custom', path: ['trips', i, 'scope'], message: `"${t.scope}" is not in scopes` });
      }
    });
  });

export type DecodedKillSwitchValue = { ok: true; value: KillSwitchValue } | { ok: false; problem: string };

/** Decodes a value (the raw JSON string, or already-parsed JSON) without throwing. */
export function decodeKillSwitchValue(raw: unknown): DecodedKillSwitchValue {
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

/** A kill switch value that is not one the breaker writes; `source` names where it came from. */
export class KillSwitchValueError extends Error {
  readonly source: string;
  readonly problem: string;
  constructor(source: string, problem: string) {
    super(`${source}: malformed value: ${problem}`);
    this.name = 'KillSwitchValueError';
    this.source = source;
    this.problem = problem;
  }
}

/** Parses a kill switch value; throws KillSwitchValueError naming `source` and the problem. */
export function parseKillSwitchValue(raw: string, source = 'kill switch parameter'): KillSwitchValue {
  const decoded = decodeKillSwitchValue(raw);
  if (!decoded.ok) throw new KillSwitchValueError(source, decoded.problem);
  return decoded.value;
}

export type KillSwitchDecision =
  | { halted: false; version: number }
  | {
      halted: true;
      reason: string;
      /** True when the value could not be read or understood (not a trip). */
      failedClosed: boolean;
      scope?: string;
      tripId?: string;
      ruleId?: string;
      version?: number;
    };

/**
 * May a signer sign on `chain`? `value` is the kill switch value: the raw string, a parsed
 * KillSwitchValue, or undefined when it is missing. Fails closed: missing or malformed means halted.
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

/**
 * What a receiver that keeps one kill switch value (from webhooks) should keep when `incoming`
 * arrives, verified. A newer version replaces it, a release included. An older release is ignored:
 * deliveries can cross. But an older *halt* is never ignored: a state version can drop (the state
 * item deleted or restored), and a receiver that kept "newest wins" would stay armed through every
 * later trip; its halted scopes are added to what is kept. A value from another epoch (the state
 * was re-created) replaces what is kept whatever the versions.
 */
export function keepKillSwitch(kept: KillSwitchValue | undefined, incoming: KillSwitchValue): KillSwitchValue {
  if (kept === undefined || kept.epoch !== incoming.epoch || incoming.version >= kept.version) return incoming;
  const added = incoming.scopes.filter((s) => !kept.scopes.includes(s));
  if (added.length === 0) return kept;
  const scopes = [...kept.scopes, ...added].sort(compareScopes);
  const trips = [...kept.trips, ...incoming.trips.filter((t) => added.includes(t.scope))];
  return {
    ...kept,
    halted: true,
    scopes,
    trips: scopes.flatMap((s) => trips.filter((t) => t.scope === s)),
  };
}
