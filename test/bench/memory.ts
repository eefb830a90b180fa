/**
 * What one poller costs to run, measured on the code Lambda runs: the poll-chain handler bundled by
 * esbuild with the stack's settings (infra/constructs/breaker-function.ts BUNDLING), loaded by a fresh
 * Node 22 process the way the Lambda runtime loads it (top-level await at import = the cold start),
 * then invoked with the stack's poller timeout while anvil mines a block a second with hot-wallet
 * withdrawals in most of them. Per invocation it reports:
 *  - peak resident memory of the process (the kernel's maxRSS: what Lambda's "Max Memory Used" counts);
 *  - CPU time (user + system) of the cold start and per poll;
 *  - billed seconds (the handler's wall time) and polls;
 *  - bytes the handler wrote to stdout/stderr (log lines and EMF metrics: what CloudWatch Logs ingests).
 * The child talks to dynalite and the local SNS through the standard AWS_ENDPOINT_URL_<SERVICE> variables.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { DynamoDbBreakerStore } from '../../functions/adapters/dynamodb/dynamodb-breaker-store.ts';
import { startLocalDynamo } from '../../functions/adapters/dynamodb/local-dynamo.ts';
import { startAnvil } from '../../functions/local/anvil-process.ts';
import { BUNDLED_CONFIG_NAME, BUNDLING, METRICS_NAMESPACE } from '../../infra/constructs/breaker-function.ts';
import { POLLER_TIMEOUT } from '../../infra/constructs/poller-timing.ts';
import { handlerEntry, REPO_ROOT } from '../../infra/paths.ts';
import { initialiseForTest } from '../support/initialise.ts';
import { startLocalSns } from '../support/local-sns.ts';
import { BENCH_CHAIN, benchConfig } from './bench-config.ts';
import { devAccountKeys, RawSigner, rpcBatch, sendRaw } from './chain-tools.ts';

export interface PollerInvocation {
  /** The first invocation of the process (its cold start included in the process's numbers). */
  cold: boolean;
  billedSeconds: number;
  polls: number;
  outflows: number;
  cpuMs: number;
}

export interface PollerMemoryRun {
  bundleBytes: number;
  /** Highest resident set of the process over every invocation, MiB. */
  peakRssMb: number;
  /** Resident set right after the module loaded (deps built, before the first poll), MiB. */
  rssAfterInitMb: number;
  /** CPU time of loading the bundle and building the deps (the cold start), ms. */
  initCpuMs: number;
  invocations: PollerInvocation[];
  /** Over the warm invocations (all of them if there is only one). */
  cpuMsPerPoll: number;
  /** Bytes the handler wrote over all invocations, and per poll. */
  logBytes: number;
  logBytesPerPoll: number;
  billedSecondsPerInvocation: number;
  timeoutSeconds: number;
  blocksMined: number;
  withdrawalsSent: number;
}

const RUNNER = `
const { handler } = await import(process.env.BENCH_BUNDLE);
const init = process.cpuUsage();
const rssAfterInit = process.memoryUsage.rss();
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
  const result = await handler({ chain: process.env.BENCH_CHAIN }, context);
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const [run] = result.chains;
  invocations.push({ wallMs, cpuMs: (used.user + used.system) / 1000, polls: run.polls, outflows: run.outflows });
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

export async function measurePollerMemory(
  options: { invocations?: number; timeoutSeconds?: number } = {},
): Promise<PollerMemoryRun> {
  const invocationCount = options.invocations ?? 2;
  const timeoutSeconds = options.timeoutSeconds ?? POLLER_TIMEOUT.toSeconds();
  const dir = mkdtempSync(join(tmpdir(), 'hwb-bench-memory-'));
  const anvil = await startAnvil({ noMining: true });
  const dynamo = await startLocalDynamo({ tableName: 'bench-memory', requireToken: false });
  const sns = await startLocalSns();
  let mining: Promise<void> | undefined;
  let stop = false;
  try {
    const bundle = await bundlePoller(dir);
    const [, hotKey, , , , userKey] = devAccountKeys();
    const hot = new RawSigner(hotKey!);
    const user = new RawSigner(userKey!);
    const config = benchConfig({
      rpc: anvil.url,
      hotWallets: [hot.address],
      confirmations: 1,
      blockTimeSeconds: 1,
      pollIntervalSeconds: 1,
      startBlock: 'latest',
    });
    writeFileSync(join(dir, BUNDLED_CONFIG_NAME), `${JSON.stringify(config.source, null, 2)}\n`);
    await initialiseForTest(new DynamoDbBreakerStore({ client: dynamo.client, tableName: 'bench-memory' }));
    const topicArn = await sns.createTopic('bench-pages');

    // A block a second; three in four carry two withdrawals from the hot wallet (bounded by the run's length).
    let blocksMined = 0;
    let withdrawalsSent = 0;
    const maxBlocks = invocationCount * timeoutSeconds + 30;
    mining = (async () => {
      while (!stop && blocksMined < maxBlocks) {
        if (blocksMined % 4 !== 3) {
          const txs = [1n, 2n].map((k) => hot.sign({ to: user.address, value: k * 10n ** 15n, gas: 21_000 }));
          await rpcBatch(anvil.url, sendRaw(txs));
          withdrawalsSent += txs.length;
        }
        await rpcBatch(anvil.url, [{ method: 'evm_mine', params: [] }]);
        blocksMined++;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    })();

    const resultFile = join(dir, 'result.json');
    const runnerFile = join(dir, 'runner.mjs');
    writeFileSync(runnerFile, RUNNER);
    const child = spawn(process.execPath, ['--enable-source-maps', runnerFile], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        // What the stack sets (breaker-function.ts, the table and topic constructs) …
        BREAKER_CONFIG_FILE: join(dir, BUNDLED_CONFIG_NAME),
        BREAKER_TABLE: 'bench-memory',
        PAGE_TOPIC_ARN: topicArn,
        POWERTOOLS_SERVICE_NAME: 'hot-wallet-breaker-bench',
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        // … what Lambda sets, aimed at the stand-ins; no X-Ray daemon here, so the tracer is off.
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        AWS_ENDPOINT_URL_SNS: sns.endpoint,
        POWERTOOLS_TRACE_ENABLED: 'false',
        BENCH_BUNDLE: bundle,
        BENCH_CHAIN,
        BENCH_INVOCATIONS: String(invocationCount),
        BENCH_TIMEOUT_MS: String(timeoutSeconds * 1000),
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
    const limitMs = (invocationCount * timeoutSeconds + 60) * 1000;
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the poller did not finish within ${limitMs / 1000} s`));
      }, limitMs);
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    if (code !== 0) throw new Error(`the bundled poller exited with ${code}: ${stderrTail}`);
    const out = JSON.parse(readFileSync(resultFile, 'utf8')) as {
      initCpuMs: number;
      rssAfterInit: number;
      maxRssKb: number;
      invocations: { wallMs: number; cpuMs: number; polls: number; outflows: number }[];
    };
    const invocations = out.invocations.map((inv, i) => ({
      cold: i === 0,
      billedSeconds: Math.ceil(inv.wallMs) / 1000,
      polls: inv.polls,
      outflows: inv.outflows,
      cpuMs: Math.round(inv.cpuMs),
    }));
    const warm = invocations.length > 1 ? invocations.slice(1) : invocations;
    const sum = (f: (i: PollerInvocation) => number) => warm.reduce((s, i) => s + f(i), 0);
    return {
      bundleBytes: statSync(bundle).size,
      peakRssMb: round1(out.maxRssKb / 1024),
      rssAfterInitMb: round1(out.rssAfterInit / 1024 ** 2),
      initCpuMs: Math.round(out.initCpuMs),
      invocations,
      cpuMsPerPoll: round1(sum((i) => i.cpuMs) / sum((i) => i.polls)),
      logBytes,
      logBytesPerPoll: Math.round(logBytes / invocations.reduce((n, i) => n + i.polls, 0)),
      billedSecondsPerInvocation: round1(sum((i) => i.billedSeconds) / warm.length),
      timeoutSeconds,
      blocksMined,
      withdrawalsSent,
    };
  } finally {
    stop = true;
    await mining?.catch(() => undefined);
    await sns.close();
    await dynamo.close();
    await anvil.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
