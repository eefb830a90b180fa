import { z } from 'zod';
import { MINUTES_PER_MONTH, PRICES } from './prices.ts';

/**
 * What `npm run bench` measures (BENCHMARKS.json at the repo root). Request counts are per poll / per outflow as
 * the real adapters send them (SDK retries included). Optional fields refine the estimate; without them the
 * estimate says what it assumed.
 */
export const benchmarksSchema = z.looseObject({
  /** DynamoDB requests one poll makes when no hot-wallet outflow is in the new blocks. */
  dynamoRequestsPerIdlePoll: z.number().nonnegative(),
  /** Additional DynamoDB requests per recorded outflow (ledger write, window reads, state update), amortised. */
  dynamoRequestsPerOutflow: z.number().nonnegative(),
  /** Chain RPC calls per processed block (not an AWS cost; reported for the RPC provider's plan). */
  rpcCallsPerBlock: z.number().nonnegative(),
  /** Polls per minute of one poller: a number for every chain, or per chain id. Default: 60 / pollIntervalSeconds. */
  pollsPerMinute: z.union([z.number().positive(), z.record(z.string(), z.number().positive())]).optional(),
  /** Of the requests above, how many are writes. Default: all of them (priced as writes: an upper bound). */
  dynamoWritesPerIdlePoll: z.number().nonnegative().optional(),
  dynamoWritesPerOutflow: z.number().nonnegative().optional(),
  /** Write request units those writes consume (an item over 1 KB costs one unit per KB). Default: one per write. */
  dynamoWriteUnitsPerIdlePoll: z.number().nonnegative().optional(),
  dynamoWriteUnitsPerOutflow: z.number().nonnegative().optional(),
  /**
   * Write units of one cursor write (its item size). With it, idle polls are priced at the cursor saves the stack's
   * cadence allows (Deployment idleCursorSavesPerMinute) on top of dynamoWriteUnitsPerIdlePoll, which the bench
   * measures over polls between two saves.
   */
  cursorWriteUnits: z.number().nonnegative().optional(),
  /** Read units an idle poll's reads consume (the state item's size, 4 KB a unit). Default: one per read request. */
  dynamoReadUnitsPerIdlePoll: z.number().nonnegative().optional(),
  /** Billed seconds per poller invocation. Default: the function timeout minus the handler's stop margin. */
  lambdaSecondsPerInvocation: z.number().positive().optional(),
  /** CloudWatch Logs bytes (log lines + EMF metrics) per poll. Default: 1 KiB, stated as an assumption. */
  logBytesPerPoll: z.number().nonnegative().optional(),
  /** Stored bytes per outflow record. Default: 1 KiB, stated as an assumption. */
  bytesPerOutflowRecord: z.number().positive().optional(),
  /**
   * The scale bench (`npm run bench -- --only scale`): read units a poll with outflows consumed with K chains on one
   * table (ReturnConsumedCapacity). With it, a poll with outflows is priced at the measured units for the config's
   * number of chains instead of one unit per read request.
   */
  scale: z
    .looseObject({
      runs: z.array(
        z.looseObject({
          k: z.number().int().positive(),
          readUnitsPerPollWithOutflows: z.number(),
          /** The run added a global drain pattern, so every poll with outflows read the other chains' ledgers. */
          patterns: z.boolean().optional(),
        }),
      ),
    })
    .optional(),
});
export type Benchmarks = z.infer<typeof benchmarksSchema>;

/** One poller function of the synthesised stack: a poller group, or a chain polled alone (a group of one). */
export interface PollerFunction {
  /** The group's id (a chain polled alone: the chain id). */
  group: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** The chains its loop polls, each in its own loop inside the one invocation. */
  chains: {
    chain: string;
    /** Cursor writes a minute of idle polls makes at most (the idle save cadence plus the end-of-run save). */
    idleCursorSavesPerMinute: number;
  }[];
}

/** What the synthesised stack contains (read from its template, so the estimate follows the infrastructure). */
export interface Deployment {
  /** One per poll schedule: Lambda bills each one's loop once a minute, however many chains it polls. */
  pollers: PollerFunction[];
  alarms: number;
  kmsKeys: number;
  subscriptions: { email: number; https: number; sms: number };
  /** Custom metrics the pollers emit per chain (functions/handlers/poller-metrics.ts). */
  metricsPerChain: number;
  /** Seconds the poll loop stops before its deadline. */
  stopMarginSeconds: number;
  /** Days an outflow record is kept before TTL deletes it. */
  outflowRetentionDays: number;
  /** How far back evaluation reads the ledgers (the config's longest rule reach, drain-pattern lookbacks included). */
  historyReachSeconds: number;
  /** The config has a global drain pattern: every poll with outflows needs every chain's ledger. */
  globalPatterns: boolean;
}

export interface Workload {
  chains: { id: string; blockTimeSeconds: number; pollIntervalSeconds: number; outflowsPerDay: number }[];
  pagesPerMonth: number;
  resetsPerMonth: number;
  /** Where outflowsPerDay came from, for the report. */
  source: string;
}

export interface CostLine {
  service: string;
  item: string;
  quantity: number;
  unit: string;
  usd: number;
}

export interface CostEstimate {
  lines: CostLine[];
  totalUsd: number;
  /** Per poller function: what it polls, its size and its compute bill (part of the Lambda compute line). */
  pollerFunctions: { group: string; chains: string[]; memoryMb: number; computeUsd: number }[];
  /** Per chain, for the report: RPC calls the provider will see (not billed by AWS). */
  rpcCallsPerMonth: Record<string, number>;
  assumptions: string[];
}

const DAYS_PER_MONTH = MINUTES_PER_MONTH / 1440;
/**
 * How often a poller function's execution environment starts cold. Lambda documents no lifetime for a warm one; a
 * function invoked every minute keeps one, recycled by the platform every few hours: every 2 hours is assumed.
 */
const COLD_STARTS_PER_FUNCTION_DAY = 12;
/** A strongly consistent read request unit: 4 KB. */
const READ_UNIT_BYTES = 4096;
const DEFAULT_LOG_BYTES_PER_POLL = 1024;
/** Lambda's own START, END and REPORT lines per invocation (with the X-Ray trace id): written by the platform, not the bench's process. */
const PLATFORM_LOG_BYTES_PER_INVOCATION = 400;
const DEFAULT_BYTES_PER_OUTFLOW = 1024;
/** DynamoDB and SNS reuse a KMS data key for up to 5 minutes per client; one warm poller ≈ 12 key requests an hour. */
const KMS_REQUESTS_PER_POLLER_HOUR = 12;

export function estimateMonthlyCost(bench: Benchmarks, deployment: Deployment, workload: Workload): CostEstimate {
  const lines: CostLine[] = [];
  const assumptions: string[] = [];
  const rpcCallsPerMonth: Record<string, number> = {};
  const line = (service: string, item: string, quantity: number, unit: string, unitPrice: number) =>
    lines.push({ service, item, quantity, unit, usd: quantity * unitPrice });

  const invocations = deployment.pollers.length * MINUTES_PER_MONTH;
  let gbSeconds = 0;
  let polls = 0;
  let readUnits = 0;
  let writeUnits = 0;
  let outflowsPerMonth = 0;
  const pollerFunctions = deployment.pollers.map((poller) => {
    const seconds = bench.lambdaSecondsPerInvocation ?? poller.timeoutSeconds - deployment.stopMarginSeconds;
    const functionGbSeconds = (poller.memoryMb / 1024) * seconds * MINUTES_PER_MONTH;
    gbSeconds += functionGbSeconds;
    return {
      group: poller.group,
      chains: poller.chains.map((c) => c.chain),
      memoryMb: poller.memoryMb,
      computeUsd: functionGbSeconds * PRICES.lambdaArmPerGbSecond,
    };
  });
  const outflowPollReadUnits = measuredReadUnitsPerOutflowPoll(
    bench,
    workload.chains.length,
    deployment.globalPatterns,
  );
  for (const chain of workload.chains) {
    const polled = deployment.pollers.flatMap((p) => p.chains).find((c) => c.chain === chain.id);
    if (!polled) throw new Error(`the stack has no poller for chain "${chain.id}"`);

    const perMinute =
      typeof bench.pollsPerMinute === 'number'
        ? bench.pollsPerMinute
        : (bench.pollsPerMinute?.[chain.id] ?? 60 / chain.pollIntervalSeconds);
    const chainPolls = perMinute * MINUTES_PER_MONTH;
    const chainOutflows = chain.outflowsPerDay * DAYS_PER_MONTH;
    polls += chainPolls;
    outflowsPerMonth += chainOutflows;

    const idleWrites = bench.dynamoWritesPerIdlePoll ?? bench.dynamoRequestsPerIdlePoll;
    const outflowWrites = bench.dynamoWritesPerOutflow ?? bench.dynamoRequestsPerOutflow;
    const cursorSaves =
      bench.cursorWriteUnits === undefined
        ? 0
        : Math.min(perMinute, polled.idleCursorSavesPerMinute) * MINUTES_PER_MONTH * bench.cursorWriteUnits;
    writeUnits +=
      cursorSaves +
      chainPolls * (bench.dynamoWriteUnitsPerIdlePoll ?? idleWrites) +
      chainOutflows * (bench.dynamoWriteUnitsPerOutflow ?? outflowWrites);
    readUnits +=
      chainPolls * (bench.dynamoReadUnitsPerIdlePoll ?? bench.dynamoRequestsPerIdlePoll - idleWrites) +
      chainOutflows * (outflowPollReadUnits ?? bench.dynamoRequestsPerOutflow - outflowWrites) +
      // Each poller function's ledger cache reads a new record back once (a Query, at least one unit).
      chainOutflows * deployment.pollers.length;
    rpcCallsPerMonth[chain.id] = ((MINUTES_PER_MONTH * 60) / chain.blockTimeSeconds) * bench.rpcCallsPerBlock;
  }
  if (outflowPollReadUnits !== undefined) {
    assumptions.push(
      `Every outflow is its own poll with outflows, at the ${outflowPollReadUnits.toFixed(1)} read units the scale bench measured for ${workload.chains.length} chains${deployment.globalPatterns ? ' with a global drain pattern (at its compressed traffic every other chain changed between two polls)' : ''} (an upper bound: a poll with several outflows reads once), plus one ledger-cache read of the new record per poller function.`,
    );
  }
  readUnits += coldStartLedgerReads(deployment, workload, bench.bytesPerOutflowRecord ?? DEFAULT_BYTES_PER_OUTFLOW);
  assumptions.push(
    `A poller function starts cold ${COLD_STARTS_PER_FUNCTION_DAY} times a day and then reads every chain's ledger over the rules' reach (${(deployment.historyReachSeconds / 86_400).toFixed(1)} days) once, into the history caches its warm invocations keep: an upper bound when no global rule needs the other chains' ledgers.`,
  );
  if (bench.lambdaSecondsPerInvocation === undefined) {
    assumptions.push(
      `Each poller invocation is billed for its whole polling loop: timeout − ${deployment.stopMarginSeconds} s stop margin (BENCHMARKS.json has no lambdaSecondsPerInvocation).`,
    );
  }
  if (bench.pollsPerMinute === undefined) {
    assumptions.push(
      'Polls per minute = 60 / pollIntervalSeconds of each chain (BENCHMARKS.json has no pollsPerMinute).',
    );
  }
  if (bench.dynamoWritesPerIdlePoll === undefined || bench.dynamoWritesPerOutflow === undefined) {
    assumptions.push(
      'DynamoDB requests without a measured read/write split are priced as writes of ≤ 1 KB (an upper bound); every request is one request unit.',
    );
  } else if (bench.dynamoWriteUnitsPerIdlePoll !== undefined && bench.dynamoWriteUnitsPerOutflow !== undefined) {
    assumptions.push(
      bench.dynamoReadUnitsPerIdlePoll === undefined
        ? 'DynamoDB writes are priced at the write units measured by the bench (item sizes); reads at one unit each.'
        : outflowPollReadUnits === undefined
          ? "DynamoDB writes and idle polls' reads are priced at the units their item sizes measured by the bench take; a poll with outflows reads at one unit per request (its window query grows with the window's outflows)."
          : "DynamoDB writes and idle polls' reads are priced at the units their item sizes measured by the bench take.",
    );
    if (bench.cursorWriteUnits !== undefined) {
      assumptions.push(
        'Every chain sees a new block between two idle cursor saves (an upper bound: a save is skipped when nothing moved).',
      );
    }
  } else {
    assumptions.push('Every DynamoDB request is one request unit (items ≤ 1 KB written, ≤ 4 KB read).');
  }

  line('Lambda', 'poller compute (arm64)', gbSeconds, 'GB-s', PRICES.lambdaArmPerGbSecond);
  line('Lambda', 'requests', invocations, 'requests', PRICES.lambdaPerRequest);
  line('EventBridge Scheduler', 'one-minute poll schedules', invocations, 'invocations', PRICES.schedulerPerInvocation);

  line('DynamoDB', 'write request units (on-demand)', writeUnits, 'WRU', PRICES.dynamoPerWriteRequestUnit);
  line('DynamoDB', 'read request units (on-demand)', readUnits, 'RRU', PRICES.dynamoPerReadRequestUnit);
  const bytesPerOutflow = bench.bytesPerOutflowRecord ?? DEFAULT_BYTES_PER_OUTFLOW;
  if (bench.bytesPerOutflowRecord === undefined) assumptions.push('An outflow record takes 1 KiB of table storage.');
  const storedGb =
    ((outflowsPerMonth / DAYS_PER_MONTH) * deployment.outflowRetentionDays * bytesPerOutflow) / 1024 ** 3;
  line('DynamoDB', 'storage (outflows kept until TTL)', storedGb, 'GB-month', PRICES.dynamoStoragePerGbMonth);
  line('DynamoDB', 'point-in-time recovery', storedGb, 'GB-month', PRICES.dynamoPitrPerGbMonth);

  const publishes = workload.pagesPerMonth;
  const { email, https, sms } = deployment.subscriptions;
  line('SNS', 'page publishes', publishes, 'publishes', PRICES.snsPerPublish);
  line('SNS', 'email deliveries', publishes * email, 'emails', PRICES.snsPerEmail);
  line('SNS', 'HTTPS deliveries', publishes * https, 'deliveries', PRICES.snsPerHttps);
  if (sms > 0) line('SNS', 'SMS deliveries (US)', publishes * sms, 'messages', PRICES.snsPerSmsUs);

  line('KMS', 'customer-managed keys', deployment.kmsKeys, 'keys', PRICES.kmsPerKeyMonth);
  const kmsRequests = deployment.pollers.length * KMS_REQUESTS_PER_POLLER_HOUR * (MINUTES_PER_MONTH / 60);
  assumptions.push(
    `KMS requests: DynamoDB and SNS cache data keys for up to 5 minutes, so about ${KMS_REQUESTS_PER_POLLER_HOUR} per warm poller per hour.`,
  );
  line('KMS', 'requests (via DynamoDB, SNS)', kmsRequests, 'requests', PRICES.kmsPerRequest);

  line('CloudWatch', 'alarms (standard resolution)', deployment.alarms, 'alarms', PRICES.cloudwatchPerAlarm);
  line(
    'CloudWatch',
    'custom metrics (EMF)',
    deployment.metricsPerChain * workload.chains.length,
    'metrics',
    PRICES.cloudwatchPerCustomMetric,
  );
  const logBytes = bench.logBytesPerPoll ?? DEFAULT_LOG_BYTES_PER_POLL;
  if (bench.logBytesPerPoll === undefined) {
    assumptions.push('Each poll writes 1 KiB of logs and EMF metrics (BENCHMARKS.json has no logBytesPerPoll).');
  }
  assumptions.push(
    `Lambda adds about ${PLATFORM_LOG_BYTES_PER_INVOCATION} bytes of START/END/REPORT lines per invocation to the logs.`,
  );
  const logGb = (polls * logBytes + invocations * PLATFORM_LOG_BYTES_PER_INVOCATION) / 1024 ** 3;
  line('CloudWatch', 'logs ingested', logGb, 'GB', PRICES.cloudwatchLogsPerIngestedGb);
  line('CloudWatch', 'logs stored (3-month retention)', logGb * 3, 'GB-month', PRICES.cloudwatchLogsPerStoredGbMonth);

  // X-Ray samples the first request each second, so a once-a-minute invocation is always traced.
  line('X-Ray', 'traces recorded', invocations, 'traces', PRICES.xrayPerTraceRecorded);
  line('CloudTrail', 'reset Invoke data events', workload.resetsPerMonth, 'events', PRICES.cloudtrailPerDataEvent);
  assumptions.push(
    `${workload.pagesPerMonth} pages and ${workload.resetsPerMonth} resets a month; outflows per day from ${workload.source}.`,
  );
  assumptions.push('Free tiers are not deducted; S3 storage of the reset audit trail (a few KB a month) is left out.');

  const totalUsd = lines.reduce((sum, l) => sum + l.usd, 0);
  return { lines, totalUsd, pollerFunctions, rpcCallsPerMonth, assumptions };
}

export function formatMarkdown(estimate: CostEstimate, title: string): string {
  const money = (usd: number) => (usd < 0.005 && usd > 0 ? '< $0.01' : `$${usd.toFixed(2)}`);
  const qty = (n: number) =>
    n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toLocaleString('en-US', { maximumSignificantDigits: 3 });
  const rows = estimate.lines.map(
    (l) => `| ${l.service} | ${l.item} | ${qty(l.quantity)} ${l.unit} | ${money(l.usd)} |`,
  );
  const bySvc = new Map<string, number>();
  for (const l of estimate.lines) bySvc.set(l.service, (bySvc.get(l.service) ?? 0) + l.usd);
  return [
    `## ${title}`,
    '',
    `AWS list prices, ${PRICES.region}, as of ${PRICES.asOf} (infra/cost/prices.ts), for one month (730 h).`,
    '',
    '| service | item | quantity / month | USD / month |',
    '|---|---|---:|---:|',
    ...rows,
    `| **total** | | | **${money(estimate.totalUsd)}** |`,
    '',
    '| service | USD / month |',
    '|---|---:|',
    ...[...bySvc].map(([svc, usd]) => `| ${svc} | ${money(usd)} |`),
    '',
    `Poller functions (one invocation a minute each, its loop billed whole): ${estimate.pollerFunctions
      .map(
        (p) =>
          `${p.chains.length === 1 && p.chains[0] === p.group ? p.group : `${p.group} = ${p.chains.join(' + ')}`} (${p.memoryMb} MB, ${money(p.computeUsd)})`,
      )
      .join(', ')}.`,
    '',
    `RPC calls per month (your provider's bill, not AWS): ${Object.entries(estimate.rpcCallsPerMonth)
      .map(([chain, n]) => `${chain} ${Math.round(n).toLocaleString('en-US')}`)
      .join(', ')}.`,
    '',
    'Assumptions:',
    ...estimate.assumptions.map((a) => `- ${a}`),
    '',
  ].join('\n');
}

/**
 * Read units of the ledgers a cold poller reads back: its chains' own history and, through the ledger cache,
 * every other chain's, over the rules' reach (at most what retention keeps), strongly consistent.
 */
function coldStartLedgerReads(deployment: Deployment, workload: Workload, bytesPerOutflow: number): number {
  const reachDays = Math.min(deployment.historyReachSeconds / 86_400, deployment.outflowRetentionDays);
  const ledgerBytes = workload.chains.reduce((sum, c) => sum + c.outflowsPerDay * reachDays * bytesPerOutflow, 0);
  const coldStarts = deployment.pollers.length * COLD_STARTS_PER_FUNCTION_DAY * DAYS_PER_MONTH;
  return coldStarts * Math.ceil(ledgerBytes / READ_UNIT_BYTES);
}

/**
 * Read units of one poll with outflows for a config of `chains` chains, from the scale bench's runs (linear between
 * the measured chain counts, and beyond them along the nearest two): the state, progress and every other chain's
 * window summary. Undefined when the bench has no scale runs.
 */
export function measuredReadUnitsPerOutflowPoll(
  bench: Benchmarks,
  chains: number,
  globalPatterns = false,
): number | undefined {
  const byK = new Map<number, number[]>();
  // The runs shaped like the config: with a global drain pattern, the runs that had one.
  const runs = (bench.scale?.runs ?? []).filter((r) => (r.patterns ?? false) === globalPatterns);
  for (const r of runs) byK.set(r.k, [...(byK.get(r.k) ?? []), r.readUnitsPerPollWithOutflows]);
  // Both stores ran each K: take the larger figure.
  const points = [...byK].map(([k, units]) => ({ k, units: Math.max(...units) })).sort((a, b) => a.k - b.k);
  if (points.length === 0) return undefined;
  if (points.length === 1) return points[0]!.units;
  // The segment holding `chains`: the first measured count at or above it, clamped to the first and last segments.
  const above = points.findIndex((p) => p.k >= chains);
  const i = above === -1 ? points.length - 1 : Math.max(above, 1);
  const a = points[i - 1]!;
  const b = points[i]!;
  return Math.max(0, a.units + ((b.units - a.units) * (chains - a.k)) / (b.k - a.k));
}
