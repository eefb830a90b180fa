import { setTimeout as sleep } from 'node:timers/promises';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { ABANDONED_CHECK_MS, type ChainRun, runPollers } from '../core/use-cases/run-pollers.ts';
import { pollerDeps } from '../runtime/compose.ts';
import { POLLER_METRICS } from './poller-metrics.ts';
import { handlerDeps, requirePublisher } from './runtime-deps.ts';

/** Stop starting polls this long before the Lambda deadline: one poll must finish in it. */
export const DEADLINE_MARGIN_MS = 10_000;
/**
 * Of that margin, how long a poll still in flight may run before its chain is given up on; the rest is for the
 * given-up chains' blindness check and the report, so the invocation ends before Lambda kills it.
 */
const GRACE_MS = DEADLINE_MARGIN_MS - ABANDONED_CHECK_MS - 1_000;

/** `{"chains": [...]}` from a poller group's schedule; `{"chain": id}` from a schedule of an older stack. */
const pollEvent = z
  .object({ chain: z.string().min(1).optional(), chains: z.array(z.string().min(1)).min(1).optional() })
  .loose()
  .refine((e) => (e.chain === undefined) !== (e.chains === undefined));

const deps = await handlerDeps();
requirePublisher(deps); // a poller pages: no topic fails the cold start, not the first trip

export interface PollReport {
  chains: { chain: string; polls: number; outflows: number; error?: string }[];
}

/**
 * Scheduled every minute per poller group. Polls each of the event's chains in its own loop, at about the chain's
 * block time, until shortly before the deadline, so detection takes about one block. Throws once every chain's
 * loop ended (or was given up on) when any chain could not be read or a page could not be published, so the
 * invocation counts as an error and the alarm pages; the error names those chains.
 */
async function pollChains(event: unknown, context: Context): Promise<PollReport> {
  const chains = eventChains(event);
  const { metrics, logger } = deps;
  const runs = await runPollers(
    chains.map((chain) => pollerDeps(deps, chain, context.awsRequestId)),
    {
      deadlineMs: deps.clock.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS,
      graceMs: GRACE_MS,
      sleep: (ms) => sleep(ms),
      timer: (ms, signal) => sleep(ms, undefined, { signal }),
      onResult: (chain, r) => {
        if (r.kind === 'advanced' && (r.trips.length > 0 || r.warnings.length > 0)) {
          logger.warn('breaker transition', { chain, trips: r.trips.map((t) => t.tripId), warnings: r.warnings });
        }
        if (r.kind === 'reorg') logger.warn('reorg', { chain, ...r });
      },
      onError: (chain, e) => logger.error('poll failed', { chain, error: e as Error }),
    },
  );
  for (const run of runs) {
    // One line per chain and run instead of count metrics (each custom metric is billed; no alarm reads these).
    logger.info('poll run', { chain: run.chain, polls: run.polls, failures: run.failures, outflows: run.outflows });
    // The chain's dead-man alarm watches this, under its own Chain dimension; when nothing was processed the metric
    // is simply missing, and missing data is treated as breaching.
    if (run.lastBlockTime !== undefined && run.lastBlockTime > 0) {
      const metric = metrics.singleMetric();
      metric.addDimension('Chain', run.chain);
      metric.addMetric(
        POLLER_METRICS.lastProcessedBlockAge,
        MetricUnit.Seconds,
        Math.max(0, deps.clock.now() / 1000 - run.lastBlockTime),
      );
    }
  }
  const failed = runs.filter((r) => r.error !== undefined);
  if (failed.length > 0) throw failedRunsError(failed);
  return { chains: runs.map((r) => ({ chain: r.chain, polls: r.polls, outflows: r.outflows })) };
}

function eventChains(event: unknown): string[] {
  const parsed = pollEvent.safeParse(event);
  if (!parsed.success) {
    throw new ConfigError('poll-chain event', [
      'expected {"chains": ["<chain id>", …]} (a poller group) or {"chain": "<chain id>"}',
    ]);
  }
  const chains = parsed.data.chains ?? [parsed.data.chain as string];
  const path = parsed.data.chains ? (i: number) => `chains[${i}]` : () => 'chain';
  const known = [...deps.config.chains.keys()].join(', ');
  const issues = chains.flatMap((chain, i) => [
    ...(deps.config.chains.has(chain) ? [] : [`${path(i)}: "${chain}" is not in the config (known: ${known})`]),
    // Two loops on one chain would only contend for its cursor lease.
    ...(chains.indexOf(chain) < i ? [`${path(i)}: "${chain}" is listed twice`] : []),
  ]);
  if (issues.length > 0) throw new ConfigError('poll-chain event', issues);
  return chains;
}

/** One error for the invocation, naming every chain whose run failed and why (each is in the log too). */
function failedRunsError(failed: readonly ChainRun[]): Error {
  const reasons = failed.map((r) => `${r.chain}: ${r.error instanceof Error ? r.error.message : String(r.error)}`);
  return new AggregateError(
    failed.map((r) => r.error),
    `polling failed on ${failed.map((r) => r.chain).join(', ')} — ${reasons.join('; ')}`,
  );
}

export const handler = middy(pollChains).use(captureLambdaHandler(deps.tracer)).use(injectLambdaContext(deps.logger));
