import { microsToUsdNumber } from '../amounts.ts';
import type { Scenario, ScenarioEvent } from './scenario.ts';

/**
 * Scoring a replay: detection apart from prevention.
 *
 * A halt stops the exchange's own signer. An attack event is *stoppable* only when it goes through
 * that signer (`via: "signer"`); a thief signing with stolen hot keys elsewhere (`via: "stolen-key"`,
 * the default for attack events) keeps sending after the halt, so no halt prevents any of it. The
 * breaker still *detects* the theft: how long after the first attack outflow it tripped, and how much
 * was already out by then.
 */

/** The FORMAT.md result object (`--json`), extended. USD figures are dollars, rounded to cents. */
export interface ReplayScore {
  scenario: string;
  tripped: boolean;
  trippedAtS: number | null;
  rule: string | null;
  attackUsd: number;
  /** Attack USD the halt did not stop: attackUsd − preventedUsd. */
  lostUsd: number;
  /** Attack USD through the exchange's signer that came after the halt of its scope: never signed. */
  preventedUsd: number;
  /** Attack USD signed with stolen keys outside the signer: a halt prevents none of it. */
  stolenKeyAttackUsd: number;
  legitUsd: number;
  legitBlockedUsd: number;
  events: number;
  detection: DetectionScore;
}

export interface DetectionScore {
  /** Scenario seconds of the first attack outflow's block; null without attack events. */
  firstAttackAtS: number | null;
  /** Seconds from the first attack outflow to the first trip; null when either is missing. */
  timeToTripS: number | null;
  /** Attack USD already in blocks when the halt covering its chain came (all of it where none came). */
  attackOutBeforeTripUsd: number;
  /** attackOutBeforeTripUsd ÷ attackUsd, 0…1 to four places; null without attack events. */
  attackOutBeforeTripShare: number | null;
}

/** What happened to an event in the replay (an inflow is never observed as an outflow, nor scored). */
export type Fate = 'observed' | 'prevented' | 'unobserved' | 'inflow';

export interface ScoredTrip {
  atS: number;
  ruleId: string;
  scope: string;
}

/** Whether a halt stops this event: only what the exchange's own signer would sign. */
export function haltStops(event: ScenarioEvent): boolean {
  return event.via === 'signer';
}

/** Earliest trip (scenario seconds) whose scope covers `chain`. */
export function haltTime(trips: readonly { atS: number; scope: string }[], chain: string): number | undefined {
  let at: number | undefined;
  for (const trip of trips) {
    if ((trip.scope === 'global' || trip.scope === `chain:${chain}`) && (at === undefined || trip.atS < at))
      at = trip.atS;
  }
  return at;
}

export function scoreReplay(
  scenario: Scenario,
  fate: readonly Fate[],
  trips: readonly ScoredTrip[],
  usdOf: (event: ScenarioEvent) => bigint,
): ReplayScore {
  let attack = 0n;
  let prevented = 0n;
  let stolenKey = 0n;
  let legit = 0n;
  let legitBlocked = 0n;
  let outBeforeTrip = 0n;
  let firstAttackAt: number | undefined;
  for (const e of scenario.events) {
    if (e.direction === 'in') continue;
    const usd = usdOf(e);
    const haltedAt = haltTime(trips, e.chain);
    // Observed events were decided when observed; unobserved ones by their block time.
    const blocked =
      fate[e.index] === 'prevented' ||
      (fate[e.index] === 'unobserved' && haltStops(e) && haltedAt !== undefined && haltedAt < e.t);
    if (e.label === 'attack') {
      attack += usd;
      if (blocked) prevented += usd;
      if (!haltStops(e)) stolenKey += usd;
      if (haltedAt === undefined || e.t <= haltedAt) outBeforeTrip += usd;
      if (firstAttackAt === undefined || e.t < firstAttackAt) firstAttackAt = e.t;
    } else {
      legit += usd;
      if (blocked) legitBlocked += usd;
    }
  }
  const first = trips[0];
  return {
    scenario: scenario.name,
    tripped: first !== undefined,
    trippedAtS: first ? roundSeconds(first.atS) : null,
    rule: first ? first.ruleId : null,
    attackUsd: dollars(attack),
    lostUsd: dollars(attack - prevented),
    preventedUsd: dollars(prevented),
    stolenKeyAttackUsd: dollars(stolenKey),
    legitUsd: dollars(legit),
    legitBlockedUsd: dollars(legitBlocked),
    events: scenario.events.length,
    detection: {
      firstAttackAtS: firstAttackAt === undefined ? null : roundSeconds(firstAttackAt),
      timeToTripS: first && firstAttackAt !== undefined ? roundSeconds(first.atS - firstAttackAt) : null,
      attackOutBeforeTripUsd: dollars(outBeforeTrip),
      // A share for reports only; the USD figures stay exact to the cent.
      attackOutBeforeTripShare: attack === 0n ? null : Number((outBeforeTrip * 10_000n) / attack) / 10_000,
    },
  };
}

function dollars(micros: bigint): number {
  return Math.round(microsToUsdNumber(micros) * 100) / 100;
}

export function roundSeconds(s: number): number {
  return Math.round(s * 1000) / 1000;
}
