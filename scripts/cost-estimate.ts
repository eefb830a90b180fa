/**
 * Monthly AWS cost of a breaker deployment, from measured request counts.
 *
 *   npx tsx scripts/cost-estimate.ts [--config config/example.yaml] [--bench BENCHMARKS.json]
 *       [--scenario ../shared/scenarios/normal-week.json | --outflows-per-day N] [--pages N] [--resets N] [--json]
 *
 * Inputs:
 * - BENCHMARKS.json (written by `npm run bench` at the repo root). Fields read (see infra/cost/estimate.ts):
 *     dynamoRequestsPerIdlePoll   DynamoDB requests per poll that finds no outflow          (required)
 *     dynamoRequestsPerOutflow    extra DynamoDB requests per recorded outflow, amortised    (required)
 *     rpcCallsPerBlock            chain RPC calls per processed block                        (required)
 *     pollsPerMinute              polls per minute: a number, or { "<chain>": n }           (optional)
 *     dynamoWritesPerIdlePoll, dynamoWritesPerOutflow   read/write split of the above         (optional)
 *     lambdaSecondsPerInvocation, logBytesPerPoll, bytesPerOutflowRecord                      (optional)
 *     dynamoWriteUnitsPerIdlePoll, dynamoWriteUnitsPerOutflow, cursorWriteUnits   write units by item size (optional)
 * - the config (chains, block times, subscriptions) and the stack synthesised from it (memory, timeouts, alarms,
 *   keys): the estimate follows the infrastructure as built, not a copy of its numbers.
 * - the workload: outflows per day per chain, from a scenario file (hot-wallet-breaker/scenario@1) or a flag.
 * Prices: infra/cost/prices.ts (us-east-1 list prices, dated there).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { isBreakerError } from '../functions/core/errors.ts';
import { OUTFLOW_RETENTION_SECONDS } from '../functions/core/retention.ts';
import { idleSaveIntervalMs } from '../functions/core/use-cases/cursor-lease.ts';
import { ledgerOnlyGlobalRules } from '../functions/core/windows/summary.ts';
import { POLLER_METRICS } from '../functions/handlers/poller-metrics.ts';
import { buildBreakerApp, DEFAULT_CONFIG } from '../infra/breaker-app.ts';
import { POLLER_STOP_MARGIN } from '../infra/constructs/poller-timing.ts';
import {
  type Benchmarks,
  benchmarksSchema,
  type Deployment,
  estimateMonthlyCost,
  formatMarkdown,
  type Workload,
} from '../infra/cost/estimate.ts';
import { PRICES } from '../infra/cost/prices.ts';
import { REPO_ROOT } from '../infra/paths.ts';

export function readBenchmarks(path: string): Benchmarks {
  if (!existsSync(path)) {
    throw new Error(
      `${path} not found: run \`npm run bench\` first (it writes BENCHMARKS.json at the repo root), or pass --bench <file>.`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not valid JSON: ${(e as Error).message}`);
  }
  const parsed = benchmarksSchema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`${path}: not the benchmark results this script expects\n${issues.join('\n')}`);
  }
  return parsed.data;
}

/** Outflows per day per chain in a scenario file: events per chain over the scenario's span (at least one day). */
export function scenarioOutflowsPerDay(path: string): Record<string, number> {
  const scenario = JSON.parse(readFileSync(path, 'utf8')) as { events?: { t: number; chain: string }[] };
  const events = scenario.events ?? [];
  const days = Math.max(1, Math.max(0, ...events.map((e) => e.t)) / 86_400);
  const counts: Record<string, number> = {};
  for (const e of events) counts[e.chain] = (counts[e.chain] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).map(([chain, n]) => [chain, n / days]));
}

/** The chains a poll schedule's input names: `{"chains": [...]}`, or `{"chain": id}` (a one-chain schedule). */
export function scheduledChains(input: string): string[] {
  const event = JSON.parse(input) as { chains?: unknown; chain?: unknown };
  if (Array.isArray(event.chains) && event.chains.every((c) => typeof c === 'string')) return event.chains;
  if (typeof event.chain === 'string') return [event.chain];
  throw new Error(`a poll schedule's input names no chains: ${input}`);
}

/** Synthesise the stack without bundling and read what it deploys. */
export function describeDeployment(configPath: string): { deployment: Deployment; chains: Workload['chains'] } {
  const outdir = mkdtempSync(join(tmpdir(), 'breaker-cost-'));
  try {
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    // Request counts do not depend on the region; prices are us-east-1's.
    const stack = buildBreakerApp(app, configPath, { region: PRICES.region }, { nag: false });
    const template = Template.fromStack(stack).toJSON() as {
      Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
    };
    const resources = Object.entries(template.Resources);
    const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);

    // One schedule per poller function; its input names the chains that function's loop polls.
    const pollers = ofType('AWS::Scheduler::Schedule').map(([, r]) => {
      const target = r.Properties?.Target as { Arn: { 'Fn::GetAtt': [string, string] }; Input: string };
      const fn = template.Resources[target.Arn['Fn::GetAtt'][0]]?.Properties as { MemorySize: number; Timeout: number };
      const chains = scheduledChains(target.Input);
      const group = stack.config.pollerGroups.find((g) => g.chains.join() === chains.join());
      if (!group)
        throw new Error(
          `the stack schedules a poller for ${chains.join(', ')}, which is no poller group of the config`,
        );
      return {
        group: group.id,
        memoryMb: fn.MemorySize,
        timeoutSeconds: fn.Timeout,
        chains: chains.map((chain) => {
          const config = stack.config.chains.get(chain);
          if (!config) throw new Error(`the stack schedules a poller for "${chain}", which the config does not have`);
          // The idle cadence, and the save at the end of each (one-minute) run.
          return { chain, idleCursorSavesPerMinute: 60_000 / idleSaveIntervalMs(config) + 1 };
        }),
      };
    });
    const subscriptions = { email: 0, https: 0, sms: 0 };
    for (const [, r] of ofType('AWS::SNS::Subscription')) {
      subscriptions[r.Properties?.Protocol as keyof typeof subscriptions] += 1;
    }
    const chains = [...stack.config.chains.values()].map((c) => ({
      id: c.id,
      blockTimeSeconds: c.blockTimeSeconds,
      pollIntervalSeconds: c.pollIntervalSeconds,
      outflowsPerDay: 0,
    }));
    return {
      deployment: {
        pollers,
        alarms: ofType('AWS::CloudWatch::Alarm').length,
        kmsKeys: ofType('AWS::KMS::Key').length,
        subscriptions,
        metricsPerChain: Object.keys(POLLER_METRICS).length,
        stopMarginSeconds: POLLER_STOP_MARGIN.toSeconds(),
        outflowRetentionDays: OUTFLOW_RETENTION_SECONDS / 86_400,
        historyReachSeconds: stack.config.maxWindowSeconds,
        globalPatterns: ledgerOnlyGlobalRules(stack.config.rules).length > 0,
      },
      chains,
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function main(): void {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', default: DEFAULT_CONFIG },
      bench: { type: 'string', default: join(REPO_ROOT, 'BENCHMARKS.json') },
      scenario: { type: 'string', default: resolve(REPO_ROOT, '../shared/scenarios/normal-week.json') },
      'outflows-per-day': { type: 'string' },
      pages: { type: 'string', default: '30' },
      resets: { type: 'string', default: '4' },
      json: { type: 'boolean', default: false },
    },
  });
  const bench = readBenchmarks(values.bench);
  const { deployment, chains } = describeDeployment(values.config);

  let source: string;
  let perDay: (chain: string) => number;
  if (values['outflows-per-day'] !== undefined) {
    const n = Number(values['outflows-per-day']);
    if (!Number.isFinite(n) || n < 0) throw new Error('--outflows-per-day must be a non-negative number');
    source = `--outflows-per-day ${n} on every chain`;
    perDay = () => n;
  } else {
    if (!existsSync(values.scenario)) {
      throw new Error(`${values.scenario} not found: pass --scenario <file> or --outflows-per-day N for the workload.`);
    }
    const counts = scenarioOutflowsPerDay(values.scenario);
    source = `the scenario ${values.scenario.replace(`${resolve(REPO_ROOT, '..')}/`, '')}`;
    perDay = (chain) => counts[chain] ?? 0;
  }
  const workload: Workload = {
    chains: chains.map((c) => ({ ...c, outflowsPerDay: perDay(c.id) })),
    pagesPerMonth: Number(values.pages),
    resetsPerMonth: Number(values.resets),
    source,
  };
  const estimate = estimateMonthlyCost(bench, deployment, workload);
  if (values.json) {
    console.log(JSON.stringify({ config: values.config, bench: values.bench, ...estimate }, null, 2));
  } else {
    console.log(formatMarkdown(estimate, `Monthly cost: ${values.config}`));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    main();
  } catch (e) {
    console.error(isBreakerError(e) ? e.message : (e as Error).message);
    process.exit(1);
  }
}
