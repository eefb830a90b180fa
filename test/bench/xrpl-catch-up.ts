/**
 * XRP Ledger catch-up benchmark (`npm run bench -- --only xrpl-catch-up [--blocks 2000]`): generates
 * ledgers of traffic on the XRPL stand-in (test/support/xrpl: xrpl.js-signed transactions, real
 * hashes), then reads them back with the XRPL reader in each read mode, and with the full poll use case
 * on dynalite, measuring ledgers per second, JSON-RPC calls and HTTP requests per ledger. Exactness: what
 * was read must be, per transaction, hot wallet and asset, what xrpl.js's getBalanceChanges says each
 * hot wallet lost (the ground truth, independent of our metadata reader). A wrong answer fails the run.
 */
import type { Wallet } from 'xrpl';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { XrplChainReader } from '../../functions/adapters/xrpl/xrpl-chain-reader.ts';
import type { ChainConfig } from '../../functions/core/config/types.ts';
import type { ChainTransfer } from '../../functions/core/model.ts';
import { pollOnce } from '../../functions/core/use-cases/poll-chain.ts';
import { oracleLosses, transferLosses } from '../adapters/xrpl/helpers.ts';
import { startTestStore } from '../support/dynamo.ts';
import { initialiseForTest } from '../support/initialise.ts';
import { RIPPLE_EPOCH_OFFSET, XrplLedgerEngine } from '../support/xrpl/ledger-engine.ts';
import { XrplLedgerServer } from '../support/xrpl/ledger-server.ts';
import { writeBenchPart } from './bench-part.ts';

export interface XrplTraffic {
  engine: XrplLedgerEngine;
  first: number;
  last: number;
  hot: string[];
  cold: string;
  issuer: string;
  transactions: number;
  /** Per (tx, hot wallet, asset): what the hot wallet lost, from getBalanceChanges. */
  expected: Map<string, bigint>;
  seconds: number;
}

const USD_DECIMALS = 6;

/** A deterministic pseudo-random sequence (the same traffic on every run). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * `ledgers` ledgers; in each, 0–6 transactions: XRP payments from the 3 hot wallets (some to the cold
 * wallet, some failing with tec), IOU payments (some partial, some with a 0.2% transfer fee), payments
 * into the hot wallets and traffic between other accounts.
 */
export function generateXrplTraffic(ledgers: number): XrplTraffic {
  const started = performance.now();
  const engine = new XrplLedgerEngine(Math.floor(Date.now() / 1000) - RIPPLE_EPOCH_OFFSET - ledgers * 4 - 60);
  const rand = random(16);
  const hot = [0, 1, 2].map(() => engine.fund(10n ** 15n));
  const cold = engine.fund(50_000_000n);
  const issuer = engine.fund(50_000_000n);
  const others = Array.from({ length: 8 }, () => engine.fund(10n ** 12n));
  for (const holder of [...hot, cold, ...others]) engine.trustSet(holder, 'USD', issuer.classicAddress);
  engine.close();
  for (const h of hot) engine.payIou(issuer, h.classicAddress, 'USD', issuer.classicAddress, '100000000');
  engine.close();
  const first = engine.validatedIndex + 1;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  let transactions = 0;
  for (let i = 0; i < ledgers; i++) {
    const count = Math.floor(rand() * 7);
    for (let k = 0; k < count; k++) {
      const r = rand();
      const from: Wallet = pick(hot);
      const to = rand() < 0.15 ? cold.classicAddress : pick(others).classicAddress;
      if (r < 0.35) engine.payXrp(from, to, BigInt(1 + Math.floor(rand() * 5_000_000_000)));
      else if (r < 0.4) engine.payXrp(from, to, 1_000n, { result: 'tecNO_DST_INSUF_XRP' });
      else if (r < 0.55) {
        const value = `${Math.floor(rand() * 10_000)}.${String(Math.floor(rand() * 1e6)).padStart(6, '0')}`;
        engine.payIou(from, to, 'USD', issuer.classicAddress, value, rand() < 0.3 ? { transferRate: 1.002 } : {});
      } else if (r < 0.6) {
        engine.payIou(from, to, 'USD', issuer.classicAddress, '1000000', {
          deliver: `${1 + Math.floor(rand() * 999)}.5`,
        });
      } else if (r < 0.75) engine.payXrp(pick(others), from.classicAddress, 1_000_000n);
      else engine.payXrp(pick(others), pick(others).classicAddress, 2_000_000n);
      transactions++;
    }
    engine.close();
  }
  const last = engine.validatedIndex;
  const hotSet = new Set(hot.map((h) => h.classicAddress));
  const expected = oracleLosses(
    engine.ledgers.filter((l) => l.ledger_index >= first),
    hotSet,
    () => USD_DECIMALS,
  );
  return {
    engine,
    first,
    last,
    hot: [...hotSet],
    cold: cold.classicAddress,
    issuer: issuer.classicAddress,
    transactions,
    expected,
    seconds: (performance.now() - started) / 1000,
  };
}

function chainOf(traffic: XrplTraffic, url: string, settings: Record<string, unknown>): ChainConfig {
  const config = compileConfig(
    {
      name: 'xrpl-bench',
      chains: {
        xrpl: {
          kind: 'xrpl',
          rpc: [url],
          confirmations: 0,
          blockTimeSeconds: 4,
          maxBlocksPerPoll: 100,
          startBlock: traffic.first,
          hotWallets: traffic.hot,
          ownAddresses: [traffic.cold],
          native: { symbol: 'XRP', decimals: 6, usdPrice: 2 },
          tokens: [{ symbol: 'USD', contract: `USD.${traffic.issuer}`, decimals: USD_DECIMALS, usdPrice: 1 }],
          ...settings,
        },
      },
      limits: { global: { usd: { '1h': 10 ** 12 } } },
    },
    'xrpl-bench',
  );
  return config.chains.get('xrpl') as ChainConfig;
}

export interface XrplCatchUpRun {
  mode: string;
  ledgers: number;
  seconds: number;
  ledgersPerSecond: number;
  rpcCallsPerLedger: number;
  httpRequestsPerLedger: number;
  transfers: number;
  exact: boolean;
}

function checkExact(mode: string, transfers: readonly ChainTransfer[], traffic: XrplTraffic): void {
  const got = transferLosses(transfers);
  const problems: string[] = [];
  for (const [key, amount] of traffic.expected)
    if (got.get(key) !== amount) problems.push(`${key}: expected ${amount}, read ${got.get(key)}`);
  for (const key of got.keys()) if (!traffic.expected.has(key)) problems.push(`${key}: read, not expected`);
  if (problems.length > 0) throw new Error(`xrpl ${mode}: not exact:\n  ${problems.slice(0, 10).join('\n  ')}`);
}

/** The reader alone, 100 ledgers per read. */
async function readerRun(
  traffic: XrplTraffic,
  url: string,
  mode: string,
  settings: Record<string, unknown>,
): Promise<XrplCatchUpRun> {
  const reader = new XrplChainReader(chainOf(traffic, url, settings));
  const transfers: ChainTransfer[] = [];
  const started = performance.now();
  for (let from = traffic.first; from <= traffic.last; from += 100) {
    transfers.push(...(await reader.readRange(from, Math.min(traffic.last, from + 99))).transfers);
  }
  const seconds = (performance.now() - started) / 1000;
  checkExact(mode, transfers, traffic);
  const ledgers = traffic.last - traffic.first + 1;
  const c = reader.counters();
  return {
    mode,
    ledgers,
    seconds,
    ledgersPerSecond: ledgers / seconds,
    rpcCallsPerLedger: c.rpcCalls / ledgers,
    httpRequestsPerLedger: c.httpRequests / ledgers,
    transfers: transfers.length,
    exact: true,
  };
}

/** The poll use case from the first ledger to the last, on dynalite: what a deployed poller does. */
async function breakerRun(traffic: XrplTraffic, url: string): Promise<XrplCatchUpRun> {
  const chain = chainOf(traffic, url, {});
  const config = compileConfig(
    {
      name: 'xrpl-bench',
      chains: { xrpl: { ...chain.raw, kind: 'xrpl' } },
      limits: { global: { usd: { '1h': 10 ** 12 } } },
    },
    'xrpl-bench',
  );
  const compiled = config.chains.get('xrpl') as ChainConfig;
  const reader = new XrplChainReader(compiled);
  const db = await startTestStore();
  try {
    await initialiseForTest(db.store);
    const started = performance.now();
    for (let polls = 0; polls < 10_000; polls++) {
      const { result } = await pollOnce({
        config,
        chain: compiled,
        reader,
        store: db.store,
        publisher: { publish: async () => {} },
        clock: { now: () => Date.now() },
        owner: 'bench',
        leaseMs: 60_000,
      });
      if (result.kind === 'idle') break;
    }
    const seconds = (performance.now() - started) / 1000;
    const recorded = await db.store.outflowsSince('xrpl', 0);
    checkExact('breaker', recorded, traffic);
    const ledgers = traffic.last - traffic.first + 1;
    const c = reader.counters();
    return {
      mode: 'breaker: poll use case + dynalite, ledger mode, 100 ledgers per poll',
      ledgers,
      seconds,
      ledgersPerSecond: ledgers / seconds,
      rpcCallsPerLedger: c.rpcCalls / ledgers,
      httpRequestsPerLedger: c.httpRequests / ledgers,
      transfers: recorded.length,
      exact: true,
    };
  } finally {
    await db.close();
  }
}

export interface XrplBenchResults {
  measuredAt: string;
  traffic: { ledgers: number; transactions: number; hotWalletLosses: number; generationSeconds: number };
  runs: XrplCatchUpRun[];
}

export async function measureXrplCatchUp(ledgers: number, log: (m: string) => void): Promise<XrplBenchResults> {
  log(`xrpl: generating ${ledgers} ledgers of traffic on the stand-in (xrpl.js signing and hashing)`);
  const traffic = generateXrplTraffic(ledgers);
  log(
    `  ${traffic.transactions} transactions, ${traffic.expected.size} hot-wallet losses to find, in ${traffic.seconds.toFixed(1)} s`,
  );
  const server = new XrplLedgerServer(traffic.engine);
  const url = await server.start();
  try {
    const runs: XrplCatchUpRun[] = [];
    for (const [mode, settings] of [
      ['reader, ledger mode, one ledger per request', {}],
      ['reader, ledger mode, rippled batch of 20', { batchSize: 20 }],
      ['reader, account_tx mode (3 hot wallets), one header per request', { readMode: 'account_tx' }],
      ['reader, account_tx mode, headers in batches of 100', { readMode: 'account_tx', batchSize: 100 }],
    ] as const) {
      const run = await readerRun(traffic, url, mode, settings);
      log(
        `  ${mode}: ${run.ledgersPerSecond.toFixed(0)} ledgers/s, ${run.rpcCallsPerLedger.toFixed(2)} calls and ${run.httpRequestsPerLedger.toFixed(2)} HTTP requests per ledger, exact`,
      );
      runs.push(run);
    }
    const breaker = await breakerRun(traffic, url);
    log(`  ${breaker.mode}: ${breaker.ledgersPerSecond.toFixed(0)} ledgers/s, exact`);
    runs.push(breaker);
    return {
      measuredAt: new Date().toISOString(),
      traffic: {
        ledgers: traffic.last - traffic.first + 1,
        transactions: traffic.transactions,
        hotWalletLosses: traffic.expected.size,
        generationSeconds: traffic.seconds,
      },
      runs,
    };
  } finally {
    await server.stop();
  }
}

export function renderXrplSection(r: XrplBenchResults): string {
  const rows = r.runs.map(
    (x) =>
      `| ${x.mode} | ${x.ledgersPerSecond.toFixed(0)} | ${x.rpcCallsPerLedger.toFixed(2)} | ${x.httpRequestsPerLedger.toFixed(2)} | ${x.transfers} | yes |`,
  );
  return [
    '## XRP Ledger',
    '',
    `Measured ${r.measuredAt} by \`npm run bench -- --only xrpl-catch-up\` (test/bench/xrpl-catch-up.ts) on the XRPL`,
    `stand-in over loopback: ${r.traffic.ledgers} ledgers, ${r.traffic.transactions} transactions (XRP and USD payments from 3 hot`,
    'wallets incl. tec failures, partial payments and transfer fees, inflows, unrelated traffic), generated in',
    `${r.traffic.generationSeconds.toFixed(0)} s. Exact = every one of the ${r.traffic.hotWalletLosses} (transaction, hot wallet, asset) losses equals what`,
    "xrpl.js's getBalanceChanges computes from the same metadata; nothing extra. The stand-in answers from memory:",
    'ledgers/s measure the reader, not a rippled server (each ledger here holds 0–6 transactions).',
    '',
    '| run | ledgers/s | JSON-RPC calls / ledger | HTTP requests / ledger | transfers | exact |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

/** `--only xrpl-catch-up`: measure and write the part into BENCHMARKS.md (its own marked section) and BENCHMARKS.json. */
export async function xrplCatchUpPart(out: string, ledgers: number, log: (m: string) => void): Promise<void> {
  const results = await measureXrplCatchUp(ledgers, log);
  writeBenchPart(out, 'xrpl-catch-up', renderXrplSection(results), { xrplCatchUp: results });
  log('wrote the XRP Ledger part into BENCHMARKS.md and BENCHMARKS.json');
}
