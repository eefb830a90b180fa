/**
 * `npm run bench -- --only group-detection [--trials 20]`: detection latency of a chain polled inside a poller
 * group. The detection bench's chain (anvil, a block a second, confirmations 1, poll every 1 s; detection.ts)
 * is polled by runPollers twice on the same machine and world (group-world.ts: config/example.yaml's eleven
 * chains producing blocks with withdrawals on their stand-ins):
 *  - alone: the run polls only this chain (the other chains are in the config, not polled);
 *  - in the group: the same run also polls all eleven chains, each in its own loop, in this process.
 * Block mined → trip acknowledged by the store, per trial. The figures are this machine's (2 shared cores, the
 * stand-ins and dynalite in the same process): Lambda's share of a vCPU is smaller; see the section's notes.
 */

import { LAMBDA_MB_PER_VCPU, pollerGroupMemoryMb } from '../../infra/constructs/poller-memory.ts';
import { writeBenchPart } from './bench-part.ts';
import { type DetectionRun, measureDetection } from './detection.ts';
import { startGroupWorld } from './group-world.ts';
import { loadAverage } from './machine.ts';

export interface GroupDetectionResults {
  measuredAt: string;
  loadAverage: { start: number; end: number };
  /** The example's chains polled beside the bench chain in the group run. */
  exampleChains: number;
  alone: DetectionRun;
  group: DetectionRun;
}

const SETTINGS = { confirmations: 1, pollIntervalSeconds: 1 } as const;

export async function measureGroupDetection(
  trials: number,
  log: (line: string) => void,
): Promise<GroupDetectionResults> {
  const start = loadAverage();
  // Two runs of `trials` trips (a few seconds each) plus the world's start-up: bounded well inside this.
  const world = await startGroupWorld({ maxSeconds: 60 + 2 * trials * 20 });
  try {
    const run = async (pollNeighbours: boolean) => {
      const name = pollNeighbours ? `in a group of ${world.chainIds.length + 1}` : 'alone';
      log(`group detection: the bench chain ${name}, ${trials} trips (conf 1, poll 1 s, a block a second)`);
      const r = await measureDetection({
        ...SETTINGS,
        trials,
        group: { world, pollNeighbours },
        onTrial: (trial, ms) => {
          if (trial % 5 === 0 || trial === trials) log(`  [${name}] trip ${trial}/${trials}: ${ms.toFixed(0)} ms`);
        },
      });
      log(`  p50 ${r.p50Ms.toFixed(0)} ms, p95 ${r.p95Ms.toFixed(0)} ms, max ${r.maxMs.toFixed(0)} ms`);
      return r;
    };
    const alone = await run(false);
    const group = await run(true);
    return {
      measuredAt: new Date().toISOString(),
      loadAverage: { start, end: loadAverage() },
      exampleChains: world.chainIds.length,
      alone,
      group,
    };
  } finally {
    await world.stop();
  }
}

export function renderGroupDetection(r: GroupDetectionResults): string {
  const groupMb = pollerGroupMemoryMb(r.exampleChains);
  const row = (label: string, d: DetectionRun) =>
    `| ${label} | ${d.polledChains?.length ?? 1} | ${d.trials} | ${d.p50Ms.toFixed(0)} | ${d.p95Ms.toFixed(0)} | ${d.maxMs.toFixed(0)} | ${d.pollFinishedP95Ms.toFixed(0)} | ${d.measuredPollsPerMinute.toFixed(1)} | ${d.processCpuMsPerSecond ?? '–'} |`;
  return [
    '## Group detection',
    '',
    `Measured ${r.measuredAt} (load average ${r.loadAverage.start.toFixed(2)} → ${r.loadAverage.end.toFixed(2)} on this 2-core machine, shared).`,
    '`npm run bench -- --only group-detection` (test/bench/group-detection.ts, detection.ts, group-world.ts): block mined → trip acknowledged by the store,',
    "for the detection bench's chain (anvil, a block a second, confirmations 1, poll every 1 s, a $3,000 withdrawal against its $1,000 single-transaction limit),",
    "polled by `runPollers` alone and then beside config/example.yaml's eleven chains (each producing blocks with hot-wallet withdrawals on its stand-in), in one process with dynalite.",
    '',
    '| Run | Chains polled | Trips | p50 ms | p95 ms | max ms | poll finished p95 ms | Polls / min (this chain) | Process CPU ms / s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    row('alone', r.alone),
    row('in the group', r.group),
    '',
    '- Process CPU includes the stand-ins and dynalite, which run in the bench process: it is not the group\'s own CPU (that is "Cost inputs": the bundled handler in a process of its own).',
    `- How far this carries to Lambda: here the process had up to two cores; Lambda gives the example's group (${groupMb} MB) ${(groupMb / LAMBDA_MB_PER_VCPU).toFixed(3)} of one. What carries` +
      ' is the difference between the rows (the loops do not hold each other up when CPU is available); what does not is the absolute figure under Lambda\'s CPU share. A poll\'s CPU time divided by that share is its wall time there ("Cost inputs").',
    '',
  ].join('\n');
}

export async function groupDetectionPart(out: string, trials: number, log: (line: string) => void): Promise<void> {
  const r = await measureGroupDetection(trials, log);
  const trim = ({ latenciesMs, ...d }: DetectionRun) => ({
    ...d,
    latenciesMs: latenciesMs.map((ms) => Math.round(ms)),
  });
  writeBenchPart(out, 'group detection', renderGroupDetection(r), {
    groupDetection: { ...r, alone: trim(r.alone), group: trim(r.group) },
  });
}
