import { BreakerError } from '../errors.ts';
import type { AuditLog, PagePublisher, StateMirror } from '../ports.ts';
import type { BreakerState } from '../state.ts';
import type { Clock } from '../time.ts';
import { type Actuator, type ActuatorMemory, type ActuatorMode, modeFor, signatureFor } from './actuator.ts';
import { actuatorAudit, renderActuatorFailurePage } from './pages.ts';

export interface KillSwitchActuatorsDeps {
  deploymentName: string;
  actuators: readonly Actuator[];
  audit: AuditLog;
  publisher: PagePublisher;
  clock: Clock;
  /** Remembers what each layer last applied across processes (cold starts do not re-apply). */
  memory?: ActuatorMemory;
  /**
   * Layers applied on every flush (their adapter skips what it already wrote), e.g. the SSM
   * parameter, which carries the state version. Audited only when the halted scopes change.
   */
  everyFlush?: ReadonlySet<string>;
}

export interface ActuatorOutcome {
  actuator: string;
  mode: ActuatorMode;
  /** 'skipped': already applied for this state. */
  result: 'applied' | 'skipped' | 'failed';
  error?: string;
  /** The failure page went out (false: it must be retried, and the flush fails). */
  paged?: boolean;
}

/** Thrown when a layer failed and even its page could not be published. */
export class ActuatorError extends BreakerError {
  readonly outcomes: readonly ActuatorOutcome[];
  constructor(message: string, outcomes: readonly ActuatorOutcome[]) {
    super('ACTUATOR_FAILED', message);
    this.outcomes = outcomes;
  }
}

/**
 * Every kill-switch layer as one StateMirror: flushOutbox calls `mirror(state)` after carrying out
 * a transition's effects (and at each poller start), and each layer is brought to the state.
 * Each result is audited; each failure is paged (once per layer, state version and mode) and
 * retried at the next flush. A failure whose page went out does not fail the flush — the page is
 * the escalation, and a failing optional layer must never stop the pollers; a failure that could
 * not even be paged does (ActuatorError), so the flush is retried.
 */
export class KillSwitchActuators implements StateMirror {
  readonly #deps: KillSwitchActuatorsDeps;
  /** Per layer, the signature and state version this process knows to be applied. */
  readonly #applied = new Map<string, { signature: string; stateVersion: number }>();
  /** Failure pages and audits already sent (layer, version, mode). */
  readonly #escalated = new Set<string>();
  #last: ActuatorOutcome[] = [];

  constructor(deps: KillSwitchActuatorsDeps) {
    const ids = deps.actuators.map((a) => a.id);
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup) throw new TypeError(`KillSwitchActuators: actuator id "${dup}" is used twice`);
    this.#deps = deps;
  }

  /** The outcome of each layer at the last flush (for status and tests). */
  get lastOutcomes(): readonly ActuatorOutcome[] {
    return this.#last;
  }

  async mirror(state: BreakerState): Promise<void> {
    const outcomes = await Promise.all(this.#deps.actuators.map((a) => this.#bring(a, state)));
    this.#last = outcomes;
    const unescalated = outcomes.filter((o) => o.result === 'failed' && !o.paged);
    if (unescalated.length > 0) {
      throw new ActuatorError(
        `kill-switch layer(s) failed and could not be paged: ${unescalated.map((o) => `${o.actuator} (${o.mode}): ${o.error}`).join('; ')}`,
        outcomes,
      );
    }
  }

  async #bring(actuator: Actuator, state: BreakerState): Promise<ActuatorOutcome> {
    const mode = modeFor(state, actuator.chains);
    const signature = signatureFor(actuator, state);
    const everyFlush = this.#deps.everyFlush?.has(actuator.id) ?? false;
    let known = this.#applied.get(actuator.id);
    let memo: Awaited<ReturnType<ActuatorMemory['getMemo']>>;
    const memoKey = `applied:${actuator.id}`;
    try {
      if (!known && this.#deps.memory) {
        memo = await this.#deps.memory.getMemo(memoKey);
        if (memo && typeof memo.data.signature === 'string' && typeof memo.data.stateVersion === 'number') {
          known = { signature: memo.data.signature, stateVersion: memo.data.stateVersion };
        }
      }
    } catch {
      // Unknown is safe: the layer is applied again (idempotent).
      known = undefined;
    }
    // Never bring a layer back to an older state than one already applied.
    if (known && known.stateVersion > state.version) return { actuator: actuator.id, mode, result: 'skipped' };
    const changed = known?.signature !== signature;
    if (!changed && !everyFlush) return { actuator: actuator.id, mode, result: 'skipped' };

    const nowMs = this.#deps.clock.now();
    try {
      const detail = await actuator.apply(mode, state);
      this.#applied.set(actuator.id, { signature, stateVersion: state.version });
      if (changed) {
        await this.#deps.audit.appendAudit(actuatorAudit(actuator, mode, state, nowMs, { ok: true, detail }));
        await this.#remember(memoKey, memo, signature, mode, state.version, nowMs);
      }
      return { actuator: actuator.id, mode, result: 'applied' };
    } catch (e) {
      const error = describe(e);
      const key = `${actuator.id}|${state.version}|${mode}`;
      if (this.#escalated.has(key)) return { actuator: actuator.id, mode, result: 'failed', error, paged: true };
      let paged = false;
      try {
        await this.#deps.publisher.publish(
          renderActuatorFailurePage(this.#deps.deploymentName, actuator, mode, state, error),
        );
        paged = true;
      } catch {
        paged = false;
      }
      try {
        await this.#deps.audit.appendAudit(actuatorAudit(actuator, mode, state, nowMs, { ok: false, error }));
      } catch {
        // The store is the source of truth: if it is down, the pollers fail and page on their own.
      }
      if (paged) this.#escalated.add(key);
      return { actuator: actuator.id, mode, result: 'failed', error, paged };
    }
  }

  async #remember(
    key: string,
    read: Awaited<ReturnType<ActuatorMemory['getMemo']>>,
    signature: string,
    mode: ActuatorMode,
    stateVersion: number,
    nowMs: number,
  ): Promise<void> {
    const memory = this.#deps.memory;
    if (!memory) return;
    try {
      const current = read ?? (await memory.getMemo(key));
      if (typeof current?.data.stateVersion === 'number' && current.data.stateVersion > stateVersion) return;
      await memory.putMemo(
        { key, version: (current?.version ?? 0) + 1, data: { signature, mode, stateVersion }, updatedAtMs: nowMs },
        current?.version,
      );
    } catch {
      // Forgetting only costs a repeated (idempotent) application after a cold start.
    }
  }
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.name && e.name !== 'Error' ? `${e.name}: ${e.message}` : e.message;
}
