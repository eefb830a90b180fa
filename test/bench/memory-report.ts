/**
 * `npm run bench -- --only memory`: the poller's cost inputs — memory, CPU, billed seconds and log bytes
 * of the bundled handler (memory.ts), and DynamoDB requests and write units per poll with the compact
 * cursor (dynamo-requests.ts) — written into BENCHMARKS.md (the marked "Cost inputs" section) and the
 * BENCHMARKS.json fields scripts/cost-estimate.ts reads. The full run writes the same part.
 */

import {
  MEASURED_POLLER_PEAK_RSS_MB,
  POLLER_MEMORY_HEADROOM,
  POLLER_MEMORY_MB,
  pollerMemoryMb,
} from '../../infra/constructs/poller-memory.ts';
import { writeBenchPart } from './bench-part.ts';
import { type DynamoRequestsRun, measureDynamoRequests } from './dynamo-requests.ts';
import { describeMachine, loadAverage } from './machine.ts';
import { measurePollerMemory, type PollerMemoryRun } from './memory.ts';

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
  log('poller cost inputs: the bundled poll-chain handler, two invocations at the stack timeout');
  const memory = await measurePollerMemory();
  log(
    `  peak RSS ${memory.peakRssMb} MiB, ${memory.cpuMsPerPoll} CPU-ms per poll, ${memory.logBytesPerPoll} log bytes per poll, ` +
      `${memory.billedSecondsPerInvocation} s billed per invocation`,
  );
  log('DynamoDB requests per poll with the compact cursor');
  const requests = await measureDynamoRequests();
  return { measuredAt: describeMachine().date, loadAverage: { start, end: loadAverage() }, memory, requests };
}

/** The BENCHMARKS.json fields the cost script reads (infra/cost/estimate.ts benchmarksSchema). */
export function costInputFields(c: CostInputs): Record<string, unknown> {
  const q = c.requests;
  const units = (bytes: number) => Math.ceil(bytes / WRITE_UNIT_BYTES);
  return {
    lambdaSecondsPerInvocation: c.memory.billedSecondsPerInvocation,
    logBytesPerPoll: c.memory.logBytesPerPoll,
    pollerPeakRssMb: c.memory.peakRssMb,
    pollerCpuMsPerPoll: c.memory.cpuMsPerPoll,
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

export function renderCostInputs(c: CostInputs): string {
  const m = c.memory;
  const q = c.requests;
  const sized = pollerMemoryMb(m.peakRssMb);
  const rows = m.invocations.map(
    (i, n) =>
      `| ${n + 1} (${i.cold ? 'cold' : 'warm'}) | ${i.billedSeconds.toFixed(1)} | ${i.polls} | ${i.outflows} | ${i.cpuMs} | ${(i.cpuMs / i.polls).toFixed(1)} |`,
  );
  return [
    '## Cost inputs',
    '',
    `Measured ${c.measuredAt} (load average ${c.loadAverage.start.toFixed(2)} → ${c.loadAverage.end.toFixed(2)} on this 2-core machine: CPU times are process CPU, not wall time, but a loaded machine still inflates them somewhat).`,
    "`npm run bench -- --only memory` (test/bench/memory.ts, memory-report.ts): the poll-chain handler bundled by esbuild with the stack's settings",
    `(${(m.bundleBytes / 1024 ** 2).toFixed(1)} MiB), loaded by a fresh Node ${process.version} process as the Lambda runtime loads it, invoked ${m.invocations.length} times with the stack's ${m.timeoutSeconds} s timeout`,
    `while anvil mined a block a second (${m.blocksMined} blocks, ${m.withdrawalsSent} hot-wallet withdrawals; confirmations 1, poll every 1 s), against dynalite and the local SNS.`,
    '',
    '| Invocation | Billed s | Polls | Outflows | CPU ms | CPU ms / poll |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `- **Peak resident memory ${m.peakRssMb} MiB** (kernel maxRSS of the process over both invocations; ${m.rssAfterInitMb} MiB once the module had loaded). ` +
      `With ${POLLER_MEMORY_HEADROOM}× headroom in 32 MB steps that sizes the poller at **${sized} MB**; the stack uses ${POLLER_MEMORY_MB} MB ` +
      `(infra/constructs/poller-memory.ts, from ${MEASURED_POLLER_PEAK_RSS_MB} MiB; test/infra/poller-memory.test.ts fails when they disagree).`,
    `- **CPU ${m.cpuMsPerPoll} ms per poll** warm, ${m.initCpuMs} ms to start the process and load the bundle (cold start). Lambda gives ${POLLER_MEMORY_MB} MB ` +
      `${(POLLER_MEMORY_MB / 1769).toFixed(3)} of a vCPU, so a poll takes about ${(m.cpuMsPerPoll / (POLLER_MEMORY_MB / 1769)).toFixed(0)} ms of wall time there (a poll a second leaves the loop mostly waiting).`,
    `- **Billed ${m.billedSecondsPerInvocation} s per invocation** (the loop runs until ${m.timeoutSeconds} s − the stop margin): Lambda bills the whole loop, sleeping included.`,
    `- **${m.logBytesPerPoll} bytes of logs per poll** (${m.logBytes} bytes over ${m.invocations.reduce((n, i) => n + i.polls, 0)} polls: the EMF metric and the 'poll run' line once per invocation; a healthy poll logs nothing). ` +
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
