import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLLER_MEMORY_MB } from '../../infra/constructs/poller-memory.ts';
import { POLLER_STOP_MARGIN, POLLER_TIMEOUT } from '../../infra/constructs/poller-timing.ts';
import { type Benchmarks, type Deployment, estimateMonthlyCost, type Workload } from '../../infra/cost/estimate.ts';
import { MINUTES_PER_MONTH, PRICES } from '../../infra/cost/prices.ts';
import { REPO_ROOT } from '../../infra/paths.ts';
import { describeDeployment, readBenchmarks, scenarioOutflowsPerDay } from '../../scripts/cost-estimate.ts';

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

describe('cost estimate', () => {
  it('reads the deployment from the synthesised stack', () => {
    expect(deployment.pollers).toEqual([
      {
        chain: 'ethereum',
        memoryMb: POLLER_MEMORY_MB,
        timeoutSeconds: POLLER_TIMEOUT.toSeconds(),
        idleCursorSavesPerMinute: 3,
      },
      {
        chain: 'bsc',
        memoryMb: POLLER_MEMORY_MB,
        timeoutSeconds: POLLER_TIMEOUT.toSeconds(),
        idleCursorSavesPerMinute: 3,
      },
      {
        chain: 'bitcoin',
        memoryMb: POLLER_MEMORY_MB,
        timeoutSeconds: POLLER_TIMEOUT.toSeconds(),
        idleCursorSavesPerMinute: 3,
      },
    ]);
    expect(deployment).toMatchObject({ alarms: 13, kmsKeys: 2, subscriptions: { email: 1, https: 1, sms: 0 } });
  });

  it('bills each poller for its whole loop, every minute of the month', () => {
    const e = estimateMonthlyCost(bench, deployment, workload);
    const seconds = POLLER_TIMEOUT.toSeconds() - POLLER_STOP_MARGIN.toSeconds();
    const gbSeconds = 2 * (POLLER_MEMORY_MB / 1024) * seconds * MINUTES_PER_MONTH;
    expect(usd(e, 'Lambda', /compute/)).toBeCloseTo(gbSeconds * PRICES.lambdaArmPerGbSecond, 6);
    expect(e.lines.find((l) => l.service === 'EventBridge Scheduler')!.quantity).toBe(2 * MINUTES_PER_MONTH);
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
    expect(split.lines.find((l) => /read request/.test(l.item))!.quantity).toBeCloseTo(polls * 2 + outflows * 2, 3);
    expect(usd(split, 'DynamoDB', /request/)).toBeLessThan(usd(upper, 'DynamoDB', /request/));

    const doubled = estimateMonthlyCost(
      { ...bench, dynamoRequestsPerIdlePoll: 6, dynamoRequestsPerOutflow: 8 },
      deployment,
      workload,
    );
    expect(usd(doubled, 'DynamoDB', /request/)).toBeCloseTo(2 * usd(upper, 'DynamoDB', /request/), 6);
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
    expect(gb * 1024 ** 3).toBeCloseTo(2 * MINUTES_PER_MONTH * 400, 0);
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
