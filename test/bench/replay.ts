/**
 * Replay speed: normal-week.json (20,072 events over 7 days, three chains) through config/example.yaml
 * on the in-memory store. One warm-up run, then the median of three. `npm run bench` reports it; run
 * alone with `npx tsx test/bench/replay.ts`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../../functions/adapters/config/config-file.ts';
import { MemoryBreakerStore } from '../../functions/adapters/memory/memory-breaker-store.ts';
import { replayScenario } from '../../functions/core/replay/replay.ts';
import { parseScenarioText } from '../../functions/core/replay/scenario.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ReplayBench {
  events: number;
  seconds: number;
  eventsPerSecond: number;
}

export async function benchReplay(
  scenarioPath = join(ROOT, '..', 'shared', 'scenarios', 'normal-week.json'),
  configPath = join(ROOT, 'config', 'example.yaml'),
): Promise<ReplayBench> {
  const config = loadConfigFile(configPath);
  const scenario = parseScenarioText(readFileSync(scenarioPath, 'utf8'), scenarioPath);
  const once = async () => {
    const started = performance.now();
    await replayScenario(config, scenario, { store: new MemoryBreakerStore() });
    return (performance.now() - started) / 1000;
  };
  await once();
  const runs = [await once(), await once(), await once()].sort((a, b) => a - b);
  const seconds = runs[1] as number;
  const events = scenario.events.length;
  return { events, seconds: Math.round(seconds * 1000) / 1000, eventsPerSecond: Math.round(events / seconds) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  benchReplay().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
