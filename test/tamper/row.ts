/**
 * A tamper row of docs/RELIABILITY.md: who tampers, how, what answers it, and how long until the
 * breaker was halted or paged. Written where scripts/reliability-matrix.ts reads the fault rows.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { reliabilityDir } from '../faults/world.ts';

export interface TamperRow {
  attacker: string;
  tamper: string;
  control: string;
  /** Always ends "halted or paged; nothing silently re-armed" — the test asserts both halves. */
  outcome: string;
  /** Wall-clock ms from the tamper to the breaker halted or paged (measured by the test). */
  recoveryMs: number;
  observed: string;
}

export const NOTHING_REARMED = 'halted or paged; nothing silently re-armed';

/** Call from inside the test: the row is keyed by the test's full name, as vitest's report names it. */
export function recordTamperRow(row: TamperRow): void {
  const testName = expect.getState().currentTestName ?? 'unnamed';
  const dir = reliabilityDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `tamper-${testName.replace(/[^a-zA-Z0-9]+/g, '-').slice(0, 120)}.json`);
  writeFileSync(file, JSON.stringify({ test: testName, ...row }, null, 2));
}
