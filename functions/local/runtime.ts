import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LocalDynamo, startLocalDynamo } from '../adapters/dynamodb/local-dynamo.ts';
import { localOperator } from '../console/local-server.ts';
import type { ChainReader } from '../core/chain-kind.ts';
import type { BreakerConfig } from '../core/config/types.ts';
import type { PagePublisher, StateMirror } from '../core/ports.ts';
import { initialiseOnFirstRun } from '../core/use-cases/initialise-breaker.ts';
import type { PollResult } from '../core/use-cases/poll-chain.ts';
import { runPoller } from '../core/use-cases/run-poller.ts';
import { type Composed, composeLocal, pollerDeps } from '../runtime/compose.ts';
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
  /** Where the kill-switch layers read their secrets (the webhook's HMAC secret). @default process.env */
  env?: NodeJS.ProcessEnv;
}

export interface Runtime {
  dynamo: LocalDynamo;
  /** The runtime's parts, as runtime/compose.ts built them (the consoles take theirs from here). */
  composed: Composed;
  store: Composed['store'];
  /** The kill-switch layers the config turns on (webhook, Lambda concurrency, KMS), as in Lambda. */
  mirror: StateMirror | undefined;
  /** Resolves when every poller stopped (after stop()). */
  done: Promise<void>;
  stop(): Promise<void>;
}

export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const dynamo = await startLocalDynamo({ path: options.storePath });
  const composed = composeLocal({
    config: options.config,
    table: { client: dynamo.client, tableName: dynamo.tableName },
    publisher: options.publisher,
    readers: options.readers,
    env: options.env,
  });
  announceRuntime({
    pid: process.pid,
    endpoint: dynamo.endpoint,
    token: dynamo.token,
    tableName: dynamo.tableName,
    configPath: options.configPath,
    startedAt: new Date().toISOString(),
  });
  // First run: create the armed state, audited as the OS user. Never after a deletion (tamper).
  await initialiseOnFirstRun(
    { store: composed.store, publisher: options.publisher, clock: composed.clock },
    { actor: localOperator(), reason: `first run of the local runtime (${options.configPath})` },
  );
  const abort = new AbortController();
  const owner = `local-${process.pid}-${randomUUID().slice(0, 8)}`;
  const pollers = [...options.config.chains.values()].map(async (chain) => {
    const deps = pollerDeps(composed, chain.id, owner);
    // The local runtime runs until stopped; a failed run (e.g. RPC down) is reported and restarted.
    while (!abort.signal.aborted) {
      try {
        await runPoller(deps, {
          deadlineMs: Number.POSITIVE_INFINITY,
          sleep: (ms) => sleep(ms, undefined, { signal: abort.signal }).catch(() => undefined),
          signal: abort.signal,
          onResult: (r) => options.onResult?.(chain.id, r),
          onError: (e) => options.onError?.(chain.id, e),
        });
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
    composed,
    store: composed.store,
    mirror: composed.mirror,
    done,
    async stop() {
      abort.abort();
      await done;
      withdrawRuntime(process.pid);
      await dynamo.close();
    },
  };
}
