/**
 * `npm run bench -- --only memory`: the poller's cost inputs — memory, CPU, billed seconds and log bytes
 * of the bundled handler (memory.ts), and DynamoDB requests and write units per poll with the compact
 * cursor (dynamo-requests.ts) — written into BENCHMARKS.md (the marked "Cost inputs" section) and the
 * BENCHMARKS.json fields scripts/cost-estimate.ts reads. The full run writes the same part.
 */

import {
  LAMBDA_MB_PER_VCPU,
  MEASURED_GROUP_CPU_MS_PER_SECOND_PER_CHAIN,
  MEASURED_GROUP_EXTRA_CHAIN_MB,
  MEASURED_HISTORY_PEAK_RSS_MB,
  MEASURED_POLLER_PEAK_RSS_MB,
  POLLER_CPU_TARGET_UTILISATION,
  POLLER_HISTORY_HEADROOM,
  POLLER_MEMORY_HEADROOM,
  POLLER_MEMORY_MB,
  type PollerFigures,
  pollerGroupMemoryMb,
  pollerGroupPeakRssMb,
  pollerMemoryMb,
} from '../../infra/constructs/poller-memory.ts';
import { writeBenchPart } from './bench-part.ts';
import { type DynamoRequestsRun, measureDynamoRequests } from './dynamo-requests.ts';
import { describeMachine, loadAverage } from './machine.ts';
import { measurePollerMemory, type PollerMemoryRun, type PollerProcessRun } from './memory.ts';

const WRITE_UNIT_BYTES = 1024;
const READ_UNIT_BYTES = 4096;
export interface CostInputs {
  measuredAt: string;
  loadAverage: { start: number; end: number };
  memory: PollerMemoryRun;
  requests: DynamoRequestsRun;
}

export async function measureCostInputs(log: (line: string) => void): Promise<CostInputs> {
  const start = loadAverage();
  log('poller cost inputs: the bundled poll-chain handler on every chain kind, then all chains in one process');
  const memory = await measurePollerMemory({ log });
  log('DynamoDB requests per poll with the compact cursor');
  const requests = await measureDynamoRequests();
  return { measuredAt: describeMachine().date, loadAverage: { start, end: loadAverage() }, memory, requests };
}

/**
 * The sizing figures a run measured (what infra/constructs/poller-memory.ts copies), and the group's chain count.
 * Memory grows with headroom from the group's peak under the bench traffic; the run with history is the check that
 * the size holds 14 days of it (its heap collected under the size's limit, its peak near that limit by design).
 * CPU is the higher of the group's two runs.
 */
export function sizingFigures(m: PollerMemoryRun): PollerFigures & {
  groupChains: number;
  groupPeakRssMb: number;
  groupCpuMsPerSecond: number;
} {
  const singlePeakRssMb = Math.max(...Object.values(m.single).map((r) => r.peakRssMb));
  const groupChains = m.group.chains.length;
  const groupPeakRssMb = m.group.peakRssMb;
  const groupCpuMsPerSecond = Math.max(m.group.cpuMsPerSecond, m.withHistory.group.cpuMsPerSecond);
  // A group below the one-chain peak (noise) adds nothing per chain rather than shrinking the size.
  const growth = Math.max(0, (groupPeakRssMb - singlePeakRssMb) / Math.max(1, groupChains - 1));
  return {
    singlePeakRssMb,
    extraChainMb: Math.round(growth * 100) / 100,
    cpuMsPerSecondPerChain: Math.round((groupCpuMsPerSecond / groupChains) * 100) / 100,
    historyPeakRssMb: Math.max(m.withHistory.single.peakRssMb, m.withHistory.group.peakRssMb),
    groupChains,
    groupPeakRssMb,
    groupCpuMsPerSecond,
  };
}

/** The BENCHMARKS.json fields the cost script and the sizing test read (infra/cost/estimate.ts benchmarksSchema). */
export function costInputFields(c: CostInputs): Record<string, unknown> {
  const q = c.requests;
  const g = c.memory.group;
  const sizing = sizingFigures(c.memory);
  const units = (bytes: number) => Math.ceil(bytes / WRITE_UNIT_BYTES);
  return {
    // The group's figures: it runs every kind of chain, so its per-poll averages cover them all.
    lambdaSecondsPerInvocation: g.billedSecondsPerInvocation,
    logBytesPerPoll: g.logBytesPerPoll,
    pollerCpuMsPerPoll: g.cpuMsPerPoll,
    pollerPeakRssMb: sizing.singlePeakRssMb,
    pollerPeakRssMbByKind: Object.fromEntries(Object.entries(c.memory.single).map(([k, r]) => [k, r.peakRssMb])),
    pollerGroupChains: sizing.groupChains,
    pollerGroupPeakRssMb: sizing.groupPeakRssMb,
    pollerGroupExtraChainMb: sizing.extraChainMb,
    pollerGroupCpuMsPerSecond: sizing.groupCpuMsPerSecond,
    pollerGroupCpuMsPerSecondPerChain: sizing.cpuMsPerSecondPerChain,
    pollerHistoryPeakRssMb: sizing.historyPeakRssMb,
    dynamoRequestsPerIdlePoll: q.idlePollNewEmptyBlock.requests,
    dynamoWritesPerIdlePoll: q.idlePollNewEmptyBlock.writes,
    dynamoWriteUnitsPerIdlePoll: units(q.cursorItemBytes) * q.idlePollNewEmptyBlock.writes,
    // An idle poll reads the state item (the config check), strongly consistent: one unit per 4 KB.
    dynamoReadUnitsPerIdlePoll:
      (q.idlePollNewEmptyBlock.requests - q.idlePollNewEmptyBlock.writes) *
      Math.ceil(q.stateItemBytes / READ_UNIT_BYTES),
    // The writes one outflow adds (cursor lease and commit, the record, the state when it changes), each priced as the largest item.
    dynamoWriteUnitsPerOutflow:
      q.extraPerOutflow.writes * Math.max(units(q.cursorItemBytes), units(q.stateItemBytes), units(q.outflowItemBytes)),
    cursorWriteUnits: units(q.cursorItemBytes),
    cursorItemBytes: q.cursorItemBytes,
    stateItemBytes: q.stateItemBytes,
    bytesPerOutflowRecord: q.outflowItemBytes,
  };
}

function processRow(label: string, r: PollerProcessRun): string {
  const limit = r.memoryMb === undefined ? 'Node default' : `${r.memoryMb} MB`;
  const fits = r.memoryMb === undefined ? '' : r.peakRssMb <= r.memoryMb ? ' (fits)' : ' (**does not fit**)';
  return (
    `| ${label} | ${limit} | ${r.peakRssMb}${fits} | ${r.rssAfterInitMb} | ${r.initCpuMs} | ${r.pollsPerMinute} | ${r.cpuMsPerPoll} | ${r.cpuMsPerSecond} | ` +
    `${r.invocations.map((i) => i.outflows).join(' + ')} | ${r.billedSecondsPerInvocation} |`
  );
}

export function renderCostInputs(c: CostInputs): string {
  const m = c.memory;
  const q = c.requests;
  const g = m.group;
  const h = m.withHistory;
  const sizing = sizingFigures(m);
  const groupMb = pollerGroupMemoryMb(sizing.groupChains, sizing);
  const vcpu = (mb: number) => mb / LAMBDA_MB_PER_VCPU;
  const busy = (mb: number) => `${((sizing.groupCpuMsPerSecond / 1000 / vcpu(mb)) * 100).toFixed(0)} %`;
  const traffic = Object.entries(m.traffic)
    .map(([chain, t]) => `${chain} ${t.blocks}/${t.withdrawals}`)
    .join(', ');
  return [
    '## Cost inputs',
    '',
    `Measured ${c.measuredAt} (load average ${c.loadAverage.start.toFixed(2)} → ${c.loadAverage.end.toFixed(2)} on this 2-core machine: CPU times are process CPU, not wall time, but a loaded machine still inflates them somewhat).`,
    "`npm run bench -- --only memory` (test/bench/memory.ts, group-world.ts, memory-report.ts): the poll-chain handler bundled by esbuild with the stack's settings",
    `(${(m.bundleBytes / 1024 ** 2).toFixed(1)} MiB), loaded by a fresh Node ${process.version} process per row as the Lambda runtime loads it, invoked ${g.invocations.length} times with \`{"chains": [...]}\` and the stack's ${m.timeoutSeconds} s timeout,`,
    "against dynalite and the local SNS, while config/example.yaml's eleven chains ran on their stand-ins (an anvil per EVM chain, the Bitcoin devnet, the XRPL ledger server, the Solana LiteSVM node, the Tron node) at the example's confirmations and poll intervals",
    `and block times (Bitcoin's capped at 10 s), three blocks in four carrying a hot-wallet withdrawal pair, at most one such block a second per chain (blocks/withdrawals: ${traffic}).`,
    "The one-chain rows ran side by side (one process per kind), the group alone, under Node's default heap limits (the heap grows unpressed: an upper bound of what it needs).",
    `The last two rows ran side by side on tables holding ${h.historyRecords} outflows: ${h.historyDays} days of the normal-week scenario's withdrawals (Ethereum, BSC, Bitcoin; test/bench/history-seed.ts),`,
    `with config/example.yaml's 14-day drain patterns (newDestinations, walletProfile; levels nothing reaches), so every poll with outflows reads every chain's ${h.historyDays} days,`,
    `a withdrawal pair only every ${h.withdrawalSpacingSeconds} s per chain (about five times the normal week's rate), and the V8 heap limits Lambda's Node.js runtime sets for the memory`,
    'the stack gives them (a tenth for the young generation, the rest for the old; test/bench/memory.ts lambdaNodeFlags): they check the sizes hold that history, collected as it would be there.',
    '',
    '| Process | Heap limits of | Peak RSS MiB | RSS after load MiB | Cold start CPU ms | Polls / min | CPU ms / poll | CPU ms / s | Outflows (per invocation) | Billed s |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...Object.entries(m.single).map(([kind, r]) => processRow(`${kind} alone (${r.chains[0]})`, r)),
    processRow(`group: all ${g.chains.length} chains`, g),
    processRow(`${h.single.chains[0]} alone, ${h.historyDays} days of history, patterns`, h.single),
    processRow(`group, ${h.historyDays} days of history, patterns`, h.group),
    '',
    `- **Working set:** one chain alone peaks at ${sizing.singlePeakRssMb} MiB (the highest kind), the group of ${sizing.groupChains} at ${g.peakRssMb} MiB, ` +
      `${sizing.extraChainMb} MiB per chain beyond the first; with ${POLLER_MEMORY_HEADROOM}× headroom that alone would size a one-chain poller at ${pollerMemoryMb(sizing.singlePeakRssMb)} MB ` +
      `and the group at ${pollerMemoryMb(pollerGroupPeakRssMb(sizing.groupChains, sizing))} MB.`,
    `- **History:** reading ${h.historyDays} days of normal-week history (the patterns), ${h.single.chains[0]} alone peaked at ${h.single.peakRssMb} MiB under the limits of ${h.single.memoryMb} MB ` +
      `and the group at ${h.group.peakRssMb} MiB under those of ${h.group.memoryMb} MB (${[h.single, h.group].every((r) => r.memoryMb !== undefined && r.peakRssMb <= r.memoryMb) ? 'both within their memory' : '**not both within their memory**'}): ` +
      "the history, not the number of chains, decides; with its headroom it sets every poller's floor.",
    `- **CPU: ${sizing.groupCpuMsPerSecond} CPU-ms per second** of the group's loop, the higher of its runs (${sizing.cpuMsPerSecondPerChain} per chain; under the bench traffic ${g.cpuMsPerSecond}: ` +
      `${g.pollsPerMinute} polls a minute, ${g.cpuMsPerPoll} ms a poll, warm; with the history ${h.group.cpuMsPerSecond}).`,
    `- **Sizing** (infra/constructs/poller-memory.ts pollerGroupMemoryMb, one chain = a group of one): the largest of the working set (one-chain peak + (n − 1) × the growth) × ${POLLER_MEMORY_HEADROOM}, ` +
      `the memory whose CPU share (${LAMBDA_MB_PER_VCPU} MB = one vCPU) n × ${sizing.cpuMsPerSecondPerChain} CPU-ms per second keep at most ${POLLER_CPU_TARGET_UTILISATION * 100} % busy, ` +
      `and the history peak × ${POLLER_HISTORY_HEADROOM}; 32 MB steps: **${pollerGroupMemoryMb(1, sizing)} MB** for one chain, **${groupMb} MB** for all ${sizing.groupChains}. ` +
      `The stack: ${POLLER_MEMORY_MB} and ${pollerGroupMemoryMb(sizing.groupChains)} MB (from ${MEASURED_POLLER_PEAK_RSS_MB} MiB + ${MEASURED_GROUP_EXTRA_CHAIN_MB} MiB per chain, ` +
      `${MEASURED_GROUP_CPU_MS_PER_SECOND_PER_CHAIN} CPU-ms/s per chain, ${MEASURED_HISTORY_PEAK_RSS_MB} MiB of history; test/infra/poller-memory.test.ts fails when they size differently).`,
    `- **CPU share:** ${groupMb} MB gets ${vcpu(groupMb).toFixed(3)} of a vCPU, which that CPU time keeps ${busy(groupMb)} busy. ` +
      'CPU time on this machine, not on Lambda\'s arm64 cores (not measured); detection latency with chains sharing a process is the "Group detection" part.',
    `- **Billed ${g.billedSecondsPerInvocation} s per invocation** (the loop runs until ${m.timeoutSeconds} s − the stop margin): Lambda bills the whole loop, sleeping included — once per group.`,
    `- **${g.logBytesPerPoll} bytes of logs per poll** in the group (${g.logBytes} bytes over ${g.invocations.reduce((n, i) => n + i.polls, 0)} polls: each chain's EMF metric and 'poll run' line once per invocation; a healthy poll logs nothing). ` +
      "Lambda's own START/END/REPORT lines come on top (not measurable here).",
    `- **DynamoDB, compact cursor:** cursor item ${q.cursorItemBytes} B = ${Math.ceil(q.cursorItemBytes / WRITE_UNIT_BYTES)} write unit; an idle poll over a new empty block makes ${q.idlePollNewEmptyBlock.requests} requests, ${q.idlePollNewEmptyBlock.writes} writes ` +
      `(${q.idlePollNewEmptyBlock.writes === 0 ? 'the cursor is saved every 30 s, not per poll' : 'averaged over the samples'}); a poll with ${q.outflowsPerBlock} outflow${q.outflowsPerBlock === 1 ? '' : 's'} ${q.pollWithOutflows.requests} requests. ` +
      `Breaker state ${q.stateItemBytes} B, outflow record ${q.outflowItemBytes} B. ` +
      'Measured after the last full run, these supersede section 4 and the findings where they differ (the next full run writes both from one measurement).',
    '',
  ].join('\n');
}

export function writeCostInputsPart(out: string, c: CostInputs): void {
  writeBenchPart(out, 'cost inputs', renderCostInputs(c), {
    ...costInputFields(c),
    costInputs: { measuredAt: c.measuredAt, loadAverage: c.loadAverage, memory: c.memory, requests: c.requests },
  });
}
