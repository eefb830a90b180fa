/**
 * A breaker table as a poller finds it after weeks in production: the outflows of the normal-week scenario
 * (../shared/scenarios/normal-week.json: customer withdrawals on Ethereum, BNB Smart Chain and Bitcoin), replayed
 * through config/example.yaml's rules (in shadow, so nothing halts) and repeated back in time to fill `days`,
 * ending at `endUnix`. What config/example.yaml's 14-day drain patterns make every poll with outflows read.
 */

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfigFile } from '../../functions/adapters/config/config-file.ts';
import { MemoryBreakerStore } from '../../functions/adapters/memory/memory-breaker-store.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import type { OutflowRecord } from '../../functions/core/model.ts';
import type { OutflowLedger } from '../../functions/core/ports.ts';
import { replayScenario } from '../../functions/core/replay/replay.ts';
import { parseScenarioText } from '../../functions/core/replay/scenario.ts';
import { REPO_ROOT } from '../../infra/paths.ts';

export const NORMAL_WEEK_SCENARIO = resolve(REPO_ROOT, '../shared/scenarios/normal-week.json');
const WRITE_CHUNK = 500;

export async function normalWeekHistory(days: number, endUnix: number): Promise<OutflowRecord[]> {
  const example = loadConfigFile(join(REPO_ROOT, 'config', 'example.yaml'));
  const observer: BreakerConfig = {
    ...example,
    rules: example.rules.map((r) => ({ ...r, shadow: true })),
    watermark: { ...example.watermark, enabled: false, chains: new Set() },
  };
  const scenario = parseScenarioText(readFileSync(NORMAL_WEEK_SCENARIO, 'utf8'), NORMAL_WEEK_SCENARIO);
  const store = new MemoryBreakerStore();
  await replayScenario(observer, scenario, { store });
  const week = (
    await Promise.all([...example.chains.keys()].map((c) => store.outflowsSince(c, Number.NEGATIVE_INFINITY)))
  ).flat();
  if (week.length === 0) throw new Error(`${NORMAL_WEEK_SCENARIO}: the replay recorded no outflow`);
  const first = Math.min(...week.map((r) => r.t));
  const span = Math.max(...week.map((r) => r.t)) - first + 1;
  const from = endUnix - days * 86_400;
  const out: OutflowRecord[] = [];
  // Copy k ends k scenario spans before endUnix; later copies get their own transaction ids.
  for (let k = 0; endUnix - k * span > from; k++) {
    const shift = endUnix - (k + 1) * span - first + 1;
    for (const r of week) {
      // Whole seconds, as block times are (the scenario's are fractional; the store keys on whole seconds).
      const t = Math.floor(r.t + shift);
      if (t < from) continue;
      const txHash = k === 0 ? r.txHash : `${r.txHash}${k}`;
      out.push({ ...r, t, blockTime: t, txHash, id: `${r.chain}:${txHash}:${r.index ?? 'native'}` });
    }
  }
  return out;
}

export async function seedHistory(ledger: OutflowLedger, records: readonly OutflowRecord[]): Promise<void> {
  for (let i = 0; i < records.length; i += WRITE_CHUNK) await ledger.recordOutflows(records.slice(i, i + WRITE_CHUNK));
}
