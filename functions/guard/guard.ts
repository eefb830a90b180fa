import { z } from 'zod';
import { haltedFor } from '../core/breaker.ts';
import type { BreakerConfig } from '../core/config/types.ts';
import { isBreakerError } from '../core/errors.ts';
import type { ApprovedWithdrawalLog, BreakerStateStore } from '../core/ports.ts';
import type { ApprovedWithdrawal } from '../core/reconciliation/approved-withdrawal.ts';
import { type BreakerState, isInitialised, type TripInfo } from '../core/state.ts';
import { type Clock, systemClock } from '../core/time.ts';
import { effectiveTripped } from '../core/trips.ts';
import { type GuardRejection, WithdrawalHaltedError } from './errors.ts';
import { parseWithdrawal, type Withdrawal, type WithdrawalRequest } from './withdrawal.ts';

/** The store the guard needs: the breaker state and trip records (strongly consistent) and the approval log. */
export type GuardStore = Pick<BreakerStateStore, 'getState' | 'unreleasedTrips'> & ApprovedWithdrawalLog;

/** Powertools' Metrics fits this; so does anything with the same method. */
export interface GuardMetrics {
  addMetric(name: string, unit: 'Count', value: number): void;
}

/** Powertools' Logger fits this. */
export interface GuardLogger {
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export const GUARD_METRICS = {
  approved: 'GuardApproved',
  halted: 'GuardRejectedHalted',
  failedClosed: 'GuardFailedClosed',
} as const;

/** A cached state is never older than this: a trip reaches every signer in well under a second. */
export const MAX_CACHE_MS = 500;
/** Default bound on one check (state read + approval write), after which it fails closed. */
export const DEFAULT_GUARD_TIMEOUT_MS = 3000;

export interface BreakerGuardOptions {
  store: GuardStore;
  /**
   * Required: a withdrawal on a chain or of an asset the breaker does not watch is refused, so a
   * mistyped chain id cannot slip past that chain's halts.
   */
  config: BreakerConfig;
  /** Reuse a state read for this long (0–500 ms). @default 0 (every check reads the table) */
  cacheMs?: number;
  /** Fail closed when a check takes longer. @default 3000 */
  timeoutMs?: number;
  clock?: Clock;
  metrics?: GuardMetrics;
  /** Where fail-closed faults and halts are logged. @default JSON lines on stderr */
  logger?: GuardLogger;
}

export interface Approval {
  approved: true;
  withdrawal: Withdrawal;
  /** The approval as recorded (the first record when the withdrawal id was seen before). */
  record: ApprovedWithdrawal;
  /** The breaker state version the decision was made on. */
  stateVersion: number;
}

export interface BreakerGuard {
  /**
   * Approve one withdrawal, or throw WithdrawalHaltedError. Approval records the withdrawal in the
   * table (idempotent by withdrawal id) before returning, so sign only after this resolves.
   */
  check(request: WithdrawalRequest | unknown, options?: { signal?: AbortSignal }): Promise<Approval>;
}

const tripSchema = z
  .object({
    tripId: z.string(),
    ruleId: z.string(),
    atMs: z.number(),
    scope: z.object({ kind: z.enum(['global', 'chain']) }).loose(),
  })
  .loose();

/** Only what the guard relies on; anything else a newer writer adds is ignored. */
const stateSchema = z
  .object({
    schema: z.literal(1),
    version: z.number().int().nonnegative(),
    tripped: z.record(z.string().regex(/^(global|chain:.+)$/), tripSchema),
  })
  .loose();

interface HaltRead {
  state: BreakerState;
  /** What halts: the state's trips joined with the unreleased trip records. */
  tripped: Record<string, TripInfo>;
}

/** Is this a breaker state the guard can trust? A problem string when not. */
export function stateProblem(state: unknown): string | undefined {
  const parsed = stateSchema.safeParse(state);
  if (parsed.success) return undefined;
  return parsed.error.issues.map((i) => `${i.path.join('.') || '(state)'}: ${i.message}`).join('; ');
}

/**
 * The guard a signing service embeds. Fail closed: a halt, an invalid request, an unreadable or
 * malformed state, a failed approval write, or a check slower than `timeoutMs` all throw
 * WithdrawalHaltedError — never an approval.
 */
export function createBreakerGuard(options: BreakerGuardOptions): BreakerGuard {
  const store = options.store;
  if (
    !store ||
    typeof store.getState !== 'function' ||
    typeof store.unreleasedTrips !== 'function' ||
    typeof store.recordApprovedWithdrawal !== 'function'
  ) {
    throw new TypeError(
      'breaker guard: store must read the breaker state and trip records and record approved withdrawals',
    );
  }
  if (!options.config?.chains) {
    throw new TypeError(
      'breaker guard: config (the compiled breaker config) is required, so unwatched chains and assets are refused',
    );
  }
  const cacheMs = options.cacheMs ?? 0;
  if (!Number.isFinite(cacheMs) || cacheMs < 0 || cacheMs > MAX_CACHE_MS) {
    throw new RangeError(`breaker guard: cacheMs must be between 0 and ${MAX_CACHE_MS}, got ${cacheMs}`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_GUARD_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 10 || timeoutMs > 25_000) {
    throw new RangeError(`breaker guard: timeoutMs must be between 10 and 25000, got ${timeoutMs}`);
  }
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? stderrLogger;
  let cached: { read: HaltRead; atMs: number } | undefined;

  // The state item and the trip records in parallel: a poller role can rewrite the state's trips
  // but cannot release a trip record (core/trips.ts), so both are read every time.
  const readState = async (): Promise<HaltRead> => {
    const now = clock.now();
    if (cached && now - cached.atMs < cacheMs && now >= cached.atMs) return cached.read;
    const [state, records] = await Promise.all([store.getState(), store.unreleasedTrips()]);
    const read = { state, tripped: effectiveTripped(state, records) };
    if (cacheMs > 0) cached = { read, atMs: now };
    return read;
  };

  const reject = (
    rejection: GuardRejection,
    message: string,
    extra: ConstructorParameters<typeof WithdrawalHaltedError>[2] = {},
  ) => {
    const error = new WithdrawalHaltedError(rejection, message, extra);
    options.metrics?.addMetric(rejection === 'halted' ? GUARD_METRICS.halted : GUARD_METRICS.failedClosed, 'Count', 1);
    const fields = { rejection, withdrawalId: extra.withdrawalId, scope: extra.scope, tripId: extra.trip?.tripId };
    if (rejection === 'halted') logger.warn(`breaker guard: withdrawal rejected, ${message}`, fields);
    else logger.error(`breaker guard FAILED CLOSED: ${message}`, fields);
    return error;
  };

  const decide = async (request: unknown, signal: AbortSignal): Promise<Approval> => {
    const parsed = parseWithdrawal(request, options.config);
    const id =
      typeof (request as { withdrawalId?: unknown })?.withdrawalId === 'string'
        ? (request as { withdrawalId: string }).withdrawalId
        : undefined;
    if (!parsed.ok) throw reject(parsed.rejection, `invalid withdrawal: ${parsed.problem}`, { withdrawalId: id });
    const w = parsed.withdrawal;

    let read: HaltRead;
    try {
      read = await readState();
    } catch (e) {
      throw reject('state-unreadable', `breaker state unreadable: ${describe(e)}`, {
        withdrawalId: w.withdrawalId,
        cause: e,
      });
    }
    const { state, tripped } = read;
    const problem = stateProblem(state);
    if (problem) {
      cached = undefined;
      throw reject('state-malformed', `breaker state is malformed: ${problem}`, { withdrawalId: w.withdrawalId });
    }
    if (!isInitialised(state)) {
      cached = undefined;
      throw reject(
        'state-missing',
        'breaker state is not initialised (no state item): halted until `breaker init` or the deploy creates it',
        { withdrawalId: w.withdrawalId },
      );
    }
    const trip: TripInfo | undefined = haltedFor({ ...state, tripped }, w.chain);
    if (trip) {
      const scope = tripped.global ? 'global' : `chain:${w.chain}`;
      throw reject(
        'halted',
        `breaker tripped (${scope}): ${trip.ruleId}, trip ${trip.tripId} — withdrawals on ${w.chain} are halted`,
        {
          withdrawalId: w.withdrawalId,
          trip,
          scope,
        },
      );
    }
    if (signal.aborted)
      throw reject('timeout', `guard check exceeded ${timeoutMs} ms`, { withdrawalId: w.withdrawalId });

    let record: ApprovedWithdrawal;
    try {
      record = await store.recordApprovedWithdrawal({ ...w, approvedAtMs: clock.now() });
    } catch (e) {
      if (isBreakerError(e, 'STATE_CONFLICT')) {
        throw reject('approval-conflict', `withdrawal id reused with other details: ${describe(e)}`, {
          withdrawalId: w.withdrawalId,
          cause: e,
        });
      }
      throw reject('approval-unrecorded', `approved withdrawal could not be recorded: ${describe(e)}`, {
        withdrawalId: w.withdrawalId,
        cause: e,
      });
    }
    if (!signal.aborted) options.metrics?.addMetric(GUARD_METRICS.approved, 'Count', 1);
    return { approved: true, withdrawal: w, record, stateVersion: state.version };
  };

  return {
    async check(request, checkOptions = {}) {
      const controller = new AbortController();
      const outer = checkOptions.signal;
      const onAbort = () => controller.abort();
      outer?.addEventListener('abort', onAbort, { once: true });
      if (outer?.aborted) controller.abort();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, fail) => {
        timer = setTimeout(() => {
          controller.abort();
          const id = (request as { withdrawalId?: unknown })?.withdrawalId;
          fail(
            reject('timeout', `guard check exceeded ${timeoutMs} ms`, {
              withdrawalId: typeof id === 'string' ? id : undefined,
            }),
          );
        }, timeoutMs);
      });
      try {
        return await Promise.race([decide(request, controller.signal), timeout]);
      } catch (e) {
        if (e instanceof WithdrawalHaltedError) throw e;
        // Anything unforeseen is a fault too: never an approval.
        throw reject('state-unreadable', `guard fault: ${describe(e)}`, { cause: e });
      } finally {
        clearTimeout(timer);
        outer?.removeEventListener('abort', onAbort);
      }
    },
  };
}

/** One-shot form: `await guardWithdrawal(store, withdrawal)` before signing; throws WithdrawalHaltedError. */
export function guardWithdrawal(
  store: GuardStore,
  withdrawal: WithdrawalRequest,
  options: Omit<BreakerGuardOptions, 'store' | 'cacheMs'>,
): Promise<Approval> {
  return createBreakerGuard({ ...options, store }).check(withdrawal);
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.name && e.name !== 'Error' && !e.message.startsWith(e.name) ? `${e.name}: ${e.message}` : e.message;
}

const stderrLogger: GuardLogger = {
  warn: (message, ...extra) =>
    process.stderr.write(`${JSON.stringify({ level: 'WARN', message, ...Object.assign({}, ...extra) })}\n`),
  error: (message, ...extra) =>
    process.stderr.write(`${JSON.stringify({ level: 'ERROR', message, ...Object.assign({}, ...extra) })}\n`),
};
