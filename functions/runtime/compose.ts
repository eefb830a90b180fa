/**
 * The composition root: the one place that turns an environment into the breaker's parts — store,
 * pager, kill-switch layers, price source, chain readers, clock — for the Lambda handlers, the
 * local runtime and both consoles. It is the only module that knows every adapter, so it sits
 * above adapters/ and below the entry points (handlers/, local/, console/); core never sees it.
 * Building the parts once here is what keeps the runtimes from drifting apart (the local runtime
 * once built its kill-switch layers and never gave them to its pollers).
 */

import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { createKillSwitchActuators } from '../adapters/actuators/build.ts';
import { createChainReader } from '../adapters/chain-readers.ts';
import { createChainlinkPriceSource } from '../adapters/prices/chainlink-price-source.ts';
import { createDexPriceDiscovery } from '../adapters/prices/dex-price-discovery.ts';
import { CachedSecrets } from '../adapters/secrets/cached-secrets.ts';
import { WEBHOOK_SECRET_ID_ENV } from '../adapters/secrets/secret-reference.ts';
import type { ConsoleDeps } from '../console/service.ts';
import type { ActuatorMemory } from '../core/actuators/actuator.ts';
import type { ChainReader } from '../core/chain-kind.ts';
import type { BreakerConfig } from '../core/config/types.ts';
import { configPollCheck } from '../core/config-check.ts';
import { ConfigError } from '../core/errors.ts';
import type { ApprovedWithdrawalLog, BreakerStore, PagePublisher, StateMirror } from '../core/ports.ts';
import type { UnlistedPriceSource } from '../core/prices/discovery.ts';
import { hasPriceFeeds } from '../core/prices/price-alarm.ts';
import type { PriceSource } from '../core/prices/price-source.ts';
import { type Clock, systemClock } from '../core/time.ts';
import { watermarkCheck } from '../core/use-cases/check-watermark.ts';
import { DEFAULT_LEASE_MS } from '../core/use-cases/cursor-lease.ts';
import { emptyHistoryCache, type OwnHistoryCache, type PollDeps } from '../core/use-cases/poll-chain.ts';
import { LedgerCache } from '../core/windows/ledger-cache.ts';
import { snsPagePublisher, ssmKillSwitchMirror } from './aws-pagers.ts';
import { configDigest } from './config-digest.ts';
import { loadDeployedConfig } from './deployed-config.ts';
import { tableStores } from './table-stores.ts';

/** Everything a runtime needs, built once (per Lambda container, per local run). */
export interface Composed {
  config: BreakerConfig;
  /** What the per-poll config check records: the digest of the config as written (runtime/deployed-config.ts). */
  configDigest: string;
  /** The breaker table: state, cursors, outflows, audit, and the approved-withdrawal log the guard writes. */
  store: BreakerStore & ApprovedWithdrawalLog;
  /** Where the Lambda and KMS layers remember what to restore (the breaker table). */
  memory: ActuatorMemory;
  /** Undefined only for read-only Lambdas (breaker-status), which get no topic; see requirePublisher. */
  publisher: PagePublisher | undefined;
  /** The kill-switch layers brought up to date at every outbox flush (SSM parameter, webhook, Lambda, KMS). */
  mirror: StateMirror | undefined;
  /** On-chain price feeds, when the config prices an asset by feed. */
  prices: PriceSource | undefined;
  /** Prices for unlisted tokens, when `unknownAssets.discovery` is on (one cache per container/run). */
  discovery: UnlistedPriceSource | undefined;
  /** One reader per chain, shared by the pollers and the console's health probe. */
  readers: ChainReaders;
  clock: Clock;
  /** How long a poller's lease on its cursor lasts between renewals (use-cases/cursor-lease.ts). */
  leaseMs: number;
  /** Other chains' ledgers, cached for every poller of this container/run alike (core/windows/ledger-cache.ts). */
  ledgers: LedgerCache;
  /**
   * Each chain's own history, kept by its poller across the runs of this container/process (a warm Lambda's
   * invocations), so a run does not re-read its chain's whole rule reach on its first poll with outflows.
   */
  ownHistories: Map<string, OwnHistoryCache>;
}

export interface ChainReaders {
  /** The chain's reader, built on first use; a ConfigError for a chain the config does not have. */
  get(chain: string): ChainReader;
}

/** The variables the CDK constructs set (each set by the construct that grants the permission). */
const lambdaEnv = z.object({
  BREAKER_TABLE: z.string({ error: 'not set (the CDK stack sets it)' }).min(1, 'not set (the CDK stack sets it)'),
  PAGE_TOPIC_ARN: z.string().min(1).optional(),
  KILL_SWITCH_PARAMETER: z.string().min(1).optional(),
  BREAKER_CONFIG_FILE: z.string().min(1).optional(),
  LAMBDA_TASK_ROOT: z.string().min(1).optional(),
  POLL_LEASE_MS: z.coerce
    .number({ error: 'not a number of milliseconds' })
    .int('not a whole number of milliseconds')
    .min(1_000, 'at least 1000 (a lease must outlast one store write)')
    .optional(),
});

/** The Lambda environment, validated; a ConfigError names every variable that is wrong. */
export function parseLambdaEnv(env: NodeJS.ProcessEnv): z.infer<typeof lambdaEnv> {
  // An empty variable is an unset one (CloudFormation cannot unset, only blank).
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = lambdaEnv.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      'Lambda environment',
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
    );
  }
  return parsed.data;
}

/**
 * The parts of a Lambda container, from the environment its construct set. `captureClient` wraps
 * each AWS SDK client (X-Ray tracing). The config's `${secret:…}` / `${ssm:…}` placeholders (RPC API
 * keys) are read here, at cold start (runtime/deployed-config.ts); `secrets` replaces the AWS clients
 * that read them (tests aim it at the local stand-ins).
 */
export async function composeFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  opts: { captureClient?: <T>(client: T) => T; secrets?: CachedSecrets } = {},
): Promise<Composed> {
  const vars = parseLambdaEnv(env);
  const capture = opts.captureClient ?? (<T>(client: T) => client);
  const { config, digest } = await loadDeployedConfig(
    vars.BREAKER_CONFIG_FILE ?? join(vars.LAMBDA_TASK_ROOT ?? process.cwd(), 'breaker-config.json'),
    () =>
      opts.secrets ??
      new CachedSecrets({
        secretsManager: capture(new SecretsManagerClient({})),
        ssm: capture(new SSMClient({})),
      }),
  );
  const dynamo = capture(new DynamoDBClient({}));
  const { store, memory } = tableStores(dynamo, vars.BREAKER_TABLE);
  const publisher = vars.PAGE_TOPIC_ARN ? snsPagePublisher(capture(new SNSClient({})), vars.PAGE_TOPIC_ARN) : undefined;
  const ssm = vars.KILL_SWITCH_PARAMETER
    ? ssmKillSwitchMirror(capture(new SSMClient({})), vars.KILL_SWITCH_PARAMETER)
    : undefined;
  return {
    config,
    configDigest: digest,
    store,
    memory,
    publisher,
    // Functions that page also run the actuators (their failures are paged); read-only ones never flush.
    mirror: publisher
      ? createKillSwitchActuators({
          config,
          audit: store,
          publisher,
          memory,
          ssm,
          lambda: config.actuators.lambdaConcurrency ? capture(new LambdaClient({})) : undefined,
          kms: config.actuators.kmsKeys ? capture(new KMSClient({})) : undefined,
          // The stack names the webhook secret (never its value): read at run time, re-read on rotation.
          secrets: env[WEBHOOK_SECRET_ID_ENV]
            ? new CachedSecrets({ secretsManager: capture(new SecretsManagerClient({})) })
            : undefined,
          env,
        })
      : ssm,
    prices: priceSource(config),
    discovery: createDexPriceDiscovery(config),
    readers: chainReaders(config),
    clock: systemClock,
    leaseMs: vars.POLL_LEASE_MS ?? DEFAULT_LEASE_MS,
    ledgers: new LedgerCache(),
    ownHistories: new Map(),
  };
}

/**
 * The parts of a local runtime (`npm start`, `breaker watch`): its embedded store, its pager, and
 * the same kill-switch layers the Lambdas run (their secrets read from `env`).
 */
export function composeLocal(opts: {
  config: BreakerConfig;
  table: { client: DynamoDBClient; tableName: string };
  publisher: PagePublisher;
  /** Readers to use instead of the configured endpoints (the demo points them at its own chains). */
  readers?: ReadonlyMap<string, ChainReader>;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** @default systemClock */
  clock?: Clock;
  /** @default DEFAULT_LEASE_MS */
  leaseMs?: number;
}): Composed {
  const { config, publisher } = opts;
  const { store, memory } = tableStores(opts.table.client, opts.table.tableName);
  const clock = opts.clock ?? systemClock;
  return {
    config,
    configDigest: configDigest(config),
    store,
    memory,
    publisher,
    mirror: createKillSwitchActuators({ config, audit: store, publisher, memory, env: opts.env, clock }),
    prices: priceSource(config),
    discovery: createDexPriceDiscovery(config),
    readers: chainReaders(config, opts.readers),
    clock,
    leaseMs: opts.leaseMs ?? DEFAULT_LEASE_MS,
    ledgers: new LedgerCache(),
    ownHistories: new Map(),
  };
}

function ownHistoryOf(c: Composed, chainId: string): OwnHistoryCache {
  const kept = c.ownHistories.get(chainId);
  if (kept) return kept;
  const fresh = emptyHistoryCache();
  c.ownHistories.set(chainId, fresh);
  return fresh;
}

/** What one chain's poller gets, in every runtime alike. */
export function pollerDeps(c: Composed, chainId: string, owner: string): PollDeps {
  const chain = c.config.chains.get(chainId);
  if (!chain) throw unknownChain(c.config, chainId);
  return {
    config: c.config,
    chain,
    reader: c.readers.get(chainId),
    store: c.store,
    publisher: requirePublisher(c),
    mirror: c.mirror,
    prices: c.prices,
    discovery: c.discovery,
    clock: c.clock,
    owner,
    leaseMs: c.leaseMs,
    ledgers: c.ledgers,
    history: ownHistoryOf(c, chainId),
    checks: [
      // Every poll records the config's digest; a change is audited and paged [CONFIG] (core/config-check.ts).
      configPollCheck(c.config, c.configDigest),
      ...(c.config.watermark.chains.has(chainId)
        ? [watermarkCheck({ config: c.config, chain, reader: c.readers.get(chainId), approvals: c.store })]
        : []),
    ],
  };
}

/** What an ops console gets: the runtime's parts, its health view probing the shared readers. */
export function consoleDeps(
  c: Pick<Composed, 'config' | 'store' | 'publisher' | 'mirror' | 'readers' | 'clock'>,
): ConsoleDeps {
  return {
    config: c.config,
    store: c.store,
    publisher: requirePublisher(c),
    mirror: c.mirror,
    clock: c.clock,
    probeHead: async (chain) => c.readers.get(chain).head(),
  };
}

/** For parts that page (pollers, resets, consoles): no topic is a deploy bug, caught at cold start. */
export function requirePublisher(c: Pick<Composed, 'publisher'>): PagePublisher {
  if (!c.publisher) {
    throw new ConfigError('Lambda environment', ['PAGE_TOPIC_ARN: not set (the CDK stack sets it)']);
  }
  return c.publisher;
}

function priceSource(config: BreakerConfig): PriceSource | undefined {
  return hasPriceFeeds(config) ? createChainlinkPriceSource(config) : undefined;
}

/** The one reader cache of a runtime: `overrides` first, else a reader for the chain's configured endpoints. */
export function chainReaders(config: BreakerConfig, overrides?: ReadonlyMap<string, ChainReader>): ChainReaders {
  const readers = new Map(overrides);
  return {
    get(chainId) {
      const cached = readers.get(chainId);
      if (cached) return cached;
      const chain = config.chains.get(chainId);
      if (!chain) throw unknownChain(config, chainId);
      const reader = createChainReader(chain);
      readers.set(chainId, reader);
      return reader;
    },
  };
}

function unknownChain(config: BreakerConfig, chainId: string): ConfigError {
  return new ConfigError('chain', [
    `"${chainId}" is not in the config (known: ${[...config.chains.keys()].join(', ')})`,
  ]);
}
