/**
 * Solana catch-up: ≥ 2,000 slots of generated traffic on the LiteSVM stand-in
 * (test/support/solana/solana-node.ts), read back by the Solana reader alone and by the breaker
 * (pollOnce + dynalite), with ground truth kept by the generator. Measures slots/s and JSON-RPC
 * calls and HTTP requests per slot; stops loudly unless what was found is exactly what was sent.
 * Also a steady-state run (a poll of 25 slots ≈ 10 s of mainnet at a time, head read included), from
 * which the monthly call count in docs/SOLANA.md follows.
 *
 *   npm run bench -- --only solana [--blocks 2000]
 */
import type { Address, Instruction, KeyPairSigner } from '@solana/kit';
import { getTransferSolInstruction } from '@solana-program/system';
import { getApproveInstruction, getTransferCheckedInstruction } from '@solana-program/token';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { SolanaChainReader } from '../../functions/adapters/solana/solana-chain-reader.ts';
import { TOKEN_2022_PROGRAM } from '../../functions/adapters/solana/solana-outflows.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import { outflowId } from '../../functions/core/model.ts';
import { pollOnce } from '../../functions/core/use-cases/poll-chain.ts';
import { RecordingPublisher } from '../integration/harness.ts';
import { startTestStore } from '../support/dynamo.ts';
import { initialiseForTest } from '../support/initialise.ts';
import { SolanaNode } from '../support/solana/solana-node.ts';
import { ata, createAtaInstruction, createMint, fund, type TestMint } from '../support/solana/tokens.ts';
import { writeBenchPart } from './bench-part.ts';
import { assertExact, compareOutflows, type Exactness } from './exactness.ts';
import { loadAverage } from './machine.ts';
import type { ExpectedOutflow } from './traffic.ts';

const CHAIN = 'sol';
const HOT_WALLETS = 3;
const PAYEES = 40;
/** Slots per read or poll while catching up (the config's maxBlocksPerPoll). */
const CATCH_UP_SLOTS = 100;
/** Slots per poll at steady state: a 10 s poll interval on mainnet (0.4 s slots). */
const STEADY_SLOTS = 25;
const SLOTS_PER_MONTH = (30 * 86_400) / 0.4;

export interface SolanaTraffic {
  node: SolanaNode;
  url: string;
  firstSlot: number;
  lastSlot: number;
  hotWallets: string[];
  tokenAccounts: string[];
  usdc: TestMint;
  expected: ExpectedOutflow[];
  stats: {
    slots: number;
    skipped: number;
    transactions: number;
    failed: number;
    noise: number;
    delegated: number;
    outflows: number;
  };
  seconds: number;
}

export interface SolanaRun {
  slots: number;
  blocks: number;
  seconds: number;
  slotsPerSecond: number;
  rpcCalls: number;
  httpRequests: number;
  callsPerSlot: number;
  requestsPerSlot: number;
  exactness: Exactness;
}

export interface SolanaResults {
  traffic: SolanaTraffic['stats'] & { generationSeconds: number };
  reader: SolanaRun;
  breaker: SolanaRun;
  steady: SolanaRun & { callsPerPoll: number; requestsPerPoll: number; callsPerMonth: number };
  /** 1-minute load average when the runs ended: slots/s on a shared machine move with it. */
  loadAverageAtEnd: number;
}

/** A deterministic pseudo-random sequence, so two runs generate the same traffic shape. */
function sequence(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Generate traffic: per slot, one in ten skipped; otherwise up to three transactions, mixing SOL,
 * SPL Token and Token-2022 payouts from the hot wallets (some with two payouts in one transaction),
 * sweeps to an own wallet, failed sends (fee only), delegate debits of a hot token account, and
 * payments by strangers (noise). Payee token accounts exist beforehand, so every outflow is one
 * transfer instruction of the generator's and the ground truth needs no reader logic.
 */
export async function generateSolanaTraffic(
  slots: number,
  onProgress?: (done: number) => void,
): Promise<SolanaTraffic> {
  const started = performance.now();
  const node = new SolanaNode();
  const view = await node.serve();
  const random = sequence(20_261_205);
  const hot: KeyPairSigner[] = [];
  for (let i = 0; i < HOT_WALLETS; i++) hot.push(await node.wallet(10_000n));
  const cold = await node.wallet(1n);
  const stranger = await node.wallet(1_000n);
  const spender = await node.wallet(1_000n);
  const usdc = await createMint(node, 6);
  const pyusd = await createMint(node, 6, TOKEN_2022_PROGRAM);
  const payees: Address[] = [];
  for (let i = 0; i < PAYEES; i++) payees.push((await node.wallet(1n)).address);
  for (const mint of [usdc, pyusd]) {
    for (const h of [...hot, stranger]) await fund(node, mint, h.address, 10n ** 15n);
    for (const owner of [...payees, cold.address]) {
      await node.send(mint.authority, [await createAtaInstruction(mint, mint.authority, owner)]);
    }
  }
  const delegated = await ata(usdc, hot[0]!.address);
  await node.send(hot[0]!, [
    getApproveInstruction({ source: delegated, delegate: spender.address, owner: hot[0]!, amount: 10n ** 15n }),
  ]);
  node.endSlot();

  const firstSlot = node.finalizedSlot() + 1;
  const expected: ExpectedOutflow[] = [];
  const stats = { slots, skipped: 0, transactions: 0, failed: 0, noise: 0, delegated: 0, outflows: 0 };
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;

  type Leg = { instruction: Instruction; contract: string | null; from: string; to: string; amount: bigint };
  const solLeg = (from: KeyPairSigner, to: Address, amount: bigint): Leg => ({
    instruction: getTransferSolInstruction({ source: from, destination: to, amount }),
    contract: null,
    from: from.address,
    to,
    amount,
  });
  const tokenLeg = async (
    mint: TestMint,
    from: KeyPairSigner,
    to: Address,
    amount: bigint,
    authority = from,
  ): Promise<Leg> => ({
    instruction: getTransferCheckedInstruction(
      {
        source: await ata(mint, from.address),
        mint: mint.address,
        destination: await ata(mint, to),
        authority,
        amount,
        decimals: 6,
      },
      { programAddress: mint.program },
    ),
    contract: mint.address,
    from: from.address,
    to,
    amount,
  });

  for (let s = 0; s < slots; s++) {
    if (random() < 0.1) {
      node.skipSlots(1);
      stats.skipped++;
      continue;
    }
    const txs = Math.floor(random() * 4);
    for (let t = 0; t < txs; t++) {
      const roll = random();
      const wallet = pick(hot);
      const amount = BigInt(1 + Math.floor(random() * 1_000_000_000));
      let payer = wallet;
      let legs: Leg[];
      if (roll < 0.3) legs = [solLeg(wallet, pick(payees), amount)];
      else if (roll < 0.55) legs = [await tokenLeg(pick([usdc, pyusd]), wallet, pick(payees), amount)];
      else if (roll < 0.65)
        legs = [solLeg(wallet, pick(payees), amount), await tokenLeg(usdc, wallet, pick(payees), amount)];
      else if (roll < 0.72) legs = [solLeg(wallet, cold.address, amount)];
      else if (roll < 0.8) {
        payer = spender;
        legs = [await tokenLeg(usdc, hot[0]!, pick(payees), amount, spender)];
        stats.delegated++;
      } else if (roll < 0.88) {
        const sent = await node.send(wallet, [
          getTransferSolInstruction({ source: wallet, destination: pick(payees), amount: 10n ** 18n }),
        ]);
        if (sent.ok) throw new Error('bench: an overdraft succeeded');
        stats.transactions++;
        stats.failed++;
        continue;
      } else {
        payer = stranger;
        legs = [solLeg(stranger, pick(payees), amount), await tokenLeg(usdc, stranger, wallet.address, amount)];
        stats.noise++;
      }
      const sent = await node.send(
        payer,
        legs.map((l) => l.instruction),
      );
      if (!sent.ok) throw new Error(`bench: transaction ${sent.signature} failed`);
      stats.transactions++;
      legs.forEach((leg, position) => {
        if (!hot.some((h) => h.address === leg.from)) return;
        const index = 1000 * position;
        expected.push({
          id: outflowId(CHAIN, sent.signature, index),
          block: node.finalizedSlot() + 1,
          txHash: sent.signature,
          index,
          contract: leg.contract,
          from: leg.from,
          to: leg.to,
          amount: leg.amount,
        });
      });
    }
    node.endSlot();
    if (onProgress && (s + 1) % 500 === 0) onProgress(s + 1);
  }
  stats.outflows = expected.length;
  return {
    node,
    url: view.url,
    firstSlot,
    lastSlot: node.finalizedSlot(),
    hotWallets: hot.map((h) => h.address),
    tokenAccounts: [delegated],
    usdc,
    expected,
    stats,
    seconds: (performance.now() - started) / 1000,
  };
}

function benchConfig(traffic: SolanaTraffic, maxBlocksPerPoll: number): BreakerConfig {
  return compileConfig(
    {
      name: 'solana-bench',
      chains: {
        [CHAIN]: {
          kind: 'solana',
          rpc: [traffic.url],
          genesisHash: traffic.node.genesisHash,
          tokenAccounts: traffic.tokenAccounts,
          confirmations: 0,
          blockTimeSeconds: 0.4,
          maxBlocksPerPoll,
          startBlock: traffic.firstSlot,
          hotWallets: traffic.hotWallets,
          native: { symbol: 'SOL', decimals: 9, usdPrice: 200 },
          tokens: [{ symbol: 'USDC', contract: traffic.usdc.address, decimals: 6, usdPrice: 1 }],
        },
      },
      limits: { global: { usd: { '10m': 1e15 } } },
    },
    'solana bench',
  );
}

function run(
  traffic: SolanaTraffic,
  seconds: number,
  reader: SolanaChainReader,
  exactness: Exactness,
  blocks: number,
): SolanaRun {
  const slots = traffic.lastSlot - traffic.firstSlot + 1;
  const { rpcCalls, httpRequests } = reader.counters();
  return {
    slots,
    blocks,
    seconds,
    slotsPerSecond: slots / seconds,
    rpcCalls,
    httpRequests,
    callsPerSlot: rpcCalls / slots,
    requestsPerSlot: httpRequests / slots,
    exactness,
  };
}

/** The reader alone, in ranges of `step` slots; with `headEachRange`, a head read per range as a poll does. */
async function readAll(
  traffic: SolanaTraffic,
  step: number,
  headEachRange: boolean,
): Promise<{ run: SolanaRun; ranges: number }> {
  const reader = new SolanaChainReader(benchConfig(traffic, step).chains.get(CHAIN)!);
  const found = [];
  let blocks = 0;
  let ranges = 0;
  const started = performance.now();
  for (let from = traffic.firstSlot; from <= traffic.lastSlot; from += step) {
    if (headEachRange) await reader.head();
    const read = await reader.readRange(from, Math.min(traffic.lastSlot, from + step - 1));
    blocks += read.blocks.length;
    ranges++;
    found.push(...read.transfers.map((t) => ({ ...t, id: outflowId(CHAIN, t.txHash, t.index) })));
  }
  const seconds = (performance.now() - started) / 1000;
  const exactness = compareOutflows(found, traffic.expected);
  assertExact(`solana reader (${step} slots per read)`, exactness);
  return { run: run(traffic, seconds, reader, exactness, blocks), ranges };
}

async function breakerCatchUp(traffic: SolanaTraffic): Promise<SolanaRun> {
  const config = benchConfig(traffic, CATCH_UP_SLOTS);
  const chain = config.chains.get(CHAIN)!;
  const reader = new SolanaChainReader(chain);
  const db = await startTestStore();
  try {
    await initialiseForTest(db.store);
    const deps = {
      config,
      chain,
      reader,
      store: db.store,
      publisher: new RecordingPublisher(),
      clock: { now: () => Date.now() },
      owner: 'bench',
      leaseMs: 60_000,
    };
    const started = performance.now();
    let cached: Awaited<ReturnType<typeof pollOnce>>['cursor'];
    for (let polls = 0; polls < 10_000; polls++) {
      const r = await pollOnce(deps, cached);
      cached = r.cursor;
      if (r.result.kind === 'idle') break;
      if (r.result.kind !== 'advanced') throw new Error(`solana bench: poll ${polls} was ${r.result.kind}`);
    }
    const seconds = (performance.now() - started) / 1000;
    const records = await db.store.outflowsSince(CHAIN, 0);
    const exactness = compareOutflows(records, traffic.expected);
    assertExact('solana breaker catch-up', exactness);
    return run(traffic, seconds, reader, exactness, 0);
  } finally {
    await db.close();
  }
}

export async function measureSolana(slots: number, log: (message: string) => void): Promise<SolanaResults> {
  log(`solana: generating ${slots} slots of traffic on the LiteSVM stand-in`);
  const traffic = await generateSolanaTraffic(slots, (done) => log(`  ${done}/${slots} slots`));
  try {
    const s = traffic.stats;
    log(
      `  ${s.slots} slots (${s.skipped} skipped), ${s.transactions} transactions (${s.failed} failed, ${s.noise} strangers', ` +
        `${s.delegated} by a delegate), ${s.outflows} outflows to find, in ${traffic.seconds.toFixed(1)} s`,
    );
    const { run: reader } = await readAll(traffic, CATCH_UP_SLOTS, false);
    log(
      `  reader alone, ${CATCH_UP_SLOTS} slots per read: ${reader.slotsPerSecond.toFixed(0)} slots/s, ${reader.callsPerSlot.toFixed(2)} calls/slot, exact`,
    );
    const breaker = await breakerCatchUp(traffic);
    log(
      `  breaker (pollOnce + dynalite): ${breaker.slotsPerSecond.toFixed(0)} slots/s, ${breaker.callsPerSlot.toFixed(2)} calls/slot, exact`,
    );
    const { run: steadyRun, ranges } = await readAll(traffic, STEADY_SLOTS, true);
    const steady = {
      ...steadyRun,
      callsPerPoll: steadyRun.rpcCalls / ranges,
      requestsPerPoll: steadyRun.httpRequests / ranges,
      callsPerMonth: Math.round(steadyRun.callsPerSlot * SLOTS_PER_MONTH),
    };
    log(
      `  steady state, ${STEADY_SLOTS} slots per poll: ${steady.callsPerPoll.toFixed(1)} calls and ${steady.requestsPerPoll.toFixed(2)} HTTP requests per poll`,
    );
    return {
      traffic: { ...s, generationSeconds: traffic.seconds },
      reader,
      breaker,
      steady,
      loadAverageAtEnd: loadAverage(),
    };
  } finally {
    await traffic.node.close();
  }
}

export function renderSolana(r: SolanaResults, measuredAt: string): string {
  const t = r.traffic;
  const row = (name: string, x: SolanaRun) =>
    `| ${name} | ${x.slotsPerSecond.toFixed(0)} | ${x.callsPerSlot.toFixed(2)} | ${x.requestsPerSlot.toFixed(3)} | ${x.exactness.found} of ${x.exactness.sent}, exact |`;
  return [
    '## Solana',
    '',
    `Measured ${measuredAt} by \`npm run bench -- --only solana\` (test/bench/solana-catch-up.ts) on the LiteSVM stand-in over loopback (load average ${r.loadAverageAtEnd} at the end, on a machine other work shares: slots/s vary with it; call counts do not).`,
    `Traffic: ${t.slots} slots (${t.skipped} skipped), ${t.transactions} transactions (${t.failed} failed, ${t.noise} by strangers, ${t.delegated} by a delegate of a listed token account), ${t.outflows} outflows from ${HOT_WALLETS} hot wallets in SOL, SPL Token and Token-2022; generated in ${t.generationSeconds.toFixed(1)} s.`,
    '',
    '| run | slots/s | JSON-RPC calls per slot | HTTP requests per slot | outflows found |',
    '| --- | ---: | ---: | ---: | --- |',
    row(`reader alone, ${CATCH_UP_SLOTS} slots per read`, r.reader),
    row(`breaker (pollOnce + dynalite), ${CATCH_UP_SLOTS} slots per poll`, r.breaker),
    row(`steady state: head + ${STEADY_SLOTS} slots per poll`, r.steady),
    '',
    `Steady state: ${r.steady.callsPerPoll.toFixed(1)} JSON-RPC calls in ${r.steady.requestsPerPoll.toFixed(2)} HTTP requests per poll of ${STEADY_SLOTS} slots (a 10 s poll interval), ` +
      `${r.steady.callsPerSlot.toFixed(2)} calls per slot: about ${(r.steady.callsPerMonth / 1e6).toFixed(1)} million calls a month (${SLOTS_PER_MONTH.toLocaleString('en-US')} slots). ` +
      "Calls per slot grow with the hot wallets' own transactions (one getTransaction each); see docs/SOLANA.md.",
    '',
  ].join('\n');
}

/** `--only solana`: measure, and write the Solana part of BENCHMARKS.md and BENCHMARKS.json. */
export async function writeSolanaPart(
  out: string,
  slots: number,
  measuredAt: string,
  log: (message: string) => void,
): Promise<void> {
  const results = await measureSolana(slots, log);
  const strip = ({ exactness, ...rest }: SolanaRun) => ({ ...rest, exact: exactness.exact, outflows: exactness.found });
  writeBenchPart(out, 'solana', renderSolana(results, measuredAt), {
    solana: {
      loadAverageAtEnd: results.loadAverageAtEnd,
      measuredAt,
      traffic: results.traffic,
      reader: strip(results.reader),
      breaker: strip(results.breaker),
      steady: strip(results.steady),
    },
  });
}
