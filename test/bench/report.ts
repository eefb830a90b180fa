/**
 * BENCHMARKS.md (for people: every target beside its measured value, PASS or MISS, and where the time
 * goes) and BENCHMARKS.json (for scripts: the fields infra/cost/estimate.ts reads, plus the details).
 */
import type { BreakerRun, ReaderRun } from './catch-up.ts';
import type { DetectionRun } from './detection.ts';
import type { DynamoRequestsRun, RequestCount } from './dynamo-requests.ts';
import type { Exactness } from './exactness.ts';
import type { Machine } from './machine.ts';
import { round } from './timing.ts';
import type { TrafficStats } from './traffic.ts';

export interface NaiveRun {
  blocks: number;
  from: number;
  to: number;
  seconds: number;
  blocksPerSecond: number;
  rpcCallsPerBlock: number;
  httpRequestsPerBlock: number;
  exactness: Exactness;
}

export interface CatchUpResults {
  traffic: TrafficStats & { totalBlocks: number; generationSeconds: number };
  proxyDelayMs: number;
  /** Median of repeated runs; `runs` holds every run's blocks/s. */
  readerLoopback: ReaderRun & { runs: number[] };
  breakerLoopback: BreakerRun & { runs: number[] };
  breakerLoopback200: BreakerRun;
  breakerInProcess: BreakerRun;
  /** The same catch-ups with `nativeSource: traces` (medians, like the two above). */
  readerLoopbackTraces: ReaderRun & { runs: number[] };
  breakerLoopbackTraces: BreakerRun & { runs: number[] };
  naiveLoopback: NaiveRun;
  readerProxy: ReaderRun;
  breakerProxy: BreakerRun;
  naiveProxy: NaiveRun;
}

export interface BenchResults {
  machine: Machine;
  settings: { blocks: number; trials: number; detectionSideBySide: boolean; repeats: number; loadAverageAtEnd: number };
  catchUp: CatchUpResults;
  detection: DetectionRun[];
  requests: DynamoRequestsRun;
  replay:
    | { measured: true; events: number; seconds: number; eventsPerSecond: number }
    | { measured: false; reason: string };
  leaseRecovery: LeaseRecoveryResults;
  pollsPerMinute: Record<string, number>;
  durationSeconds: number;
}

export interface LeaseRecoveryResults {
  leaseMs: number;
  /** One per trial: SIGKILL mid-batch → the range committed by the next poller. */
  recoveryMs: number[];
}

export const TARGETS = {
  /** p95 ≤ 2 block times + 1 s. */
  detectionP95Ms: (blockTimeSeconds: number) => 2 * blockTimeSeconds * 1000 + 1000,
  rpcCallsPerBlock: 2,
  httpRequestsPerBlock: 0.05,
  catchUpBlocksPerSecond: 400,
  speedupOverNaive: 5,
};

interface Derived {
  primary: DetectionRun;
  speedupLoopback: number;
  speedupProxy: number;
  checks: { name: string; target: string; measured: string; pass: boolean }[];
}

function derive(r: BenchResults): Derived {
  const c = r.catchUp;
  const primary =
    r.detection.find((d) => d.confirmations === 1 && d.pollIntervalSeconds === d.blockTimeSeconds) ?? r.detection[0]!;
  const speedupLoopback = c.breakerLoopback.blocksPerSecond / c.naiveLoopback.blocksPerSecond;
  const speedupProxy = c.breakerProxy.blocksPerSecond / c.naiveProxy.blocksPerSecond;
  const p95Target = TARGETS.detectionP95Ms(primary.blockTimeSeconds);
  const exact = [
    c.breakerLoopback,
    c.breakerLoopback200,
    c.breakerInProcess,
    c.breakerProxy,
    c.readerLoopback,
    c.readerProxy,
    c.breakerLoopbackTraces,
    c.readerLoopbackTraces,
  ]
    .map((x) => x.exactness)
    .concat([c.naiveLoopback.exactness, c.naiveProxy.exactness])
    .every((e) => e.exact);
  const checks = [
    {
      name: `Detection latency p95 (confirmations 1, poll every ${primary.pollIntervalSeconds} s, block time ${primary.blockTimeSeconds} s)`,
      target: `≤ ${p95Target} ms (2 block times + 1 s)`,
      measured: `${ms(primary.p95Ms)} ms`,
      pass: primary.p95Ms <= p95Target,
    },
    {
      name: 'Catch-up exact (reverted sends not counted, third-party transferFrom counted, nothing missed or doubled)',
      target: 'found = sent',
      measured: `${c.breakerLoopback.outflowsRecorded} found / ${c.breakerLoopback.exactness.sent} sent`,
      pass: exact,
    },
    {
      // Blocks mode cannot pass with a native hot send in every block (its floor is 2 + 1 / blocks per
      // poll); traces mode can, on endpoints that serve trace_filter. Both are shown, the verdict is per mode.
      name: 'JSON-RPC calls per block (catch-up), nativeSource blocks (default) · traces',
      target: `≤ ${TARGETS.rpcCallsPerBlock}`,
      measured:
        `blocks ${fix(c.breakerLoopback.rpcCallsPerBlock, 3)} (${verdict(c.breakerLoopback.rpcCallsPerBlock <= TARGETS.rpcCallsPerBlock)}: ` +
        `floor 2 + 1/range with a native send in every block) · traces ${fix(c.breakerLoopbackTraces.rpcCallsPerBlock, 3)}`,
      pass: c.breakerLoopbackTraces.rpcCallsPerBlock <= TARGETS.rpcCallsPerBlock,
    },
    {
      name: 'HTTP requests per block (catch-up)',
      target: `≤ ${TARGETS.httpRequestsPerBlock}`,
      measured: fix(c.breakerLoopback.httpRequestsPerBlock, 3),
      pass: c.breakerLoopback.httpRequestsPerBlock <= TARGETS.httpRequestsPerBlock,
    },
    {
      name: 'Catch-up blocks/s on loopback (breaker with its store)',
      target: `≥ ${TARGETS.catchUpBlocksPerSecond}`,
      measured: fix(c.breakerLoopback.blocksPerSecond, 0),
      pass: c.breakerLoopback.blocksPerSecond >= TARGETS.catchUpBlocksPerSecond,
    },
    {
      name: 'Speed-up over the naive baseline, loopback',
      target: `≥ ${TARGETS.speedupOverNaive}×`,
      measured: `${fix(speedupLoopback, 1)}×`,
      pass: speedupLoopback >= TARGETS.speedupOverNaive,
    },
    {
      name: `Speed-up over the naive baseline, ${c.proxyDelayMs} ms per HTTP request`,
      target: `≥ ${TARGETS.speedupOverNaive}×`,
      measured: `${fix(speedupProxy, 1)}×`,
      pass: speedupProxy >= TARGETS.speedupOverNaive,
    },
  ];
  return { primary, speedupLoopback, speedupProxy, checks };
}

export function renderJson(r: BenchResults): string {
  const c = r.catchUp;
  const d = derive(r);
  const q = r.requests;
  const json = {
    generatedAt: r.machine.date,
    machine: r.machine,
    // The fields scripts/cost-estimate.ts reads (infra/cost/estimate.ts benchmarksSchema).
    dynamoRequestsPerIdlePoll: q.idlePollNewEmptyBlock.requests,
    dynamoWritesPerIdlePoll: q.idlePollNewEmptyBlock.writes,
    dynamoRequestsPerOutflow: round(q.extraPerOutflow.requests, 3),
    dynamoWritesPerOutflow: round(q.extraPerOutflow.writes, 3),
    rpcCallsPerBlock: round(c.breakerLoopback.rpcCallsPerBlock, 4),
    httpRequestsPerBlock: round(c.breakerLoopback.httpRequestsPerBlock, 4),
    pollsPerMinute: r.pollsPerMinute,
    bytesPerOutflowRecord: q.outflowItemBytes,
    detectionLatencyP50Ms: Math.round(d.primary.p50Ms),
    detectionLatencyP95Ms: Math.round(d.primary.p95Ms),
    detectionLatencyMaxMs: Math.round(d.primary.maxMs),
    catchUpBlocksPerSecond: round(c.breakerLoopback.blocksPerSecond, 1),
    naiveBlocksPerSecond: round(c.naiveLoopback.blocksPerSecond, 1),
    // Further measurements.
    catchUpSpeedup: round(d.speedupLoopback, 2),
    catchUpBlocksPerSecondProxied: round(c.breakerProxy.blocksPerSecond, 1),
    naiveBlocksPerSecondProxied: round(c.naiveProxy.blocksPerSecond, 1),
    catchUpSpeedupProxied: round(d.speedupProxy, 2),
    proxyDelayMs: c.proxyDelayMs,
    readerBlocksPerSecond: round(c.readerLoopback.blocksPerSecond, 1),
    // The same catch-up with nativeSource: traces (the fields above are the default, blocks).
    tracesRpcCallsPerBlock: round(c.breakerLoopbackTraces.rpcCallsPerBlock, 4),
    tracesHttpRequestsPerBlock: round(c.breakerLoopbackTraces.httpRequestsPerBlock, 4),
    tracesCatchUpBlocksPerSecond: round(c.breakerLoopbackTraces.blocksPerSecond, 1),
    tracesReaderBlocksPerSecond: round(c.readerLoopbackTraces.blocksPerSecond, 1),
    tracesReaderRpcCallsPerBlock: round(c.readerLoopbackTraces.rpcCallsPerBlock, 4),
    catchUpExact: d.checks[1]!.pass,
    outflowsSent: c.breakerLoopback.exactness.sent,
    outflowsFound: c.breakerLoopback.outflowsRecorded,
    naiveRpcCallsPerBlock: round(c.naiveLoopback.rpcCallsPerBlock, 3),
    naiveHttpRequestsPerBlock: round(c.naiveLoopback.httpRequestsPerBlock, 3),
    liveRpcCallsPerBlock: round(d.primary.liveRpcCallsPerBlock, 3),
    liveHttpRequestsPerBlock: round(d.primary.liveHttpRequestsPerBlock, 3),
    dynamoRequestsPerOutflowCatchUp: round(c.breakerLoopback.dynamoRequests / c.breakerLoopback.outflowsRecorded, 4),
    dynamoRequestsPerIdlePollNoNewBlock: q.idlePollNoNewBlock.requests,
    dynamoRequestsPerInvocationStart: q.invocationStart.requests + q.idlePollUncached.requests,
    dynamoWriteUnitsPerIdlePoll: Math.ceil(q.cursorItemBytes / 1024) * q.idlePollNewEmptyBlock.writes,
    // One outflow in a poll: the cursor is written twice (lease, commit) instead of once, plus the state and the record.
    dynamoWriteUnitsPerOutflow:
      Math.ceil(q.cursorItemBytes / 1024) + Math.ceil(q.stateItemBytes / 1024) + Math.ceil(q.outflowItemBytes / 1024),
    cursorItemBytes: q.cursorItemBytes,
    stateItemBytes: q.stateItemBytes,
    replayEventsPerSecond: r.replay.measured ? r.replay.eventsPerSecond : null,
    leaseRecoveryMaxMs: Math.round(Math.max(...r.leaseRecovery.recoveryMs)),
    targets: Object.fromEntries(
      d.checks.map((x) => [x.name, { target: x.target, measured: x.measured, pass: x.pass }]),
    ),
    details: {
      settings: r.settings,
      durationSeconds: round(r.durationSeconds, 1),
      catchUp: c,
      detection: r.detection.map((x) => ({ ...x, latenciesMs: x.latenciesMs.map((v) => Math.round(v)) })),
      requests: q,
      replay: r.replay,
      leaseRecovery: r.leaseRecovery,
    },
  };
  return `${JSON.stringify(json, (_, v) => (typeof v === 'number' && !Number.isInteger(v) ? round(v, 4) : v), 2)}\n`;
}

export function renderMarkdown(r: BenchResults): string {
  const c = r.catchUp;
  const d = derive(r);
  const q = r.requests;
  const m = r.machine;
  const out: string[] = [];
  const p = (...lines: string[]) => out.push(...lines);

  p(
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` (test/bench/run.ts) on ${m.date.slice(0, 10)} at ${m.date.slice(11, 19)} UTC, commit ${m.commit}; the run took ${fix(r.durationSeconds, 0)} s.`,
    'Every number below comes from that run; BENCHMARKS.json holds the same results for scripts (scripts/cost-estimate.ts reads it).',
    '',
    '| Machine | |',
    '|---|---|',
    `| CPU | ${m.cpuModel} |`,
    `| Cores | ${m.cores} |`,
    `| Memory | ${m.memoryGiB} GiB |`,
    `| OS | ${m.os} |`,
    `| Node | ${m.node} |`,
    `| Local chain | ${m.anvil} (npm @foundry-rs/anvil), on 127.0.0.1 |`,
    '| DynamoDB stand-in | dynalite 4 (in-memory) |',
    `| Load average (1 min) at start / end | ${m.loadAverageAtStart} / ${r.settings.loadAverageAtEnd} (other work shares these ${m.cores} cores; throughput moves with it) |`,
    '',
    '## Targets',
    '',
    '| Target | Goal | Measured | Result |',
    '|---|---|---|---|',
    ...d.checks.map((x) => `| ${x.name} | ${x.target} | ${x.measured} | ${verdict(x.pass)} |`),
    '',
  );

  const misses = d.checks.filter((x) => !x.pass);
  p('## Findings', '');
  if (misses.length === 0) p('Every target is met on this run.', '');
  for (const line of findings(r, d)) p(`- ${line}`);
  p('');

  p(
    '## 1. Detection latency',
    '',
    'anvil mines a block every second (`--block-time 1`). The real `runPoller` loop polls it with the real EVM reader and a',
    '`DynamoDbBreakerStore` on dynalite (in the poller process, as `npm start` runs it). Each trial sends 1 ETH ($3,000) from the hot',
    "wallet against a $1,000 single-transaction limit. **Start:** the block holding it is mined — the moment anvil's `newHeads` push",
    'for that block arrives over WebSocket (the block timestamp has 1-second resolution). **End:** the conditional write of the',
    'breaker state item carrying the trip is acknowledged — from then on the kill switch says halted (each trial reads it to check).',
    'Between trials the breaker is reset with a reason (`resetBreakerUseCase`).',
    r.settings.detectionSideBySide
      ? 'The four settings run side by side (each with its own anvil, dynalite and poller) to keep the run short; the poll loops use a few ms of CPU per second.'
      : 'The four settings ran one after another.',
    '',
    '| Confirmations | Poll interval | Trips | p50 | p95 | max | min | Poll finished p95 | Target p95 | Result |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...r.detection.map((x) => {
      const target = TARGETS.detectionP95Ms(x.blockTimeSeconds);
      return `| ${x.confirmations} | ${x.pollIntervalSeconds} s | ${x.trials} | ${ms(x.p50Ms)} ms | ${ms(x.p95Ms)} ms | ${ms(x.maxMs)} ms | ${ms(x.minMs)} ms | ${ms(x.pollFinishedP95Ms)} ms | ≤ ${target} ms | ${verdict(x.p95Ms <= target)} |`;
    }),
    '',
    '"Poll finished" is when the poll that wrote the trip returned (cursor committed, page handed to the publisher).',
    'With confirmations c, a block is read once c more blocks exist, so latency ≈ c block times + the wait for the next poll',
    '(0 to one poll interval) + the poll itself. A shorter poll interval than the block time buys latency with more `eth_blockNumber` calls.',
    '',
    '| Setting | Polls per minute (measured) | JSON-RPC calls per block, live | HTTP requests per block, live |',
    '|---|---|---|---|',
    ...r.detection.map(
      (x) =>
        `| confirmations ${x.confirmations}, poll ${x.pollIntervalSeconds} s | ${fix(x.measuredPollsPerMinute, 1)} | ${fix(x.liveRpcCallsPerBlock, 2)} | ${fix(x.liveHttpRequestsPerBlock, 2)} |`,
    ),
    '',
  );

  const t = c.traffic;
  p(
    '## 2. Catch-up throughput',
    '',
    `${t.blocks} blocks of traffic (plus ${t.totalBlocks - t.blocks} setup blocks from genesis) generated on anvil with automine off: transactions signed here`,
    `with explicit nonces, one JSON-RPC batch and one \`evm_mine\` per block (${fix(t.generationSeconds, 1)} s; block timestamps 12 s apart, as on Ethereum).`,
    'The breaker then catches up from block 0 to the head. Outflows are matched to what was sent by id (chain, transaction hash,',
    'log index or `native`) and token, sender, recipient and amount; any difference stops the run.',
    '',
    '| Traffic | Count |',
    '|---|---|',
    `| Transactions | ${t.transactions} |`,
    `| Outflows to find | ${t.outflows} (${t.nativeOutflows} native ETH, ${t.tokenOutflows} ERC-20) |`,
    `| …of which batch payouts (Disperse.disperseToken, one Transfer per recipient) | ${t.batchPayoutTransfers} transfers in ${t.batchPayoutTransactions} transactions |`,
    `| …of which \`transferFrom\` out of a hot wallet by an approved third party | ${t.thirdPartyTransferFroms} |`,
    `| …of which sweeps to the cold wallet (own address: recorded, not a loss) | ${t.sweepsToColdWallet} |`,
    `| …of which a token the config does not know | ${t.unknownTokenTransfers} |`,
    `| Reverted native sends from a hot wallet (to RevertOnReceive; must not count) | ${t.revertedHotSends} |`,
    `| Noise: transfers between other accounts, deposits into the hot wallets | ${t.noiseTransactions} |`,
    '',
    '| Run | Blocks/s | JSON-RPC calls/block | HTTP requests/block | Outflows found / sent | Exact |',
    '|---|---|---|---|---|---|',
    runRow(
      `Breaker: runPoller + reader + store, 100 blocks/poll, loopback (median of ${c.breakerLoopback.runs.length}: ${c.breakerLoopback.runs.map((x) => fix(x, 0)).join(', ')})`,
      c.breakerLoopback,
    ),
    runRow('Breaker, 200 blocks/poll, loopback', c.breakerLoopback200),
    runRow('Breaker, 100 blocks/poll, dynalite in the poller process', c.breakerInProcess),
    runRow(
      `Breaker, **nativeSource: traces**, 100 blocks/poll, loopback (median of ${c.breakerLoopbackTraces.runs.length}: ${c.breakerLoopbackTraces.runs.map((x) => fix(x, 0)).join(', ')})`,
      c.breakerLoopbackTraces,
    ),
    runRow(
      `Reader alone, **nativeSource: traces**, 100 blocks/read, loopback (median of ${c.readerLoopbackTraces.runs.length}: ${c.readerLoopbackTraces.runs.map((x) => fix(x, 0)).join(', ')})`,
      c.readerLoopbackTraces,
    ),
    runRow(
      `Reader alone (EvmChainReader, no store), 100 blocks/read, loopback (median of ${c.readerLoopback.runs.length}: ${c.readerLoopback.runs.map((x) => fix(x, 0)).join(', ')})`,
      c.readerLoopback,
    ),
    runRow(`Breaker, 100 blocks/poll, ${c.proxyDelayMs} ms per HTTP request`, c.breakerProxy),
    runRow(`Reader alone, ${c.proxyDelayMs} ms per HTTP request`, c.readerProxy),
    '',
    'dynalite runs on its own worker thread in the breaker runs unless noted: in production DynamoDB is another machine, so its CPU',
    'time should not be charged to the poller. rpcBatchSize 100. All runs read the same chain, one after another.',
    'nativeSource: traces reads a range in ONE batch (block headers, `eth_getLogs`, one `trace_filter` for frames sent from a hot',
    'wallet) instead of full blocks plus `eth_getBlockReceipts` for every block with a native hot send; the ids of what it finds are the same.',
    '',
    '| Target (breaker, 100 blocks/poll, loopback) | Goal | Measured | Result |',
    '|---|---|---|---|',
    ...d.checks.slice(1, 5).map((x) => `| ${x.name} | ${x.target} | ${x.measured} | ${verdict(x.pass)} |`),
    '',
    '### Where the catch-up time goes',
    '',
    `Wall time inside each port method during the breaker run (100 blocks/poll, loopback, ${fix(c.breakerLoopback.seconds, 2)} s, ${c.breakerLoopback.polls} polls):`,
    '',
    '| Call | Time | Share | Calls or items |',
    '|---|---|---|---|',
    ...timeRows(c.breakerLoopback),
    '',
  );

  p(
    '## 3. Naive baseline',
    '',
    'ethers 6 `JsonRpcProvider` with its own batching on (defaults: calls issued within 10 ms share a request, ≤ 100 per request):',
    'for each block `getBlock(n, true)`, then `getTransactionReceipt` for every transaction of the block (issued together, so batched).',
    'It finds the same outflows (native value from a hot wallet with status 1; Transfer logs from a hot wallet in the receipts) and',
    'is checked for exactness the same way, on a slice from the middle of the traffic (rates are per block; the traffic is uniform).',
    '',
    '| | Breaker blocks/s | Naive blocks/s | Ratio | Goal | Result | Naive calls/block | Naive HTTP/block | Naive exact |',
    '|---|---|---|---|---|---|---|---|---|',
    `| Loopback | ${fix(c.breakerLoopback.blocksPerSecond, 0)} | ${fix(c.naiveLoopback.blocksPerSecond, 1)} (blocks ${c.naiveLoopback.from}–${c.naiveLoopback.to}) | ${fix(d.speedupLoopback, 1)}× | ≥ ${TARGETS.speedupOverNaive}× | ${verdict(d.speedupLoopback >= TARGETS.speedupOverNaive)} | ${fix(c.naiveLoopback.rpcCallsPerBlock, 2)} | ${fix(c.naiveLoopback.httpRequestsPerBlock, 2)} | ${exactCell(c.naiveLoopback.exactness)} |`,
    `| ${c.proxyDelayMs} ms per HTTP request (proxy on 127.0.0.1) | ${fix(c.breakerProxy.blocksPerSecond, 0)} | ${fix(c.naiveProxy.blocksPerSecond, 1)} (blocks ${c.naiveProxy.from}–${c.naiveProxy.to}) | ${fix(d.speedupProxy, 1)}× | ≥ ${TARGETS.speedupOverNaive}× | ${verdict(d.speedupProxy >= TARGETS.speedupOverNaive)} | ${fix(c.naiveProxy.rpcCallsPerBlock, 2)} | ${fix(c.naiveProxy.httpRequestsPerBlock, 2)} | ${exactCell(c.naiveProxy.exactness)} |`,
    '',
    'The naive reader waits for each block before asking for its receipts and for the receipts before the next block: two',
    "sequential round trips per block, each also held ≈ 10 ms by ethers' batch stall timer (so on loopback it cannot pass ≈ 50 blocks/s).",
    "The breaker reads a whole poll's range — every block plus one `eth_getLogs` — in one batched round trip, then fetches receipts in",
    'a second round trip, only for blocks where a hot wallet sent native value.',
    '',
  );

  const opRows = (label: string, x: RequestCount) =>
    `| ${label} | ${fix(x.requests, 2)} | ${fix(x.writes, 2)} | ${Object.entries(x.byOperation)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k} ${fix(v, 2)}`)
      .join(', ')} |`;
  p(
    '## 4. DynamoDB requests',
    '',
    "Counted on the store's DynamoDB client (`countDynamoRequests`: every request sent, SDK retries included), polling one block at a time as a live poller does.",
    '',
    '| Poll | Requests | Of which writes | By operation |',
    '|---|---|---|---|',
    opRows('Invocation start (runPoller flushes the outbox)', q.invocationStart),
    opRows('First poll of an invocation (no cached cursor), no new block', q.idlePollUncached),
    opRows('Idle poll, no new block (cached cursor)', q.idlePollNoNewBlock),
    opRows('Idle poll, one new block without outflows', q.idlePollNewEmptyBlock),
    opRows(
      `First poll with outflows of a run (history not in memory yet), one new block with ${q.outflowsPerBlock} outflow${q.outflowsPerBlock === 1 ? '' : 's'}`,
      q.firstPollWithOutflows,
    ),
    opRows(
      `Poll, one new block with ${q.outflowsPerBlock} outflow${q.outflowsPerBlock === 1 ? '' : 's'} (steady state)`,
      q.pollWithOutflows,
    ),
    opRows('Extra per recorded outflow (steady state, over the empty-block poll)', q.extraPerOutflow),
    `| Per recorded outflow during catch-up (${c.breakerLoopback.outflowsRecorded} outflows, ${c.breakerLoopback.polls} polls of 100 blocks) | ${fix(c.breakerLoopback.dynamoRequests / c.breakerLoopback.outflowsRecorded, 3)} | | ${Object.entries(
      c.breakerLoopback.dynamoByOperation,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} (total) |`,
    '',
    `Item sizes as DynamoDB bills them: cursor ${q.cursorItemBytes} B (${Math.ceil(q.cursorItemBytes / 1024)} write units per write, ${Math.ceil(q.cursorItemBytes / 4096)} read units per strongly consistent read), breaker state ${q.stateItemBytes} B, outflow record ${q.outflowItemBytes} B.`,
    `BENCHMARKS.json gives the cost script \`dynamoRequestsPerIdlePoll\` = the new-empty-block poll (${q.idlePollNewEmptyBlock.requests}) and \`dynamoRequestsPerOutflow\` = the live extra per outflow with one outflow per poll (${fix(q.extraPerOutflow.requests, 2)}; with k outflows in one poll the extra is ≈ (${fix(q.extraPerOutflow.requests * q.outflowsPerBlock - 1, 0)} + ⌈k / 25⌉) / k per outflow).`,
    '',
  );

  p('## 5. Replay speed', '');
  if (r.replay.measured) {
    p(
      '| Scenario | Events | Seconds (median of 3, after a warm-up) | Events/s |',
      '|---|---|---|---|',
      `| normal-week.json through config/example.yaml, in-memory store (\`benchReplay\`, test/bench/replay.ts) | ${r.replay.events} | ${r.replay.seconds} | ${r.replay.eventsPerSecond} |`,
      '',
    );
  } else {
    p('| Scenario | Events/s |', '|---|---|', `| \`breaker replay\` | not yet measured (${r.replay.reason}) |`, '');
  }

  p(...renderLeaseRecovery(r.leaseRecovery));

  p(
    '## Polls per minute',
    '',
    'Per chain, 60 / pollIntervalSeconds (config/example.yaml, and the bench chain): ' +
      Object.entries(r.pollsPerMinute)
        .map(([k, v]) => `${k} ${fix(v, 1)}`)
        .join(', ') +
      '. The loop sleeps the interval after each poll, so the measured rate is a little lower (section 1).',
    '',
  );
  return `${out.join('\n')}\n`;
}

function findings(r: BenchResults, d: Derived): string[] {
  const c = r.catchUp;
  const b = c.breakerLoopback;
  const q = r.requests;
  const lines: string[] = [];
  const blocksWithNative = c.traffic.blocks;
  const t = c.breakerLoopbackTraces;
  if (b.rpcCallsPerBlock > TARGETS.rpcCallsPerBlock) {
    lines.push(
      `**JSON-RPC calls per block: nativeSource blocks (the default) ${fix(b.rpcCallsPerBlock, 3)} > ${TARGETS.rpcCallsPerBlock} (MISS, its floor); nativeSource traces ${fix(t.rpcCallsPerBlock, 3)} (${verdict(t.rpcCallsPerBlock <= TARGETS.rpcCallsPerBlock)}).** Each of the ${blocksWithNative} traffic blocks has a native ETH send from a hot wallet (as a busy exchange hot wallet's blocks do). In blocks mode the reader ` +
        'fetches `eth_getBlockReceipts` for each such block to drop reverted sends: 1 block + 1 receipts call per block, plus `eth_blockNumber` and ' +
        `\`eth_getLogs\` once per poll (2 / ${b.maxBlocksPerPoll} blocks) and one \`eth_chainId\` probe. At 200 blocks/poll: ${fix(c.breakerLoopback200.rpcCallsPerBlock, 3)}. ` +
        'The floor is 1 + (share of blocks with a native hot send) + 2 / blocks per poll; with native sends in every block it cannot reach 2. ' +
        `Traces mode reads block headers, \`eth_getLogs\` and one \`trace_filter\` per poll: 1 + 3 / blocks per poll, whatever the traffic (plus one \`trace_transaction\` per transaction where a contract hot wallet moved value internally; none here). ` +
        'It needs an endpoint with the trace API (Erigon, Reth, Nethermind, anvil; not geth, and some providers bill trace calls higher), and records no network fee for native sends (no receipts are read).',
    );
  }
  lines.push(
    `nativeSource traces catch-up: ${fix(t.blocksPerSecond, 0)} blocks/s with the store (blocks mode ${fix(b.blocksPerSecond, 0)}), reader alone ${fix(c.readerLoopbackTraces.blocksPerSecond, 0)} blocks/s (blocks mode ${fix(c.readerLoopback.blocksPerSecond, 0)}); ` +
      `${fix(t.httpRequestsPerBlock, 3)} HTTP requests per block (blocks mode ${fix(b.httpRequestsPerBlock, 3)}). Same traffic, same outflows found (${t.outflowsRecorded} / ${t.exactness.sent}).`,
  );
  if (b.blocksPerSecond < TARGETS.catchUpBlocksPerSecond) {
    const spent = b.spentMs;
    const total = b.seconds * 1000;
    const share = (k: string) => fix((100 * (spent[k] ?? 0)) / total, 0);
    const items = b.itemsReturned['store.outflowsSince'] ?? 0;
    lines.push(
      `**Catch-up ${fix(b.blocksPerSecond, 0)} blocks/s < ${TARGETS.catchUpBlocksPerSecond} (MISS); the reader alone does ${fix(c.readerLoopback.blocksPerSecond, 0)} blocks/s.** ` +
        `Of ${fix(b.seconds, 2)} s: reading the chain ${share('reader.readRange')} %, \`store.outflowsSince\` ${share('store.outflowsSince')} %, ` +
        `\`store.recordOutflows\` ${share('store.recordOutflows')} %, \`store.saveCursor\` ${share('store.saveCursor')} %, \`store.saveState\` ${share('store.saveState')} %.`,
    );
    if (items > 2 * b.outflowsRecorded) {
      lines.push(
        `The poller re-read ${items} history records over ${b.polls} polls for ${b.outflowsRecorded} recorded: the whole rule window (24 h here, as in config/example.yaml) on every poll, which grows with the backlog (quadratic in a catch-up). (functions/core/use-cases/poll-chain.ts, evaluateAndTransition)`,
      );
    } else {
      lines.push(
        `History reads are not the bottleneck: ${items} records read back over ${b.polls} polls for ${b.outflowsRecorded} recorded (the run keeps its own chain's history in memory across polls).`,
      );
    }
    const batchWrites = b.dynamoByOperation.BatchWriteItem ?? 0;
    const inFlight = b.dynamoMaxInFlight.BatchWriteItem ?? 0;
    lines.push(
      inFlight <= 1
        ? `\`recordOutflows\` sends its ${batchWrites} BatchWriteItem requests (25 items each) one after another; a few in flight at once would cut this on real DynamoDB, where each is a network round trip. (functions/adapters/dynamodb/dynamodb-breaker-store.ts, batchWrite)`
        : `\`recordOutflows\` kept up to ${inFlight} of its ${batchWrites} BatchWriteItem requests (25 items each) in flight. On dynalite the time is the stand-in's own CPU (a JavaScript LevelDB on a machine with ${r.machine.cores} cores shared with anvil and the poller); real DynamoDB spends it on other machines and costs the poller round trips instead.`,
    );
    lines.push(
      `With dynalite in the poller's own process (as \`npm start\` runs it) catch-up does ${fix(c.breakerInProcess.blocksPerSecond, 0)} blocks/s; with 200 blocks per poll ${fix(c.breakerLoopback200.blocksPerSecond, 0)} blocks/s.`,
    );
  }
  const primary = d.primary;
  if (primary.p95Ms > TARGETS.detectionP95Ms(primary.blockTimeSeconds)) {
    lines.push(`**Detection p95 ${ms(primary.p95Ms)} ms misses its target.**`);
  } else {
    lines.push(
      `Detection p95 ${ms(primary.p95Ms)} ms (confirmations 1, poll = block time) is within ${TARGETS.detectionP95Ms(primary.blockTimeSeconds)} ms. ` +
        `Most of it is the confirmation block time and the wait for the next poll; the poll itself takes a few ms (trip written → poll finished adds ${ms(Math.max(0, primary.pollFinishedP95Ms - primary.p95Ms))} ms at p95).`,
    );
  }
  lines.push(
    `Speed-up over the naive baseline: ${fix(d.speedupLoopback, 1)}× on loopback, ${fix(d.speedupProxy, 1)}× at ${c.proxyDelayMs} ms per request (the breaker's requests per block are ${fix(b.httpRequestsPerBlock, 3)} against the baseline's ${fix(c.naiveLoopback.httpRequestsPerBlock, 2)}).`,
  );
  lines.push(
    `**DynamoDB cost per idle poll is ${q.idlePollNewEmptyBlock.requests} requests:** an idle poll moves the cursor in memory and saves it every 30 s (and at the end of a run); the cursor item is ${q.cursorItemBytes} B (reorg checkpoints packed into one attribute), ${Math.ceil(q.cursorItemBytes / 1024)} write unit per save. ` +
      `A poll with outflows writes it twice (lease, commit), so one outflow costs ${fix(q.extraPerOutflow.requests, 0)} extra requests, ${fix(q.extraPerOutflow.writes, 0)} of them writes of ≤ 1 KB items. The cost script prices the saves at the stack's cadence (see Cost inputs).`,
  );
  const windowReadUnits = Math.ceil((1000 * q.outflowItemBytes) / 4096);
  lines.push(
    `The first poll with outflows of a run (${fix(q.firstPollWithOutflows.byOperation.Query ?? 0, 0)} Query) reads back the chain's whole rule window with a strongly consistent Query, later ones ${fix(q.pollWithOutflows.byOperation.Query ?? 0, 0)} (the run keeps its own chain's history; with several chains configured the other chains' windows are still read on each such poll). ` +
      `One request, but ⌈window bytes / 4 KB⌉ read units: about ${windowReadUnits} per 1,000 outflows in the window at ${q.outflowItemBytes} B per record. The cost script counts a request as one unit.`,
  );
  lines.push(
    `Live polling (confirmations 1, poll every ${primary.pollIntervalSeconds} s) costs ${fix(primary.liveRpcCallsPerBlock, 2)} JSON-RPC calls and ${fix(primary.liveHttpRequestsPerBlock, 2)} HTTP requests per block (one block per poll: \`eth_blockNumber\`, the block, \`eth_getLogs\`, receipts when a hot wallet sent native value) — what an RPC plan pays for month to month; the catch-up figures above are per block of backlog.`,
  );
  return lines;
}

function runRow(label: string, x: ReaderRun): string {
  const found = 'outflowsRecorded' in x ? (x as BreakerRun).outflowsRecorded : x.exactness.found;
  return `| ${label} | ${fix(x.blocksPerSecond, 0)} | ${fix(x.rpcCallsPerBlock, 3)} | ${fix(x.httpRequestsPerBlock, 3)} | ${found} / ${x.exactness.sent} | ${exactCell(x.exactness)} |`;
}

function timeRows(b: BreakerRun): string[] {
  const total = b.seconds * 1000;
  const entries = Object.entries(b.spentMs).sort((x, y) => y[1] - x[1]);
  const accounted = entries.reduce((s, [, v]) => s + v, 0);
  const ops = b.dynamoByOperation;
  const note: Record<string, string> = {
    'store.recordOutflows': `${ops.BatchWriteItem ?? 0} BatchWriteItem`,
    'store.outflowsSince': `${b.itemsReturned['store.outflowsSince'] ?? 0} records read back`,
    'reader.readRange': `${b.httpRequests} HTTP requests in all`,
  };
  return [
    ...entries.map(([k, v]) => `| \`${k}\` | ${fix(v, 0)} ms | ${fix((100 * v) / total, 0)} % | ${note[k] ?? ''} |`),
    `| everything else (classify, rule evaluation, the loop) | ${fix(Math.max(0, total - accounted), 0)} ms | ${fix((100 * Math.max(0, total - accounted)) / total, 0)} % | |`,
  ];
}

function exactCell(e: Exactness): string {
  return e.exact ? 'yes' : `**NO** (missing ${e.missing.length}, doubled ${e.doubled.length}, extra ${e.extra.length})`;
}

function verdict(pass: boolean): string {
  return pass ? 'PASS' : '**MISS**';
}

function fix(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}

function ms(n: number): string {
  return fix(n, 0);
}

export const LEASE_RECOVERY_HEADING = '## 6. Crash recovery (poller killed mid-batch)';

/** The crash-recovery section; `npm run bench -- --only lease-recovery` splices it in on its own. */
export function renderLeaseRecovery(r: LeaseRecoveryResults): string[] {
  const sorted = [...r.recoveryMs].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  return [
    LEASE_RECOVERY_HEADING,
    '',
    '| Case | Lease | Trials | Recovery, median | Recovery, max |',
    '|---|---|---|---|---|',
    `| a child-process poller SIGKILLed holding its lease, part of a 600-outflow batch recorded; the next poller (250 ms interval) recovers the range (test/bench/lease-recovery.ts) | ${r.leaseMs / 1000} s | ${r.recoveryMs.length} | ${(median / 1000).toFixed(1)} s | ${(sorted.at(-1)! / 1000).toFixed(1)} s |`,
    '',
    "Recovery = from the SIGKILL to the whole range committed again (the dead poller's records undone and re-recorded, counted once, one trip page). It is bounded by the lease the dead poller last renewed, plus one poll interval and one poll.",
    '',
  ];
}
