import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKillSwitchActuators } from '../adapters/actuators/build.ts';
import { createChainReader } from '../adapters/chain-readers.ts';
import { DynamoDbApprovedWithdrawals } from '../adapters/dynamodb/dynamodb-approved-withdrawals.ts';
import { DynamoDbBreakerStore } from '../adapters/dynamodb/dynamodb-breaker-store.ts';
import { type LocalDynamo, startLocalDynamo } from '../adapters/dynamodb/local-dynamo.ts';
import { createChainlinkPriceSource } from '../adapters/prices/chainlink-price-source.ts';
import type { BreakerConfig } from '../core/config/compile.ts';
import type { ChainReader, PagePublisher, StateMirror } from '../core/ports.ts';
import { hasPriceFeeds } from '../core/prices/price-alarm.ts';
import { systemClock } from '../core/time.ts';
import type { PollResult } from '../core/use-cases/poll-chain.ts';
import { runPoller } from '../core/use-cases/run-poller.ts';
import { announceRuntime, withdrawRuntime } from './runtime-file.ts';

/**
 * The embedded runtime: the same pollers, rules and store code as the Lambdas, on an in-process
 * DynamoDB stand-in (dynalite) instead of AWS. Used by `npm start` (demo) and `breaker watch`.
 */
export interface RuntimeOptions {
  config: BreakerConfig;
  configPath: string;
  publisher: PagePublisher;
  /** Persist the store here (LevelDB); in memory when omitted. */
  storePath?: string;
  onResult?: (chain: string, result: PollResult) => void;
  onError?: (chain: string, error: unknown) => void;
  /** Override chain readers (the demo points them at the anvil it started). */
  readers?: Map<string, ChainReader>;
}

export interface Runtime {
  dynamo: LocalDynamo;
  store: DynamoDbBreakerStore;
  /** The kill-switch layers the config turns on (webhook, Lambda concurrency, KMS), as in Lambda. */
  mirror: StateMirror | undefined;
  /** Resolves when every poller stopped (after stop()). */
  done: Promise<void>;
  stop(): Promise<void>;
}

export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const dynamo = await startLocalDynamo({ path: options.storePath });
  const store = new DynamoDbBreakerStore({ client: dynamo.client, tableName: dynamo.tableName });
  announceRuntime({
    pid: process.pid,
    endpoint: dynamo.endpoint,
    token: dynamo.token,
    tableName: dynamo.tableName,
    configPath: options.configPath,
    startedAt: new Date().toISOString(),
  });
  const abort = new AbortController();
  const owner = `local-${process.pid}-${randomUUID().slice(0, 8)}`;
  const mirror = createKillSwitchActuators({
    config: options.config,
    audit: store,
    publisher: options.publisher,
    memory: new DynamoDbApprovedWithdrawals({ client: dynamo.client, tableName: dynamo.tableName }),
  });
  const prices = hasPriceFeeds(options.config) ? createChainlinkPriceSource(options.config) : undefined;
  const pollers = [...options.config.chains.values()].map(async (chain) => {
    const reader = options.readers?.get(chain.id) ?? createChainReader(chain);
    // The local runtime runs until stopped; a failed run (e.g. RPC down) is reported and restarted.
    while (!abort.signal.aborted) {
      try {
        await runPoller(
          {
            config: options.config,
            chain,
            reader,
            store,
            publisher: options.publisher,
            clock: systemClock,
            owner,
            prices,
          },
          {
            deadlineMs: Number.POSITIVE_INFINITY,
            sleep: (ms) => sleep(ms, undefined, { signal: abort.signal }).catch(() => undefined),
            signal: abort.signal,
            onResult: (r) => options.onResult?.(chain.id, r),
            onError: (e) => options.onError?.(chain.id, e),
          },
        );
      } catch (e) {
        if (abort.signal.aborted) break;
        options.onError?.(chain.id, e);
        await sleep(chain.pollIntervalSeconds * 1000, undefined, { signal: abort.signal }).catch(() => undefined);
      }
    }
  });
  const done = Promise.all(pollers).then(() => undefined);
  return {
    dynamo,
    store,
    mirror,
    done,
    async stop() {
      abort.abort();
      await done;
      withdrawRuntime(process.pid);
      await dynamo.close();
    },
  };
}
