/**
 * One run of the scale benchmark (test/bench/scale.ts runs the matrix and writes the report): K chains,
 * each polled by its own `runPoller` loop with its own DynamoDB client (one Lambda per chain), all on
 * one table served by dynalite (in this process, as `npm start` runs it) or DynamoDB Local (a JVM).
 *
 *   npx tsx test/bench/scale-run.ts --k 50 --store ddblocal --seconds 60 --out /tmp/k50.json
 *
 * Traffic: every chain is a scripted EVM-kind chain (a block per second of wall time, each chain at its
 * own phase, parent-linked hashes) with Poisson hot-wallet outflows (70 % native, 30 % a token) at
 * `--per-hour` outflows per hour of chain time in total, spread over the chains; `--compress 48` makes a
 * wall second 48 chain seconds, so a 60-s run is 48 minutes of a 10,000/h exchange. Limits are shaped
 * like config/example.yaml (global USD 10m/1h/24h, count 10m/1h, single transfer; per chain USD 10m/1h;
 * per asset units 1h) and so high that nothing trips or warns: every poll with outflows evaluates.
 * `--patterns` adds config/example.yaml's global new-destinations pattern (1h window, 14d lookback, as
 * high): every poll with outflows then needs every other chain's ledger (docs/SCALE.md), which each
 * poller caches across its polls (core/windows/ledger-cache.ts, one cache per poller as one Lambda per
 * chain has); `--no-ledger-cache` reads them all every time, as before the cache.
 *
 * Measured: polls by kind; breaker-state saves and their conflicts; DynamoDB requests per poll by
 * operation (each chain's own client); read units as the server reports them (ReturnConsumedCapacity);
 * poll duration; block confirmed → its poll done (evaluated and committed); CPU of this process and the
 * JVM, machine busy share, main-thread utilisation. At the end, through an unmetered client: every
 * generated outflow up to each cursor is in the table exactly once and nothing else is, the polls'
 * counts add up, and every chain's evaluation progress covers its last block with outflows.
 * Bounded: the run stops at --seconds, and the process exits at --hard-limit-s whatever happens.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { DynamoDbBreakerStore } from '../../functions/adapters/dynamodb/dynamodb-breaker-store.ts';
import {
  createTableIfMissing,
  localDynamoClient,
  startLocalDynamo,
} from '../../functions/adapters/dynamodb/local-dynamo.ts';
import { countDynamoRequests } from '../../functions/adapters/dynamodb/request-counter.ts';
import type { ChainReader } from '../../functions/core/chain-kind.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import { StateConflictError } from '../../functions/core/errors.ts';
import type { BlockRef, ChainTransfer, RangeRead } from '../../functions/core/model.ts';
import type { BreakerState } from '../../functions/core/state.ts';
import { systemClock } from '../../functions/core/time.ts';
import { initialiseBreaker } from '../../functions/core/use-cases/initialise-breaker.ts';
import { runPoller } from '../../functions/core/use-cases/run-poller.ts';
import { LedgerCache } from '../../functions/core/windows/ledger-cache.ts';
import { startDynamoDbLocal } from '../support/dynamo.ts';
import { seededRandom } from './chain-tools.ts';

const { values: args } = parseArgs({
  options: {
    k: { type: 'string', default: '10' },
    store: { type: 'string', default: 'dynalite' },
    seconds: { type: 'string', default: '60' },
    'per-hour': { type: 'string', default: '10000' },
    compress: { type: 'string', default: '48' },
    seed: { type: 'string', default: '1' },
    'hard-limit-s': { type: 'string', default: '118' },
    out: { type: 'string' },
    patterns: { type: 'boolean', default: false },
    'no-ledger-cache': { type: 'boolean', default: false },
  },
});
const K = Number(args.k);
const STORE = args.store as 'dynalite' | 'ddblocal';
const SECONDS = Number(args.seconds);
const PER_HOUR = Number(args['per-hour']);
const COMPRESS = Number(args.compress);
const SEED = Number(args.seed);
const BLOCK_MS = 1000;
const CONFIRMATIONS = 1;
const B0 = 1_000_000;
const USDT = '0xdac17f958d2ee523a2206206994597c13d831ec7';
const HUGE = 1e12;
const TABLE = 'scale-bench';

setTimeout(() => {
  process.stderr.write(`scale run: hard limit ${args['hard-limit-s']} s reached\n`);
  process.exit(3);
}, Number(args['hard-limit-s']) * 1000).unref();

const ids = Array.from({ length: K }, (_, i) => `c${String(i).padStart(2, '0')}`);
const hotWallet = (i: number) => `0x${(0x100000 + i).toString(16).padStart(40, '0')}`;
const stranger = (j: number) => `0xbad0${j.toString(16).padStart(36, '0')}`;

function poisson(rand: () => number, lambda: number): number {
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rand();
  } while (p > l);
  return k - 1;
}

function buildConfig(): BreakerConfig {
  const chains = Object.fromEntries(
    ids.map((id, i) => [
      id,
      {
        kind: 'evm' as const,
        chainId: 10_000 + i,
        rpc: [`https://${id}.example.test`],
        confirmations: CONFIRMATIONS,
        blockTimeSeconds: BLOCK_MS / 1000,
        pollIntervalSeconds: BLOCK_MS / 1000,
        maxBlocksPerPoll: 100,
        startBlock: B0,
        blindAfterSeconds: 3600,
        explorer: 'https://explorer.invalid',
        hotWallets: [hotWallet(i)],
        native: { symbol: 'ETH', decimals: 18, usdPrice: 3000 },
        tokens: [{ symbol: 'USDT', contract: USDT, decimals: 6, usdPrice: 1 }],
      },
    ]),
  );
  return compileConfig(
    {
      name: 'scale-bench',
      chains,
      unknownAssets: { usdPerTransfer: 100 },
      limits: {
        warnRatio: 0.8,
        global: {
          usd: { '10m': HUGE, '1h': 2 * HUGE, '24h': 5 * HUGE },
          count: { '10m': 1e9, '1h': 2e9 },
          singleTxUsd: HUGE,
        },
        ...(args.patterns && { patterns: { newDestinations: { window: '1h', usd: HUGE, lookback: '14d' } } }),
        chains: Object.fromEntries(
          ids.map((id) => [
            id,
            {
              usd: { '10m': HUGE, '1h': 2 * HUGE },
              halt: 'chain' as const,
              assets: { ETH: { units: { '1h': '1000000000' } }, USDT: { units: { '1h': '1000000000000' } } },
            },
          ]),
        ),
      },
    },
    'scale-bench',
  );
}

/** One chain's scripted blocks: a pure function of (chain, number), so every read sees the same chain. */
class ScriptedChain implements ChainReader {
  readonly chain: string;
  t0 = Number.POSITIVE_INFINITY;
  private readonly memo = new Map<number, ChainTransfer[]>();
  constructor(
    private readonly index: number,
    readonly phaseMs: number,
    private readonly baseT: number,
    private readonly lambdaPerBlock: number,
  ) {
    this.chain = ids[index] as string;
  }
  minedAtMs(n: number): number {
    return this.t0 + this.phaseMs + (n - B0) * BLOCK_MS;
  }
  timeOf(n: number): number {
    return this.baseT + Math.round((n - B0) * (BLOCK_MS / 1000) * COMPRESS);
  }
  hash(n: number): string {
    return `0x${this.index.toString(16).padStart(8, '0')}${n.toString(16).padStart(56, '0')}`;
  }
  ref(n: number): BlockRef {
    return { number: n, hash: this.hash(n), parentHash: this.hash(n - 1), time: this.timeOf(n) };
  }
  transfersOf(n: number): ChainTransfer[] {
    const known = this.memo.get(n);
    if (known) return known;
    const rand = seededRandom(SEED * 1_000_003 + this.index * 7_919_113 + n);
    const list: ChainTransfer[] = [];
    let logIndex = 0;
    for (let j = poisson(rand, this.lambdaPerBlock); j > 0; j--) {
      const native = rand() < 0.7;
      list.push({
        chain: this.chain,
        block: n,
        blockHash: this.hash(n),
        blockTime: this.timeOf(n),
        txHash: `0x${this.index.toString(16).padStart(8, '0')}${n.toString(16).padStart(48, '0')}${j.toString(16).padStart(8, '0')}`,
        index: native ? null : logIndex++,
        contract: native ? null : USDT,
        from: hotWallet(this.index),
        to: stranger(Math.floor(rand() * 5000)),
        amount: native ? BigInt(Math.floor(rand() * 2e6)) * 10n ** 12n : BigInt(Math.floor(rand() * 50_000e6)),
      });
    }
    this.memo.set(n, list);
    return list;
  }
  headAt(nowMs: number): number {
    return B0 + Math.floor((nowMs - this.t0 - this.phaseMs) / BLOCK_MS);
  }
  async head(): Promise<number> {
    return this.headAt(Date.now());
  }
  async readRange(from: number, to: number): Promise<RangeRead> {
    const blocks: BlockRef[] = [];
    const transfers: ChainTransfer[] = [];
    for (let n = from; n <= to; n++) {
      blocks.push(this.ref(n));
      transfers.push(...this.transfersOf(n));
    }
    return { blocks, transfers };
  }
  async blockRefs(numbers: number[]): Promise<BlockRef[]> {
    return numbers.map((n) => this.ref(n));
  }
}

/** Counts breaker-state saves and their conflicts (the shared item the issue is about). */
class MeteredStore extends DynamoDbBreakerStore {
  stateSaves = 0;
  stateConflicts = 0;
  override async saveState(next: BreakerState, expected: number): Promise<void> {
    this.stateSaves++;
    try {
      await super.saveState(next, expected);
    } catch (e) {
      if (e instanceof StateConflictError) this.stateConflicts++;
      throw e;
    }
  }
}

/** Read units as the server reports them: every read asks for ReturnConsumedCapacity (a spy on the real client). */
function meterReadUnits(client: DynamoDBClient): { units: number } {
  const meter = { units: 0 };
  client.middlewareStack.add(
    (next, context) => async (a) => {
      const op = (context.commandName ?? '').replace(/Command$/, '');
      const reads = op === 'GetItem' || op === 'Query' || op === 'BatchGetItem';
      if (reads) (a.input as Record<string, unknown>).ReturnConsumedCapacity = 'TOTAL';
      const out = await next(a);
      if (reads) {
        const consumed = (out.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
        for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
          meter.units += (c as { CapacityUnits?: number }).CapacityUnits ?? 0;
        }
      }
      return out;
    },
    { step: 'initialize', name: 'scaleBenchReadUnits' },
  );
  return meter;
}

/** What the pollers' ledger caches did over the run, and how many records they held at its end. */
function ledgerCacheTotals(caches: readonly (LedgerCache | undefined)[]) {
  const total = { served: 0, partial: 0, full: 0, recordsHeldAtEnd: 0 };
  for (const c of caches) {
    if (!c) continue;
    total.served += c.stats.served;
    total.partial += c.stats.partial;
    total.full += c.stats.full;
    total.recordsHeldAtEnd += c.size;
  }
  return total;
}

function pct(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}

function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, 100 Hz ticks
}

function machineCpu(): { busy: number; total: number } {
  const v = (readFileSync('/proc/stat', 'utf8').split('\n')[0] as string).trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

interface PollSample {
  chain: string;
  kind: string;
  outflows: number;
  ms: number;
  requests: Record<string, number>;
  readUnits: number;
  stateConflicts: number;
  lagMs?: number;
}

async function main(): Promise<void> {
  const config = buildConfig();
  const server =
    STORE === 'dynalite'
      ? await startLocalDynamo({ tableName: TABLE, requireToken: false }).then((l) => ({
          endpoint: l.endpoint,
          pid: undefined as number | undefined,
          close: l.close,
        }))
      : await startDynamoDbLocal(process.env.DYNAMODB_LOCAL_JAR ?? '');
  const clients: DynamoDBClient[] = [];
  const client = () => {
    const c = localDynamoClient(server.endpoint);
    clients.push(c);
    return c;
  };
  try {
    const setup = client();
    await createTableIfMissing(setup, TABLE);
    await initialiseBreaker(
      {
        store: new DynamoDbBreakerStore({ client: setup, tableName: TABLE }),
        clock: systemClock,
        publisher: { publish: async () => {} },
      },
      { actor: 'scale-bench', reason: 'benchmark setup' },
    );
    const result = await measure(config, server.pid, client);
    const json = `${JSON.stringify(result, null, 2)}\n`;
    if (args.out) writeFileSync(args.out, json);
    else process.stdout.write(json);
  } finally {
    for (const c of clients) c.destroy();
    await server.close();
  }
}

async function measure(config: BreakerConfig, jvmPid: number | undefined, client: () => DynamoDBClient) {
  const chainSecondsPerBlock = (BLOCK_MS / 1000) * COMPRESS;
  const lambdaPerBlock = (PER_HOUR / K / 3600) * chainSecondsPerBlock;
  const rand = seededRandom(SEED);
  const baseT = Math.floor(Date.now() / 1000);
  const readers = ids.map((_, i) => new ScriptedChain(i, Math.floor(rand() * BLOCK_MS), baseT, lambdaPerBlock));
  const pollers = ids.map(() => {
    const c = client();
    return {
      store: new MeteredStore({ client: c, tableName: TABLE }),
      requests: countDynamoRequests(c),
      reads: meterReadUnits(c),
      ledgers: args['no-ledger-cache'] ? undefined : new LedgerCache(),
    };
  });
  const tStart = Date.now() + 500;
  for (const r of readers) r.t0 = tStart;
  const deadlineMs = tStart + SECONDS * 1000;
  const polls: PollSample[] = [];
  const errors: string[] = [];
  const recordedByChain = new Map<string, number>();
  while (Date.now() < tStart) await sleep(5);
  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  const cpu0 = process.cpuUsage();
  const machine0 = machineCpu();
  const jvm0 = jvmPid ? procCpuMs(jvmPid) : 0;
  const elu0 = performance.eventLoopUtilization();
  const wall0 = performance.now();

  await Promise.all(
    ids.map(async (id, i) => {
      const reader = readers[i] as ScriptedChain;
      const { store, requests, reads, ledgers } = pollers[i]!;
      let start = { at: performance.now(), ops: { ...requests.byOperation }, units: reads.units, conflicts: 0 };
      const mark = () => {
        start = {
          at: performance.now(),
          ops: { ...requests.byOperation },
          units: reads.units,
          conflicts: store.stateConflicts,
        };
      };
      await sleep(Math.floor(Math.random() * BLOCK_MS)); // pollers start apart, as separate Lambdas do
      mark();
      try {
        await runPoller(
          {
            config,
            chain: config.chains.get(id)!,
            reader,
            store,
            publisher: { publish: async () => {} },
            clock: systemClock,
            owner: `bench-${id}`,
            ledgers,
          },
          {
            deadlineMs,
            intervalMs: BLOCK_MS,
            sleep: async (ms) => {
              await sleep(ms);
              mark();
            },
            onResult: (r) => {
              const sent: Record<string, number> = {};
              for (const [op, n] of Object.entries(requests.byOperation)) {
                if (n - (start.ops[op] ?? 0) > 0) sent[op] = n - (start.ops[op] ?? 0);
              }
              const sample: PollSample = {
                chain: id,
                kind: r.kind,
                outflows: r.kind === 'advanced' ? r.outflows.length : 0,
                ms: performance.now() - start.at,
                requests: sent,
                readUnits: reads.units - start.units,
                stateConflicts: store.stateConflicts - start.conflicts,
              };
              if (r.kind === 'advanced') {
                sample.lagMs = Date.now() - reader.minedAtMs(r.to + CONFIRMATIONS);
                recordedByChain.set(id, (recordedByChain.get(id) ?? 0) + r.outflows.length);
              }
              polls.push(sample);
              mark(); // a poll that is behind starts the next one at once
            },
            onError: (e) => {
              errors.push(`${id}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`.slice(0, 300));
              mark();
            },
          },
        );
      } catch (e) {
        errors.push(`${id} run ended: ${e instanceof Error ? e.message : String(e)}`.slice(0, 300));
      }
    }),
  );
  const wallMs = performance.now() - wall0;
  const cpu = process.cpuUsage(cpu0);
  const machine1 = machineCpu();
  const jvmMs = jvmPid ? procCpuMs(jvmPid) - jvm0 : 0;
  const elu = performance.eventLoopUtilization(elu0);
  eld.disable();

  // Exactness, through an unmetered client.
  const verify = new DynamoDbBreakerStore({ client: client(), tableName: TABLE });
  let expected = 0;
  let missing = 0;
  let extra = 0;
  let duplicates = 0;
  let unevaluated = 0;
  let pendingBlocks = 0;
  let recorded = 0;
  for (const r of readers) {
    const last = (await verify.getCursor(r.chain))?.lastBlock ?? B0 - 1;
    pendingBlocks += Math.max(0, r.headAt(Date.now()) - CONFIRMATIONS - last);
    const want = new Map<string, number>();
    let lastWithOutflows = -1;
    for (let n = B0; n <= last; n++) {
      const ts = r.transfersOf(n);
      if (ts.length > 0) lastWithOutflows = n;
      for (const t of ts) want.set(`${t.chain}:${t.txHash}:${t.index ?? 'native'}`, 0);
    }
    expected += want.size;
    for (const rec of await verify.outflowsSince(r.chain, 0)) {
      const seen = want.get(rec.id);
      if (seen === undefined) extra++;
      else {
        if (seen > 0) duplicates++;
        want.set(rec.id, seen + 1);
      }
    }
    for (const v of want.values()) if (v === 0) missing++;
    if (((await verify.getProgress(r.chain))?.through ?? -1) < lastWithOutflows) unevaluated++;
    recorded += recordedByChain.get(r.chain) ?? 0;
  }
  const exact = missing === 0 && extra === 0 && duplicates === 0 && unevaluated === 0 && recorded === expected;

  const advanced = polls.filter((p) => p.kind === 'advanced' && p.outflows > 0);
  const perPoll = (ps: PollSample[]) => {
    const acc: Record<string, number> = {};
    for (const p of ps) for (const [op, n] of Object.entries(p.requests)) acc[op] = (acc[op] ?? 0) + n;
    return Object.fromEntries(Object.entries(acc).map(([op, n]) => [op, n / Math.max(1, ps.length)]));
  };
  const byOp = perPoll(advanced);
  const stateSaves = pollers.reduce((a, p) => a + p.store.stateSaves, 0);
  const stateConflicts = pollers.reduce((a, p) => a + p.store.stateConflicts, 0);
  return {
    k: K,
    store: STORE,
    patterns: args.patterns,
    ledgerCache: args['no-ledger-cache'] ? null : ledgerCacheTotals(pollers.map((p) => p.ledgers)),
    seconds: SECONDS,
    perHour: PER_HOUR,
    compress: COMPRESS,
    wallSeconds: wallMs / 1000,
    loadAverageAtStart: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
    polls: { total: polls.length, withOutflows: advanced.length, failed: errors.length },
    outflows: {
      expected,
      recorded,
      missing,
      extra,
      duplicates,
      chainsNotEvaluatedToTheirLastOutflow: unevaluated,
      exact,
    },
    pendingBlocksAtEnd: pendingBlocks,
    state: {
      saves: stateSaves,
      conflicts: stateConflicts,
      conflictShareOfSaves: stateSaves === 0 ? 0 : stateConflicts / stateSaves,
      conflictsPerPollWithOutflows: stateConflicts / Math.max(1, advanced.length),
    },
    requestsPerPollWithOutflows: Object.values(byOp).reduce((a, b) => a + b, 0),
    requestsPerPollWithOutflowsByOperation: byOp,
    readUnitsPerPollWithOutflows: advanced.reduce((a, p) => a + p.readUnits, 0) / Math.max(1, advanced.length),
    pollWithOutflowsMs: {
      p50: pct(
        advanced.map((p) => p.ms),
        50,
      ),
      p95: pct(
        advanced.map((p) => p.ms),
        95,
      ),
    },
    confirmedToEvaluatedMs: {
      p50: pct(
        advanced.map((p) => p.lagMs ?? 0),
        50,
      ),
      p95: pct(
        advanced.map((p) => p.lagMs ?? 0),
        95,
      ),
    },
    cpu: {
      nodeCores: (cpu.user + cpu.system) / 1000 / wallMs,
      jvmCores: jvmMs / wallMs,
      machineBusyShare: (machine1.busy - machine0.busy) / Math.max(1, machine1.total - machine0.total),
      mainThreadUtilisation: elu.utilization,
      eventLoopDelayP99Ms: Math.max(0, eld.percentile(99) / 1e6 - 10),
    },
    errors: errors.slice(0, 5),
  };
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`scale run failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
