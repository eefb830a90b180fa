import { BreakerError } from '../errors.ts';
import {
  actuatorAudit,
  layerDisagreementAudit,
  renderActuatorFailurePage,
  renderLayerDisagreementPage,
} from '../pages/actuator-pages.ts';
import type { AuditLog, PagePublisher, StateMirror } from '../ports.ts';
import type { BreakerState, Page } from '../state.ts';
import type { Clock } from '../time.ts';
import { type Actuator, type ActuatorMemory, type ActuatorMode, modeFor, signatureFor } from './actuator.ts';
import { layerDisagreement } from './layer-check.ts';

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

/** One layer that the self-check found out of line with the state. */
export interface LayerCheckOutcome {
  actuator: string;
  problems: string[];
  repaired: boolean;
  error?: string;
  /** The page went out now (false: already paged for this disagreement, or publishing failed). */
  paged: boolean;
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
  /** Per layer, the disagreement last paged; cleared when the layer agrees again. */
  readonly #disagreeing = new Map<string, string>();
  /** Disagreement pages that could not be published yet: retried at every check. */
  #unpublished: Page[] = [];

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

  /**
   * The per-poll self-check: read every layer that can be read back, then the state (in that
   * order, so a legitimate layer can only lag the state), and repair, audit and page each layer
   * that does not enforce it. A disagreement is looked at twice before anything is done, so a
   * layer caught between a transition's commit and its flush is not paged. Each disagreement is
   * paged once until the layer agrees again. Throws ActuatorError when a page could not be
   * published (the caller's run then fails and the platform alarms).
   */
  async verify(readState: () => Promise<BreakerState>): Promise<LayerCheckOutcome[]> {
    const layers = this.#deps.actuators.filter((a) => a.readBack);
    const suspects = await this.#disagreements(layers, readState);
    const confirmed =
      suspects.length === 0
        ? []
        : await this.#disagreements(
            suspects.map((d) => d.actuator),
            readState,
          );
    for (const a of layers) if (!confirmed.some((d) => d.actuator === a)) this.#disagreeing.delete(a.id);
    const repaired = await Promise.all(confirmed.map((d) => this.#repair(d.actuator, d.state, d.problems)));
    const unpublished: Page[] = [];
    for (const page of [...this.#unpublished, ...repaired.flatMap((r) => (r.page ? [r.page] : []))]) {
      await this.#deps.publisher.publish(page).catch(() => unpublished.push(page));
    }
    this.#unpublished = unpublished;
    if (unpublished.length > 0) {
      throw new ActuatorError(
        `kill-switch layer(s) disagree with the breaker state and could not be paged (retried at the next check): ${unpublished.map((p) => p.details.actuator).join(', ')}`,
        [],
      );
    }
    return repaired.map((r) => ({ ...r.outcome, paged: r.page !== undefined }));
  }

  async #disagreements(
    layers: readonly Actuator[],
    readState: () => Promise<BreakerState>,
  ): Promise<{ actuator: Actuator; state: BreakerState; problems: string[] }[]> {
    const readings = await Promise.all(
      layers.map((a) => a.readBack!().catch((e: unknown) => ({ readable: false as const, problem: describe(e) }))),
    );
    const state = await readState();
    // An absent state item is the tamper check's to halt (core/tamper.ts); never "repair" towards it.
    if (state.version === 0) return [];
    return layers.flatMap((actuator, i) => {
      const problems = layerDisagreement(actuator, readings[i]!, state);
      return problems.length > 0 ? [{ actuator, state, problems }] : [];
    });
  }

  /** Rewrite the layer from the state and audit it; the page to send unless this one was already sent. */
  async #repair(
    actuator: Actuator,
    state: BreakerState,
    problems: string[],
  ): Promise<{ outcome: LayerCheckOutcome; page?: Page }> {
    const mode = modeFor(state, actuator.chains);
    let repair: { ok: true } | { ok: false; error: string };
    try {
      await actuator.apply(mode, state, { repair: true });
      this.#applied.set(actuator.id, { signature: signatureFor(actuator, state), stateVersion: state.version });
      repair = { ok: true };
    } catch (e) {
      repair = { ok: false, error: describe(e) };
    }
    const key = `${mode}|${problems.map((p) => p.replace(/\d+/g, '#')).join('|')}|${repair.ok}`;
    const outcome: LayerCheckOutcome = { actuator: actuator.id, problems, repaired: repair.ok, paged: false };
    if (!repair.ok) outcome.error = repair.error;
    try {
      await this.#deps.audit.appendAudit(
        layerDisagreementAudit(actuator, state, this.#deps.clock.now(), problems, repair.ok),
      );
    } catch {
      // The store is the source of truth: if it is down, the pollers fail and page on their own.
    }
    if (this.#disagreeing.get(actuator.id) === key) return { outcome };
    this.#disagreeing.set(actuator.id, key);
    return { outcome, page: renderLayerDisagreementPage(this.#deps.deploymentName, actuator, state, problems, repair) };
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
    // An older release never undoes a newer halt already applied (two flushes crossing). An older
    // halt is applied all the same: a state version can drop (the item deleted or restored), and a
    // layer that skipped halts for it would be frozen armed.
    if (known && known.stateVersion > state.version && mode === 'released') {
      return { actuator: actuator.id, mode, result: 'skipped' };
    }
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
