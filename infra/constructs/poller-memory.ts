/**
 * How much memory a poller function gets. Sizing figures come from the memory bench
 * (`npm run bench -- --only memory`); test/infra/poller-memory.test.ts pins them to its report.
 */

/**
 * Peak resident memory (MiB) of the bundled poll-chain handler polling one chain, the highest over the chain
 * kinds (each measured over two full invocations under the bench traffic): `npm run bench -- --only memory`
 * writes it to BENCHMARKS.json (pollerPeakRssMb), and test/infra/poller-memory.test.ts fails when this copy no
 * longer sizes the function the way it does.
 */
export const MEASURED_POLLER_PEAK_RSS_MB = 143.5;
/**
 * What each further chain polled by the same process added to the peak (MiB): (the group's peak − the one-chain
 * peak above) / (the group's chains − 1), the group being every chain of config/example.yaml in one process under
 * the bench traffic (BENCHMARKS.json pollerGroupExtraChainMb). The bench also runs that group at the resulting size
 * on a table holding 14 days of normal-week history, which the example's drain patterns read on every poll with
 * outflows: test/infra/poller-memory.test.ts checks it stayed within the size.
 */
export const MEASURED_GROUP_EXTRA_CHAIN_MB = 2.65;
/**
 * Room above the measured peak: a catch-up batch (up to maxBlocksPerPoll blocks at once) and a drain's
 * window history held in memory grow the heap beyond the bench's polls — in a group, on every chain at once
 * (after an outage all of them catch up together), so the headroom applies to the whole peak.
 */
export const POLLER_MEMORY_HEADROOM = 1.5;

/** Function memory for a measured peak: the peak with headroom, in whole MB, at least Lambda's 128 MB. */
export function pollerMemoryMb(peakRssMb: number): number {
  return lambdaMemoryStep(peakRssMb * POLLER_MEMORY_HEADROOM);
}

/**
 * The Lambda memory setting holding `mb`: Lambda takes any whole number of MB from 128 to 10,240 (AWS Lambda
 * Developer Guide, "Configuring Lambda function memory"). Rounding up to 32 MB steps instead put the example's
 * group at 320 MB for a 290 MB need: $0.94 a month for nothing.
 */
function lambdaMemoryStep(mb: number): number {
  return Math.max(128, Math.ceil(mb));
}

/** Lambda scales CPU with memory: one vCPU at 1,769 MB, proportionally less below (docs/cost.md: what a poller needs). */
export const LAMBDA_MB_PER_VCPU = 1769;

/**
 * Peak resident memory (MiB) of a poller reading 14 days of normal-week history (config/example.yaml's 14-day drain
 * patterns read every chain's ledger on each poll with outflows), measured under the V8 heap limits Lambda sets:
 * the group of all eleven, at 320 MB (the full `npm run bench` of 2026-12-05 11:30 UTC). Not the lower
 * BENCHMARKS.json pollerHistoryPeakRssMb: the peak depends on the heap limit it ran under. At 295 MB (this figure
 * with its headroom) the group peaked at 245.9 MiB and fits; sized from that figure instead (271 MB), it peaked at
 * 280.6 MiB, over its memory, with its CPU up by half (the collector thrashing). test/infra/poller-memory.test.ts
 * checks the latest history run fits the size it ran at and that size is at most the stack's.
 */
export const MEASURED_HISTORY_PEAK_RSS_MB = 267.9;
/**
 * Room above the history peak: it is measured at the normal week's history, an exchange with more withdrawals holds
 * more. Smaller than the working set's headroom because the figure already includes the history's 14 days.
 */
export const POLLER_HISTORY_HEADROOM = 1.1;

/**
 * CPU time per second of a group's loop, per chain it polls (ms/s): the group's measured CPU-ms per second over
 * its warm invocations (the higher of its two runs: under the bench traffic, and with 14 days of history), divided
 * by its chains (BENCHMARKS.json pollerGroupCpuMsPerSecondPerChain).
 * It is the example's average chain: a group of only fast chains (sub-second blocks polled every 1–2 s) uses more.
 */
export const MEASURED_GROUP_CPU_MS_PER_SECOND_PER_CHAIN = 6.15;
/**
 * The share of its vCPU fraction a poller group may keep busy. Lambda gives a 256 MB function 0.145 of a vCPU: a
 * poll's CPU takes about 7× longer there than on a whole core, and a chain's poll queues behind the others' polls
 * that are due at the same moment. Half busy keeps that wait to about one other poll on average, so a group's
 * detection latency stays about its chains' own (the "Group detection" bench part measures the local effect).
 */
export const POLLER_CPU_TARGET_UTILISATION = 0.5;

/** What the memory bench measured, as sizing needs it (the MEASURED_* constants above, or BENCHMARKS.json's). */
export interface PollerFigures {
  /** One chain alone: the highest peak over the chain kinds (MiB). */
  singlePeakRssMb: number;
  /** What each further chain in the same process added to the peak (MiB). */
  extraChainMb: number;
  /** A group's CPU time per second of its loop, per chain (ms/s). */
  cpuMsPerSecondPerChain: number;
  /** A poller reading 14 days of normal-week history: its peak (MiB). */
  historyPeakRssMb: number;
}

/** The figures this stack is sized from (test/infra/poller-memory.test.ts ties them to BENCHMARKS.json). */
export const MEASURED_POLLER_FIGURES: PollerFigures = {
  singlePeakRssMb: MEASURED_POLLER_PEAK_RSS_MB,
  extraChainMb: MEASURED_GROUP_EXTRA_CHAIN_MB,
  cpuMsPerSecondPerChain: MEASURED_GROUP_CPU_MS_PER_SECOND_PER_CHAIN,
  historyPeakRssMb: MEASURED_HISTORY_PEAK_RSS_MB,
};

/**
 * The peak a process polling `chainCount` chains reaches: the one-chain peak plus the measured growth per further
 * chain. Linear between the measured one-chain and full-group peaks; beyond the measured group size it is an
 * extrapolation (each chain's loop holds its own reader, cursor and batch, nothing shared grows with the count).
 */
export function pollerGroupPeakRssMb(chainCount: number, figures = MEASURED_POLLER_FIGURES): number {
  if (!Number.isInteger(chainCount) || chainCount < 1) {
    throw new Error(`a poller group polls at least one chain (got ${chainCount})`);
  }
  return figures.singlePeakRssMb + (chainCount - 1) * figures.extraChainMb;
}

/**
 * Function memory for a poller group of `chainCount` chains polled by one loop each in one process (one chain alone
 * is a group of one): the largest of its working-set peak with headroom, the memory whose CPU share (Lambda's grows
 * with memory) it keeps at most half busy, and the history peak with its headroom; in whole MB.
 */
export function pollerGroupMemoryMb(chainCount: number, figures = MEASURED_POLLER_FIGURES): number {
  const forMemory = pollerGroupPeakRssMb(chainCount, figures) * POLLER_MEMORY_HEADROOM;
  const vcpu = (chainCount * figures.cpuMsPerSecondPerChain) / 1000 / POLLER_CPU_TARGET_UTILISATION;
  const forHistory = figures.historyPeakRssMb * POLLER_HISTORY_HEADROOM;
  return lambdaMemoryStep(Math.max(forMemory, vcpu * LAMBDA_MB_PER_VCPU, forHistory));
}

/** A one-chain poller's memory (a chain in no group). */
export const POLLER_MEMORY_MB = pollerGroupMemoryMb(1);
