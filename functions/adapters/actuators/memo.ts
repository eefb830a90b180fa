import type { ActuatorMemo, ActuatorMemory } from '../../core/actuators/actuator.ts';

/**
 * What a layer that changes a setting must remember to put it back: the setting before the first
 * engagement. Written before the setting is changed, and never overwritten while engaged, so a
 * repeated or concurrent engagement can never record "0" as the previous value.
 */
export async function rememberBeforeEngage(
  memory: ActuatorMemory,
  key: string,
  nowMs: number,
  capture: () => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const memo = await memory.getMemo(key);
    if (memo?.data.engaged === true) return memo.data;
    const data = { ...(await capture()), engaged: true, engagedAtMs: nowMs };
    if (await memory.putMemo({ key, version: (memo?.version ?? 0) + 1, data, updatedAtMs: nowMs }, memo?.version)) {
      return data;
    }
  }
  throw new Error(`actuator memory ${key} kept changing`);
}

/** Restore what rememberBeforeEngage kept, once; 'nothing' when this layer never engaged it. */
export async function restoreOnRelease(
  memory: ActuatorMemory,
  key: string,
  nowMs: number,
  restore: (remembered: Record<string, unknown>) => Promise<void>,
): Promise<{ restored: boolean; remembered?: Record<string, unknown> }> {
  const memo = await memory.getMemo(key);
  if (memo?.data.engaged !== true) return { restored: false };
  await restore(memo.data);
  // A conflict means another process released (or re-engaged) it meanwhile: its write stands.
  await memory.putMemo(
    { key, version: memo.version + 1, data: { ...memo.data, engaged: false, releasedAtMs: nowMs }, updatedAtMs: nowMs },
    memo.version,
  );
  return { restored: true, remembered: memo.data };
}

/** Actuator memory in process memory (tests, and the local runtime without a table). */
export class InMemoryActuatorMemory implements ActuatorMemory {
  readonly memos = new Map<string, ActuatorMemo>();

  async getMemo(key: string): Promise<ActuatorMemo | undefined> {
    const memo = this.memos.get(key);
    return memo && structuredClone(memo);
  }

  async putMemo(memo: ActuatorMemo, expectedVersion: number | undefined): Promise<boolean> {
    const current = this.memos.get(memo.key);
    if (current?.version !== expectedVersion) return false;
    this.memos.set(memo.key, structuredClone(memo));
    return true;
  }
}
