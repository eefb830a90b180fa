import { setTimeout as sleep } from 'node:timers/promises';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { runPoller } from '../core/use-cases/run-poller.ts';
import { pollerDeps } from '../runtime/compose.ts';
import { POLLER_METRICS } from './poller-metrics.ts';
import { handlerDeps, requirePublisher } from './runtime-deps.ts';

/** Stop starting polls this long before the Lambda deadline: one poll must finish in it. */
export const DEADLINE_MARGIN_MS = 10_000;

const pollEvent = z.object({ chain: z.string().min(1) }).loose();

const deps = await handlerDeps();
requirePublisher(deps); // a poller pages: no topic fails the cold start, not the first trip

/**
 * Scheduled every minute per chain. Polls at about the chain's block time until shortly before
 * the deadline, so detection takes about one block. Throws when the chain could not be read or a
 * page could not be published, so the invocation counts as an error and the alarm pages.
 */
async function pollChain(
  event: unknown,
  context: Context,
): Promise<{ chain: string; polls: number; outflows: number }> {
  const parsed = pollEvent.safeParse(event);
  if (!parsed.success) throw new ConfigError('poll-chain event', ['chain: expected {"chain":"<chain id>"}']);
  const chain = deps.config.chains.get(parsed.data.chain);
  if (!chain) {
    throw new ConfigError('poll-chain event', [
      `chain: "${parsed.data.chain}" is not in the config (known: ${[...deps.config.chains.keys()].join(', ')})`,
    ]);
  }
  const { metrics, logger } = deps;
  metrics.addDimension('Chain', chain.id);
  let lastBlockTime: number | undefined;
  try {
    const summary = await runPoller(pollerDeps(deps, chain.id, context.awsRequestId), {
      deadlineMs: deps.clock.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS,
      sleep: (ms) => sleep(ms),
      onResult: (r) => {
        if (r.kind === 'advanced' || r.kind === 'idle') lastBlockTime = r.lastBlockTime;
        if (r.kind === 'advanced' && (r.trips.length > 0 || r.warnings.length > 0)) {
          logger.warn('breaker transition', { trips: r.trips.map((t) => t.tripId), warnings: r.warnings });
        }
        if (r.kind === 'reorg') logger.warn('reorg', { ...r });
      },
      onError: (e) => logger.error('poll failed', e as Error),
    });
    // One line per run instead of per-chain count metrics (each custom metric is billed; no alarm reads these).
    logger.info('poll run', { polls: summary.polls, failures: summary.failures, outflows: summary.outflows });
    return { chain: chain.id, polls: summary.polls, outflows: summary.outflows };
  } finally {
    // The dead-man alarm watches this; when nothing was processed the metric is simply missing,
    // and missing data is treated as breaching.
    if (lastBlockTime !== undefined && lastBlockTime > 0) {
      metrics.addMetric(
        POLLER_METRICS.lastProcessedBlockAge,
        MetricUnit.Seconds,
        Math.max(0, deps.clock.now() / 1000 - lastBlockTime),
      );
    }
  }
}

export const handler = middy(pollChain)
  .use(captureLambdaHandler(deps.tracer))
  .use(injectLambdaContext(deps.logger))
  .use(logMetrics(deps.metrics));
