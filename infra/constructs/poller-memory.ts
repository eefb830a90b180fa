/**
 * How much memory a poller function gets. Sizing figures come from the memory bench
 * (`npm run bench -- --only memory`); test/infra/poller-memory.test.ts pins them to its report.
 */

/**
 * Peak resident memory (MiB) of the bundled poll-chain handler over two full invocations under the bench
 * traffic: `npm run bench -- --only memory` writes it to BENCHMARKS.json (pollerMemory.peakRssMb), and
 * test/infra/poller-memory.test.ts fails when this copy no longer sizes the function the way it does.
 */
export const MEASURED_POLLER_PEAK_RSS_MB = 141.5;
/**
 * Room above the measured peak: a catch-up batch (up to maxBlocksPerPoll blocks at once) and a drain's
 * window history held in memory grow the heap beyond the bench's one-block polls.
 */
export const POLLER_MEMORY_HEADROOM = 1.5;

/** Function memory for a measured peak: the peak with headroom, in 32 MB steps, at least Lambda's 128 MB. */
export function pollerMemoryMb(peakRssMb: number): number {
  return Math.max(128, Math.ceil((peakRssMb * POLLER_MEMORY_HEADROOM) / 32) * 32);
}

/** Lambda also scales CPU with memory (1,769 MB = one vCPU): see docs/cost.md for what the measured CPU per poll needs. */
export const POLLER_MEMORY_MB = pollerMemoryMb(MEASURED_POLLER_PEAK_RSS_MB);

/**
 * Function memory for a poller group of `chainCount` chains polled by one loop each in one process.
 * Placeholder until the group memory bench measures it: every group gets the one-chain figure.
 */
export function pollerGroupMemoryMb(_chainCount: number): number {
  return POLLER_MEMORY_MB;
}
