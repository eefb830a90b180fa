/**
 * How much memory a poller process's cache of other chains' ledgers (core/windows/ledger-cache.ts)
 * takes at a scenario's rates for a config: the scenario is replayed (every rule in shadow, so nothing
 * halts) into the in-memory store, then for every chain's poller, at the scenario's end, the cache is
 * filled with the other chains' records as far back as the config's longest rule reaches (plus the
 * cache's SUMMARY_LAG_SECONDS) and the V8 heap it holds is measured (after a forced GC). Records are
 * deep copies, as records decoded from a DynamoDB response own their strings.
 *
 *   node --expose-gc --import tsx test/bench/ledger-cache-memory.ts \
 *     --config config/example.yaml --scenario ../../shared/scenarios/normal-week.json
 *
 * A scenario shorter than the reach under-fills the cache; the steady state is extrapolated at the
 * scenario's mean rate (records per second of the other chains × reach) and printed beside it.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../../functions/adapters/config/config-file.ts';
import { MemoryBreakerStore } from '../../functions/adapters/memory/memory-breaker-store.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import { replayScenario } from '../../functions/core/replay/replay.ts';
import { parseScenarioText } from '../../functions/core/replay/scenario.ts';
import { LedgerCache } from '../../functions/core/windows/ledger-cache.ts';
import { SUMMARY_LAG_SECONDS } from '../../functions/core/windows/summary.ts';

const { values: args } = parseArgs({
  options: {
    config: { type: 'string', default: 'config/example.yaml' },
    scenario: { type: 'string', default: '../../shared/scenarios/normal-week.json' },
  },
});

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (the heap is measured after a forced GC)');

async function main(): Promise<void> {
  const config = loadConfigFile(args.config);
  const scenario = parseScenarioText(readFileSync(args.scenario, 'utf8'), args.scenario);
  const observer: BreakerConfig = {
    ...config,
    rules: config.rules.map((r) => ({ ...r, shadow: true })),
    watermark: { ...config.watermark, enabled: false, chains: new Set() },
  };
  const store = new MemoryBreakerStore();
  await replayScenario(observer, scenario, { store });
  const chains = [...config.chains.keys()];
  const all = (await Promise.all(chains.map((c) => store.outflowsSince(c, Number.NEGATIVE_INFINITY)))).flat();
  const first = Math.min(...all.map((r) => r.t));
  const end = Math.max(...all.map((r) => r.t));
  const reach = config.maxWindowSeconds + SUMMARY_LAG_SECONDS;
  const perPoller = [];
  // Every cache stays alive to the end, so that no earlier one is collected inside a later measurement.
  const caches: LedgerCache[] = [];
  for (const poller of chains) {
    const others = chains.filter((c) => c !== poller);
    gc?.();
    const before = process.memoryUsage().heapUsed;
    const cache = new LedgerCache();
    caches.push(cache);
    for (const c of others) {
      // A summary whose ledger log never moves: the cache keeps what it read.
      const summary = {
        chain: c,
        leaseVersion: 1,
        series: {},
        updatedAtMs: 0,
        ledger: { epoch: 'e', version: 1, changes: [] },
      };
      await cache.historyOf(c, end - config.maxWindowSeconds, summary, async (chain, since) =>
        structuredClone(await store.outflowsSince(chain, since)),
      );
    }
    gc?.();
    const bytes = process.memoryUsage().heapUsed - before;
    const records = cache.size;
    const otherRecords = all.filter((r) => r.chain !== poller).length;
    const steadyRecords = Math.round((otherRecords / Math.max(1, end - first)) * reach);
    perPoller.push({
      poller,
      recordsHeld: records,
      heapMiB: bytes / 2 ** 20,
      bytesPerRecord: records > 0 ? Math.round(bytes / records) : null,
      steadyStateRecords: steadyRecords,
      steadyStateMiB: records > 0 ? (steadyRecords * (bytes / records)) / 2 ** 20 : 0,
    });
  }
  const result = {
    config: args.config,
    scenario: args.scenario,
    scenarioDays: (end - first) / 86_400,
    outflows: all.length,
    reachDays: reach / 86_400,
    perPoller: perPoller.filter((p) => p.recordsHeld > 0 || p.steadyStateRecords > 0),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`ledger cache memory: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
