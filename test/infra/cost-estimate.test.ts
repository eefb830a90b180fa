import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLLER_MEMORY_MB, pollerGroupMemoryMb } from '../../infra/constructs/poller-memory.ts';
import { POLLER_STOP_MARGIN, POLLER_TIMEOUT } from '../../infra/constructs/poller-timing.ts';
import {
  type Benchmarks,
  type Deployment,
  estimateMonthlyCost,
  formatMarkdown,
  measuredReadUnitsPerOutflowPoll,
  type Workload,
} from '../../infra/cost/estimate.ts';
import { MINUTES_PER_MONTH, PRICES } from '../../infra/cost/prices.ts';
import { REPO_ROOT } from '../../infra/paths.ts';
import {
  describeDeployment,
  readBenchmarks,
  scenarioOutflowsPerDay,
  scheduledChains,
} from '../../scripts/cost-estimate.ts';

const dir = mkdtempSync(join(tmpdir(), 'breaker-cost-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bench: Benchmarks = { dynamoRequestsPerIdlePoll: 3, dynamoRequestsPerOutflow: 4, rpcCallsPerBlock: 2 };
const workload: Workload = {
  chains: [
    { id: 'ethereum', blockTimeSeconds: 12, pollIntervalSeconds: 12, outflowsPerDay: 1000 },
    { id: 'bsc', blockTimeSeconds: 3, pollIntervalSeconds: 3, outflowsPerDay: 0 },
  ],
  pagesPerMonth: 10,
  resetsPerMonth: 2,
  source: 'a test',
};
let deployment: Deployment;

beforeAll(() => {
  // The estimate reads the real stack, synthesised once for this file.
  deployment = describeDeployment(join(REPO_ROOT, 'test/fixtures/config/limits-only.yaml')).deployment;
});

const usd = (e: ReturnType<typeof estimateMonthlyCost>, service: string, item: RegExp) =>
  e.lines.filter((l) => l.service === service && item.test(l.item)).reduce((s, l) => s + l.usd, 0);
const readUnits = (e: ReturnType<typeof estimateMonthlyCost>) =>
  e.lines.find((l) => /read request/.test(l.item))!.quantity;
/**
 * What a cold poller function reads back, written out: each function, 12 cold starts a day, reads every chain's
 * outflows over the rules' reach (1 KiB a record without a measured size) in 4 KB units.
 */
const coldReads = (d: Deployment, bytesPerRecord = 1024) =>
  d.pollers.length *
  12 *
  (MINUTES_PER_MONTH / 1440) *
  Math.ceil((1000 * Math.min(d.historyReachSeconds / 86_400, d.outflowRetentionDays) * bytesPerRecord) / 4096);

describe('cost estimate', () => {
  it('reads the deployment from the synthesised stack: a poller function per chain when the config has no groups', () => {
    expect(deployment.pollers).toEqual(
      ['ethereum', 'bsc', 'bitcoin'].map((chain) => ({
        group: chain,
        memoryMb: POLLER_MEMORY_MB,
        timeoutSeconds: POLLER_TIMEOUT.toSeconds(),
        chains: [{ chain, idleCursorSavesPerMinute: 3 }],
      })),
    );
    expect(deployment).toMatchObject({ alarms: 13, kmsKeys: 2, subscriptions: { email: 1, https: 1, sms: 0 } });
  });

  it('bills each poller function for its whole loop, every minute of the month', () => {
    const e = estimateMonthlyCost(bench, deployment, workload);
    const seconds = POLLER_TIMEOUT.toSeconds() - POLLER_STOP_MARGIN.toSeconds();
    const functions = deployment.pollers.length;
    const gbSeconds = functions * (POLLER_MEMORY_MB / 1024) * seconds * MINUTES_PER_MONTH;
    expect(usd(e, 'Lambda', /compute/)).toBeCloseTo(gbSeconds * PRICES.lambdaArmPerGbSecond, 6);
    expect(e.lines.find((l) => l.service === 'EventBridge Scheduler')!.quantity).toBe(functions * MINUTES_PER_MONTH);
    expect(e.lines.find((l) => l.service === 'X-Ray')!.quantity).toBe(functions * MINUTES_PER_MONTH);
    expect(e.pollerFunctions.map((p) => p.group)).toEqual(['ethereum', 'bsc', 'bitcoin']);
  });

  it('bills a poller group once for all its chains: invocations, traces, compute and KMS per function, polls per chain', () => {
    const chains = (ids: string[]) => ids.map((chain) => ({ chain, idleCursorSavesPerMinute: 3 }));
    const fn = { memoryMb: 256, timeoutSeconds: 65 };
    const apart: Deployment = {
      ...deployment,
      pollers: [
        { group: 'ethereum', ...fn, chains: chains(['ethereum']) },
        { group: 'bsc', ...fn, chains: chains(['bsc']) },
      ],
    };
    const together: Deployment = {
      ...deployment,
      pollers: [{ group: 'evm', ...fn, chains: chains(['ethereum', 'bsc']) }],
    };
    const a = estimateMonthlyCost(bench, apart, workload);
    const t = estimateMonthlyCost(bench, together, workload);
    expect(usd(t, 'Lambda', /compute/)).toBeCloseTo(usd(a, 'Lambda', /compute/) / 2, 6);
    for (const [service, item] of [
      ['Lambda', /requests/],
      ['EventBridge Scheduler', /schedules/],
      ['X-Ray', /traces/],
      ['KMS', /requests/],
    ] as const) {
      expect(usd(t, service, item), `${service} ${item}`).toBeCloseTo(usd(a, service, item) / 2, 9);
    }
    // Every chain still polls at its own interval: DynamoDB writes and RPC do not change; one function's cold
    // starts read the ledgers back once for both chains instead of once per function.
    expect(usd(t, 'DynamoDB', /write request/)).toBeCloseTo(usd(a, 'DynamoDB', /write request/), 9);
    // ... and each function's ledger cache reads a new record back once: one function fewer, one read fewer.
    const outflows = 1000 * (MINUTES_PER_MONTH / 1440);
    expect(readUnits(a) - readUnits(t)).toBeCloseTo(coldReads(apart) - coldReads(together) + outflows, 3);
    expect(coldReads(together)).toBeGreaterThan(0);
    expect(t.rpcCallsPerMonth).toEqual(a.rpcCallsPerMonth);
    expect(t.pollerFunctions).toEqual([
      { group: 'evm', chains: ['ethereum', 'bsc'], memoryMb: 256, computeUsd: usd(t, 'Lambda', /compute/) },
    ]);
    expect(formatMarkdown(t, 'x')).toContain('evm = ethereum + bsc (256 MB,');
  });

  it("reads config/example.yaml's poller group as one function sized for all its chains", () => {
    const example = describeDeployment(join(REPO_ROOT, 'config/example.yaml'));
    const ids = example.chains.map((c) => c.id);
    expect(ids).toHaveLength(11);
    expect(example.deployment.pollers).toEqual([
      {
        group: 'all',
        memoryMb: pollerGroupMemoryMb(ids.length),
        timeoutSeconds: POLLER_TIMEOUT.toSeconds(),
        chains: ids.map((chain) => ({ chain, idleCursorSavesPerMinute: expect.any(Number) })),
      },
    ]);
  });

  it('refuses a workload chain no poller function polls', () => {
    const lonely: Deployment = { ...deployment, pollers: deployment.pollers.filter((p) => p.group !== 'bsc') };
    expect(() => estimateMonthlyCost(bench, lonely, workload)).toThrow(/no poller for chain "bsc"/);
  });

  it('reads which chains a schedule polls from its input', () => {
    expect(scheduledChains('{"chains":["ethereum","bsc"]}')).toEqual(['ethereum', 'bsc']);
    expect(scheduledChains('{"chain":"bitcoin"}')).toEqual(['bitcoin']);
    expect(() => scheduledChains('{"chains":[1]}')).toThrow(/names no chains/);
  });

  it('prices DynamoDB from the measured request counts, as writes unless the bench splits them', () => {
    const polls = (60 / 12 + 60 / 3) * MINUTES_PER_MONTH;
    const outflows = 1000 * (MINUTES_PER_MONTH / 1440);
    const upper = estimateMonthlyCost(bench, deployment, workload);
    expect(upper.lines.find((l) => /write request/.test(l.item))!.quantity).toBeCloseTo(polls * 3 + outflows * 4, 3);
    expect(upper.assumptions.join('\n')).toContain('priced as writes');

    const split = estimateMonthlyCost(
      { ...bench, dynamoWritesPerIdlePoll: 1, dynamoWritesPerOutflow: 2 },
      deployment,
      workload,
    );
    expect(readUnits(split)).toBeCloseTo(
      polls * 2 + outflows * 2 + outflows * deployment.pollers.length + coldReads(deployment),
      3,
    );
    expect(usd(split, 'DynamoDB', /request/)).toBeLessThan(usd(upper, 'DynamoDB', /request/));

    // Request counts scale the per-poll and per-outflow requests (the cold read-back depends on the ledger, not on them).
    const noReach = { ...deployment, historyReachSeconds: 0 };
    const doubled = estimateMonthlyCost(
      { ...bench, dynamoRequestsPerIdlePoll: 6, dynamoRequestsPerOutflow: 8 },
      noReach,
      workload,
    );
    // ... and neither is a new record's read-back by each function's ledger cache (one unit per outflow per function).
    const readBack = 1000 * (MINUTES_PER_MONTH / 1440) * noReach.pollers.length * PRICES.dynamoPerReadRequestUnit;
    expect(usd(doubled, 'DynamoDB', /request/)).toBeCloseTo(
      2 * usd(estimateMonthlyCost(bench, noReach, workload), 'DynamoDB', /request/) - readBack,
      6,
    );
  });

  it("prices a cold poller's read-back of the ledgers: outflows over the rules' reach, record size, per function", () => {
    const base = estimateMonthlyCost(bench, { ...deployment, historyReachSeconds: 0 }, workload);
    const fortnight = { ...deployment, historyReachSeconds: 14 * 86_400 + 3_600 };
    const long = estimateMonthlyCost({ ...bench, bytesPerOutflowRecord: 603 }, fortnight, workload);
    // 1,000 outflows a day over 14 days and an hour at 603 B: 2,068 units per cold start.
    expect(readUnits(long) - readUnits(base)).toBeCloseTo(coldReads(fortnight, 603), 3);
    expect(coldReads(fortnight, 603) / (fortnight.pollers.length * 12 * (MINUTES_PER_MONTH / 1440))).toBe(2068);
    expect(long.assumptions.join('\n')).toContain('starts cold 12 times a day');
  });

  it('prices a poll with outflows at the read units the scale bench measured for the number of chains', () => {
    const split = {
      ...bench,
      dynamoWritesPerIdlePoll: 1,
      dynamoWritesPerOutflow: 2,
      dynamoWriteUnitsPerIdlePoll: 1,
      dynamoWriteUnitsPerOutflow: 2,
    };
    const scale = {
      runs: [
        { k: 1, store: 'ddblocal', readUnitsPerPollWithOutflows: 3 },
        { k: 10, store: 'ddblocal', readUnitsPerPollWithOutflows: 12 },
        { k: 10, store: 'dynalite', readUnitsPerPollWithOutflows: 12.5 },
      ],
    };
    // Two chains: between K = 1 and K = 10, the larger store's figure at K = 10: 3 + (12.5 − 3) / 9.
    expect(measuredReadUnitsPerOutflowPoll({ ...split, scale }, 2)).toBeCloseTo(3 + 9.5 / 9, 9);
    expect(measuredReadUnitsPerOutflowPoll({ ...split, scale }, 19)).toBeCloseTo(3 + (9.5 / 9) * 18, 9);
    expect(measuredReadUnitsPerOutflowPoll(split, 2)).toBeUndefined();
    // Beyond the largest measured count: along the last two measured counts, not the first two.
    const three = { runs: [...scale.runs, { k: 50, store: 'ddblocal', readUnitsPerPollWithOutflows: 132.5 }] };
    expect(measuredReadUnitsPerOutflowPoll({ ...split, scale: three }, 60)).toBeCloseTo(132.5 + 3 * 10, 9);
    // A config with a global drain pattern is priced from the runs that had one.
    const withPattern = {
      runs: [...scale.runs, { k: 10, store: 'ddblocal', readUnitsPerPollWithOutflows: 40, patterns: true }],
    };
    expect(measuredReadUnitsPerOutflowPoll({ ...split, scale: withPattern }, 11, true)).toBe(40);
    expect(measuredReadUnitsPerOutflowPoll({ ...split, scale: withPattern }, 2)).toBeCloseTo(3 + 9.5 / 9, 9);
    const outflows = 1000 * (MINUTES_PER_MONTH / 1440);
    const measured = estimateMonthlyCost({ ...split, scale }, deployment, workload);
    const unmeasured = estimateMonthlyCost(split, deployment, workload);
    // Unmeasured, a poll with outflows reads one unit per read request (4 requests − 2 writes).
    expect(readUnits(measured) - readUnits(unmeasured)).toBeCloseTo(outflows * (3 + 9.5 / 9 - 2), 3);
    expect(measured.assumptions.join('\n')).toContain('the 4.1 read units the scale bench measured for 2 chains');
  });

  it('prices writes by the write units the bench measured (items over 1 KB cost more than one)', () => {
    const split = { ...bench, dynamoWritesPerIdlePoll: 1, dynamoWritesPerOutflow: 2 };
    const one = estimateMonthlyCost(split, deployment, workload);
    const sized = estimateMonthlyCost(
      { ...split, dynamoWriteUnitsPerIdlePoll: 11, dynamoWriteUnitsPerOutflow: 22 },
      deployment,
      workload,
    );
    expect(usd(sized, 'DynamoDB', /write/)).toBeCloseTo(11 * usd(one, 'DynamoDB', /write/), 6);
    expect(sized.assumptions.join(' ')).toContain('write units measured by the bench');
  });

  it('prices idle polls at the cursor saves the cadence allows, not one write per poll', () => {
    const idle = { ...workload, chains: workload.chains.map((c) => ({ ...c, outflowsPerDay: 0 })) };
    const measured = { ...bench, dynamoWritesPerIdlePoll: 0, dynamoWritesPerOutflow: 2 };
    const units = { dynamoWriteUnitsPerIdlePoll: 0, dynamoWriteUnitsPerOutflow: 2 };
    const e = estimateMonthlyCost({ ...measured, ...units, cursorWriteUnits: 1 }, deployment, idle);
    // ethereum polls 5 times a minute and bsc 20: both are capped at the 3 saves a minute the stack's cadence allows.
    expect(e.lines.find((l) => /write request/.test(l.item))!.quantity).toBeCloseTo(2 * 3 * MINUTES_PER_MONTH, 3);
    const slow = estimateMonthlyCost(
      { ...measured, ...units, cursorWriteUnits: 1, pollsPerMinute: 1 },
      deployment,
      idle,
    );
    expect(slow.lines.find((l) => /write request/.test(l.item))!.quantity).toBeCloseTo(2 * MINUTES_PER_MONTH, 3);
    expect(e.assumptions.join(' ')).toContain('new block between two idle cursor saves');
  });

  it("prices an idle poll's reads at the read units the bench measured (the state item's size)", () => {
    const idle = { ...workload, chains: workload.chains.map((c) => ({ ...c, outflowsPerDay: 0 })) };
    const measured = { ...bench, dynamoRequestsPerIdlePoll: 1, dynamoWritesPerIdlePoll: 0, dynamoWritesPerOutflow: 2 };
    const reads = (b: Benchmarks) =>
      estimateMonthlyCost(b, deployment, idle).lines.find((l) => /read request/.test(l.item))!.quantity;
    const polls = (60 / 12 + 60 / 3) * MINUTES_PER_MONTH;
    expect(reads(measured)).toBeCloseTo(polls, 3);
    expect(reads({ ...measured, dynamoReadUnitsPerIdlePoll: 2 })).toBeCloseTo(2 * polls, 3);
  });

  it('prices logs at the bytes per poll the bench measured plus the platform lines per invocation', () => {
    const quiet = estimateMonthlyCost({ ...bench, logBytesPerPoll: 0 }, deployment, workload);
    const gb = quiet.lines.find((l) => l.item === 'logs ingested')!.quantity;
    expect(gb * 1024 ** 3).toBeCloseTo(deployment.pollers.length * MINUTES_PER_MONTH * 400, 0);
    const chatty = estimateMonthlyCost({ ...bench, logBytesPerPoll: 100 }, deployment, workload);
    const polls = (60 / 12 + 60 / 3) * MINUTES_PER_MONTH;
    expect((chatty.lines.find((l) => l.item === 'logs ingested')!.quantity - gb) * 1024 ** 3).toBeCloseTo(
      polls * 100,
      0,
    );
    expect(quiet.assumptions.join(' ')).toContain('START/END/REPORT');
  });

  it('uses measured polls per minute when the bench gives them', () => {
    const e = estimateMonthlyCost({ ...bench, pollsPerMinute: { ethereum: 1, bsc: 1 } }, deployment, {
      ...workload,
      chains: workload.chains.map((c) => ({ ...c, outflowsPerDay: 0 })),
    });
    expect(e.lines.find((l) => /write request/.test(l.item))!.quantity).toBeCloseTo(2 * MINUTES_PER_MONTH * 3, 3);
  });

  it('adds up to its lines and counts fixed costs from the stack', () => {
    const e = estimateMonthlyCost(bench, deployment, workload);
    expect(e.totalUsd).toBeCloseTo(
      e.lines.reduce((s, l) => s + l.usd, 0),
      9,
    );
    expect(usd(e, 'KMS', /keys/)).toBe(2 * PRICES.kmsPerKeyMonth);
    expect(usd(e, 'CloudWatch', /alarms/)).toBeCloseTo(13 * PRICES.cloudwatchPerAlarm, 9);
    expect(e.rpcCallsPerMonth.bsc).toBe(((MINUTES_PER_MONTH * 60) / 3) * 2);
  });

  it('fails with a clear message when BENCHMARKS.json is missing or incomplete', () => {
    expect(() => readBenchmarks(join(dir, 'BENCHMARKS.json'))).toThrow(/not found: run `npm run bench` first/);
    const partial = join(dir, 'partial.json');
    writeFileSync(partial, JSON.stringify({ dynamoRequestsPerIdlePoll: 3, rpcCallsPerBlock: 2 }));
    expect(() => readBenchmarks(partial)).toThrow(/dynamoRequestsPerOutflow/);
  });

  it('derives outflows per day from a scenario file', () => {
    const path = join(dir, 'scenario.json');
    const events = [
      { t: 0, chain: 'ethereum' },
      { t: 100, chain: 'ethereum' },
      { t: 2 * 86_400, chain: 'bsc' },
    ];
    writeFileSync(path, JSON.stringify({ format: 'hot-wallet-breaker/scenario@1', events }));
    expect(scenarioOutflowsPerDay(path)).toEqual({ ethereum: 1, bsc: 0.5 });
  });
});
