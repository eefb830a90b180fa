/**
 * What a poller costs to run, measured on the code Lambda runs: the poll-chain handler bundled by
 * esbuild with the stack's settings (infra/constructs/breaker-function.ts BUNDLING), loaded by a fresh
 * Node 22 process the way the Lambda runtime loads it (top-level await at import = the cold start),
 * then invoked with `{"chains": [...]}` and the stack's poller timeout while the example's chains
 * (group-world.ts: every chain kind on its stand-in) produce blocks with hot-wallet withdrawals.
 *
 * Two kinds of process are measured on the same world:
 *  - one chain alone, for every chain kind (the example's chain of that kind with the most blocks per
 *    poll), the kinds side by side in their own processes;
 *  - one process polling all eleven chains, each in its own loop (a poller group), alone on the machine.
 * Per process: peak resident memory (the kernel's maxRSS: what Lambda's "Max Memory Used" counts), CPU
 * time (user + system) of the cold start, per poll and per second of the loop, billed seconds (the
 * handler's wall time), polls, outflows, and the bytes the handler wrote to stdout/stderr (log lines
 * and EMF metrics: what CloudWatch Logs ingests).
 * The children talk to dynalite (a table each) and the local SNS through AWS_ENDPOINT_URL_<SERVICE>.
 */

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { DynamoDbBreakerStore } from '../../functions/adapters/dynamodb/dynamodb-breaker-store.ts';
import {
  createTableIfMissing,
  type LocalDynamo,
  startLocalDynamo,
} from '../../functions/adapters/dynamodb/local-dynamo.ts';
import type { OutflowRecord } from '../../functions/core/model.ts';
import { BUNDLED_CONFIG_NAME, BUNDLING, METRICS_NAMESPACE } from '../../infra/constructs/breaker-function.ts';
import { pollerGroupMemoryMb } from '../../infra/constructs/poller-memory.ts';
import { POLLER_TIMEOUT } from '../../infra/constructs/poller-timing.ts';
import { handlerEntry, REPO_ROOT } from '../../infra/paths.ts';
import { initialiseForTest } from '../support/initialise.ts';
import { startLocalSns } from '../support/local-sns.ts';
import { exampleChains, type GroupWorld, startGroupWorld } from './group-world.ts';
import { normalWeekHistory, seedHistory } from './history-seed.ts';

export interface PollerInvocation {
  /** The first invocation of the process (its cold start included in the process's numbers). */
  cold: boolean;
  billedSeconds: number;
  polls: number;
  outflows: number;
  cpuMs: number;
}

/** One process running the bundled handler for some chains, invoked back to back. */
export interface PollerProcessRun {
  chains: string[];
  /**
   * With history: the function memory (the stack's size for its chains) whose V8 heap limits, as Lambda sets them,
   * the process ran under. Without: Node's default limits (the peak is then what the heap grows to unpressed).
   */
  memoryMb?: number;
  /** Highest resident set of the process over every invocation, MiB. */
  peakRssMb: number;
  /** Resident set right after the module loaded (deps built, before the first poll), MiB. */
  rssAfterInitMb: number;
  /** CPU time of loading the bundle and building the deps (the cold start), ms. */
  initCpuMs: number;
  invocations: PollerInvocation[];
  /** Over the warm invocations (all of them if there is only one). */
  cpuMsPerPoll: number;
  /** CPU time per second of the polling loop, over the warm invocations: the share of a CPU the process needs. */
  cpuMsPerSecond: number;
  pollsPerMinute: number;
  /** Polls and outflows per chain over every invocation. */
  perChain: Record<string, { polls: number; outflows: number }>;
  /** Bytes the handler wrote over all invocations, and per poll. */
  logBytes: number;
  logBytesPerPoll: number;
  billedSecondsPerInvocation: number;
}

export interface PollerMemoryRun {
  bundleBytes: number;
  timeoutSeconds: number;
  /** One chain alone per chain kind, keyed by kind. */
  single: Record<string, PollerProcessRun>;
  /** Every chain of the world in one process. */
  group: PollerProcessRun;
  /**
   * The busiest-history chain alone and the group again, side by side, each on a table holding `historyDays` of
   * normal-week outflows (history-seed.ts), with config/example.yaml's 14-day drain patterns, a withdrawal pair
   * only every `withdrawalSpacingSeconds` per chain, and the heap limits of the memory the stack gives them.
   */
  withHistory: {
    historyRecords: number;
    historyDays: number;
    withdrawalSpacingSeconds: number;
    single: PollerProcessRun;
    group: PollerProcessRun;
  };
  /** Blocks produced and withdrawals sent per chain over the whole measurement. */
  traffic: Record<string, { blocks: number; withdrawals: number }>;
}

const RUNNER = `
const { handler } = await import(process.env.BENCH_BUNDLE);
const init = process.cpuUsage();
const rssAfterInit = process.memoryUsage.rss();
const chains = JSON.parse(process.env.BENCH_CHAINS);
const invocations = [];
for (let i = 0; i < Number(process.env.BENCH_INVOCATIONS); i++) {
  const deadline = Date.now() + Number(process.env.BENCH_TIMEOUT_MS);
  const context = {
    awsRequestId: 'bench-' + i, functionName: 'bench-poller', functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench-poller',
    memoryLimitInMB: '1024', logGroupName: '/aws/lambda/bench-poller', logStreamName: 'bench',
    callbackWaitsForEmptyEventLoop: false, getRemainingTimeInMillis: () => deadline - Date.now(),
    done() {}, fail() {}, succeed() {},
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  let result;
  try {
    result = await handler({ chains }, context);
  } catch (e) {
    result = { error: String(e && e.stack || e) };
  }
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  invocations.push({ wallMs, cpuMs: (used.user + used.system) / 1000, result });
}
const { writeFileSync } = await import('node:fs');
writeFileSync(process.env.BENCH_RESULT, JSON.stringify({
  initCpuMs: (init.user + init.system) / 1000,
  rssAfterInit,
  maxRssKb: process.resourceUsage().maxRSS,
  invocations,
}));
process.exit(0);
`;

/** With history in the table, withdrawals come this far apart per chain: about 5× the normal week's rate in all. */
const HISTORY_WITHDRAWAL_SPACING_SECONDS = 120;
const HUGE_USD = 1e12;
/**
 * config/example.yaml's drain patterns that read 14 days of every chain's history on each poll with outflows,
 * with levels nothing reaches (the bench measures what the reading costs, not trips).
 */
const EXAMPLE_PATTERNS = {
  newDestinations: { window: '1h', usd: HUGE_USD, lookback: '14d' },
  walletProfile: {
    tripFactor: 1_000_000,
    minUsd: HUGE_USD,
    percentile: 99,
    window: '1h',
    baseline: '14d',
    minHistory: '3d',
  },
};

/** Write a config file the handler loads (BREAKER_CONFIG_FILE) into `dir`; returns its path. */
function writeConfig(dir: string, source: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, BUNDLED_CONFIG_NAME);
  writeFileSync(path, `${JSON.stringify(source, null, 2)}\n`);
  return path;
}

/**
 * The V8 flags Lambda's Node.js runtime starts a function with (its /var/runtime/bootstrap: a tenth of the memory
 * for the young generation, half of that per semi-space, the rest for the old generation), so the heap is collected
 * under the same limit as there instead of growing into this machine's 24 GiB.
 */
export function lambdaNodeFlags(memoryMb: number): string[] {
  const newSpace = Math.floor(memoryMb / 10);
  return [
    '--expose-gc',
    `--max-semi-space-size=${Math.floor(newSpace / 2)}`,
    `--max-old-space-size=${memoryMb - newSpace}`,
  ];
}

/** Bundle poll-chain as the stack does; returns the bundle's path. */
export async function bundlePoller(dir: string): Promise<string> {
  const outfile = join(dir, 'index.mjs');
  await build({
    entryPoints: [handlerEntry('poll-chain')],
    bundle: true,
    platform: 'node',
    format: BUNDLING.format,
    target: BUNDLING.target,
    mainFields: [...BUNDLING.mainFields],
    banner: { js: BUNDLING.banner },
    minify: BUNDLING.minify,
    keepNames: BUNDLING.keepNames,
    sourcemap: BUNDLING.sourceMap,
    sourcesContent: BUNDLING.sourcesContent,
    tsconfig: join(REPO_ROOT, 'tsconfig.json'),
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}

/** Per kind, the example's chain of that kind with the most blocks per poll (the biggest batches). */
export function busiestChainPerKind(): Record<string, string> {
  const out: Record<string, { id: string; blocksPerPoll: number }> = {};
  for (const c of exampleChains()) {
    const blocksPerPoll = c.pollIntervalSeconds / c.blockTimeSeconds;
    const best = out[c.kind.id];
    if (!best || blocksPerPoll > best.blocksPerPoll) out[c.kind.id] = { id: c.id, blocksPerPoll };
  }
  return Object.fromEntries(Object.entries(out).map(([kind, c]) => [kind, c.id]));
}

export async function measurePollerMemory(
  options: { invocations?: number; timeoutSeconds?: number; log?: (line: string) => void } = {},
): Promise<PollerMemoryRun> {
  const invocations = options.invocations ?? 2;
  const timeoutSeconds = options.timeoutSeconds ?? POLLER_TIMEOUT.toSeconds();
  const log = options.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'hwb-bench-memory-'));
  // Three rounds of `invocations` back to back, plus setup and seeding: the world stops on its own after this.
  const worldSeconds = 3 * invocations * timeoutSeconds + 420;
  let world: GroupWorld | undefined;
  let dynamo: LocalDynamo | undefined;
  const sns = await startLocalSns();
  try {
    const bundle = await bundlePoller(dir);
    dynamo = await startLocalDynamo({ tableName: 'bench-memory', requireToken: false });
    world = await startGroupWorld({ maxSeconds: worldSeconds });
    const configFile = writeConfig(join(dir, 'traffic'), world.configSource);
    const topicArn = await sns.createTopic('bench-pages');
    const run = async (name: string, chains: string[], o: { config?: string; history?: OutflowRecord[] } = {}) => {
      const tableName = `bench-memory-${name}`;
      await createTableIfMissing(dynamo!.client, tableName);
      const store = new DynamoDbBreakerStore({ client: dynamo!.client, tableName });
      await initialiseForTest(store);
      if (o.history) await seedHistory(store, o.history);
      return runBundledPoller({
        dir,
        name,
        bundle,
        chains,
        invocations,
        timeoutSeconds,
        ...(o.history && { memoryMb: pollerGroupMemoryMb(chains.length) }),
        // With rare withdrawals a chain may see none in the run; every chain must still have polled.
        requireOutflows: o.history === undefined,
        env: {
          BREAKER_CONFIG_FILE: o.config ?? configFile,
          BREAKER_TABLE: tableName,
          PAGE_TOPIC_ARN: topicArn,
          AWS_ENDPOINT_URL_DYNAMODB: dynamo!.endpoint,
          AWS_ENDPOINT_URL_SNS: sns.endpoint,
        },
      });
    };

    const perKind = busiestChainPerKind();
    log(
      `  one chain alone per kind, side by side: ${Object.entries(perKind)
        .map(([k, c]) => `${k} (${c})`)
        .join(', ')}`,
    );
    const singles = await Promise.all(
      Object.entries(perKind).map(async ([kind, chain]) => [kind, await run(kind, [chain])] as const),
    );
    for (const [kind, r] of singles) log(`    ${kind}: peak ${r.peakRssMb} MiB, ${r.cpuMsPerPoll} CPU-ms per poll`);
    log(`  the group: all ${world.chainIds.length} chains in one process, alone`);
    const group = await run('group', [...world.chainIds]);
    log(
      `    peak ${group.peakRssMb} MiB, ${group.cpuMsPerSecond} CPU-ms per second, ${group.pollsPerMinute} polls a minute`,
    );

    const historyDays = 14;
    const history = await normalWeekHistory(historyDays, Math.floor(Date.now() / 1000));
    const perChain = new Map<string, number>();
    for (const r of history) perChain.set(r.chain, (perChain.get(r.chain) ?? 0) + 1);
    const busiest = [...perChain].sort((a, b) => b[1] - a[1])[0]?.[0] as string;
    log(
      `  ${busiest} alone and the group again, side by side: ${history.length} outflows of ${historyDays} days of normal-week history in ` +
        `their tables, the example's 14-day drain patterns, a withdrawal pair every ${HISTORY_WITHDRAWAL_SPACING_SECONDS} s per chain, ` +
        "Lambda's heap limits for the stack's sizes",
    );
    world.setWithdrawalSpacing(HISTORY_WITHDRAWAL_SPACING_SECONDS);
    const withPatterns = writeConfig(join(dir, 'history'), {
      ...world.configSource,
      limits: { ...(world.configSource.limits as Record<string, unknown>), patterns: EXAMPLE_PATTERNS },
    });
    const [singleWithHistory, groupWithHistory] = await Promise.all([
      run('history-single', [busiest], { config: withPatterns, history }),
      run('history-group', [...world.chainIds], { config: withPatterns, history }),
    ]);
    for (const r of [singleWithHistory, groupWithHistory]) {
      log(
        `    ${r.chains.length} chain(s) at ${r.memoryMb} MB: peak ${r.peakRssMb} MiB, ${r.cpuMsPerSecond} CPU-ms per second`,
      );
    }
    return {
      bundleBytes: statSync(bundle).size,
      timeoutSeconds,
      single: Object.fromEntries(singles),
      group,
      withHistory: {
        historyRecords: history.length,
        historyDays,
        withdrawalSpacingSeconds: HISTORY_WITHDRAWAL_SPACING_SECONDS,
        single: singleWithHistory,
        group: groupWithHistory,
      },
      traffic: world.stats(),
    };
  } finally {
    await world?.stop();
    await dynamo?.close();
    await sns.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface BundledPollerOptions {
  dir: string;
  name: string;
  bundle: string;
  chains: string[];
  invocations: number;
  timeoutSeconds: number;
  /** The function memory whose V8 heap limits, as Lambda sets them (lambdaNodeFlags), the process runs under. */
  memoryMb?: number;
  /** Fail unless every chain recorded outflows (else: unless every chain polled). */
  requireOutflows: boolean;
  /** The config file, table, topic and endpoints this process uses. */
  env: Record<string, string>;
}

interface HandlerResult {
  chains?: { chain: string; polls: number; outflows: number; error?: string }[];
  error?: string;
}

/** Run the bundled handler in a fresh Node process for `chains`, `invocations` times back to back. */
async function runBundledPoller(o: BundledPollerOptions): Promise<PollerProcessRun> {
  const resultFile = join(o.dir, `result-${o.name}.json`);
  const runnerFile = join(o.dir, 'runner.mjs');
  writeFileSync(runnerFile, RUNNER);
  const limits = o.memoryMb === undefined ? [] : lambdaNodeFlags(o.memoryMb);
  const child = spawn(process.execPath, [...limits, '--enable-source-maps', runnerFile], {
    cwd: o.dir,
    env: {
      PATH: process.env.PATH,
      // What the stack sets (breaker-function.ts, the table and topic constructs) …
      POWERTOOLS_SERVICE_NAME: 'hot-wallet-breaker-bench',
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      // … what Lambda sets, aimed at the stand-ins; no X-Ray daemon here, so the tracer is off.
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      POWERTOOLS_TRACE_ENABLED: 'false',
      ...o.env,
      BENCH_BUNDLE: o.bundle,
      BENCH_CHAINS: JSON.stringify(o.chains),
      BENCH_INVOCATIONS: String(o.invocations),
      BENCH_TIMEOUT_MS: String(o.timeoutSeconds * 1000),
      BENCH_RESULT: resultFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Everything the handler writes goes to CloudWatch Logs (the runner itself writes nothing).
  let logBytes = 0;
  child.stdout.on('data', (d: Buffer) => {
    logBytes += d.length;
  });
  let stderrTail = '';
  child.stderr.on('data', (d: Buffer) => {
    logBytes += d.length;
    stderrTail = (stderrTail + d.toString('utf8')).slice(-2000);
  });
  const limitMs = (o.invocations * o.timeoutSeconds + 60) * 1000;
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${o.name}: the poller did not finish within ${limitMs / 1000} s`));
    }, limitMs);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  if (code !== 0) throw new Error(`${o.name}: the bundled poller exited with ${code}: ${stderrTail}`);
  const out = JSON.parse(readFileSync(resultFile, 'utf8')) as {
    initCpuMs: number;
    rssAfterInit: number;
    maxRssKb: number;
    invocations: { wallMs: number; cpuMs: number; result: HandlerResult }[];
  };
  const perChain: Record<string, { polls: number; outflows: number }> = Object.fromEntries(
    o.chains.map((c) => [c, { polls: 0, outflows: 0 }]),
  );
  const invocations = out.invocations.map((inv, i) => {
    // A failed invocation is not a measurement of a working poller: stop loudly.
    const failed = inv.result.error ?? inv.result.chains?.find((c) => c.error)?.error;
    if (failed !== undefined || !inv.result.chains) {
      throw new Error(`${o.name}: invocation ${i + 1} failed: ${failed ?? JSON.stringify(inv.result)}`);
    }
    for (const c of inv.result.chains) {
      const sum = perChain[c.chain];
      if (!sum) throw new Error(`${o.name}: the handler reported chain "${c.chain}", which it was not asked to poll`);
      sum.polls += c.polls;
      sum.outflows += c.outflows;
    }
    return {
      cold: i === 0,
      billedSeconds: Math.ceil(inv.wallMs) / 1000,
      polls: inv.result.chains.reduce((n, c) => n + c.polls, 0),
      outflows: inv.result.chains.reduce((n, c) => n + c.outflows, 0),
      cpuMs: Math.round(inv.cpuMs),
    };
  });
  const idle = Object.entries(perChain).filter(([, c]) => c.polls === 0 || (o.requireOutflows && c.outflows === 0));
  if (idle.length > 0) {
    throw new Error(`${o.name}: chains polled nothing or recorded no outflow: ${idle.map(([c]) => c).join(', ')}`);
  }
  const warm = invocations.length > 1 ? invocations.slice(1) : invocations;
  const sum = (f: (i: PollerInvocation) => number) => warm.reduce((s, i) => s + f(i), 0);
  const allPolls = invocations.reduce((n, i) => n + i.polls, 0);
  return {
    chains: o.chains,
    ...(o.memoryMb !== undefined && { memoryMb: o.memoryMb }),
    peakRssMb: round1(out.maxRssKb / 1024),
    rssAfterInitMb: round1(out.rssAfterInit / 1024 ** 2),
    initCpuMs: Math.round(out.initCpuMs),
    invocations,
    cpuMsPerPoll: round1(sum((i) => i.cpuMs) / sum((i) => i.polls)),
    cpuMsPerSecond: round1(sum((i) => i.cpuMs) / sum((i) => i.billedSeconds)),
    pollsPerMinute: round1((60 * sum((i) => i.polls)) / sum((i) => i.billedSeconds)),
    perChain,
    logBytes,
    logBytesPerPoll: Math.round(logBytes / allPolls),
    billedSecondsPerInvocation: round1(sum((i) => i.billedSeconds) / warm.length),
  };
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
