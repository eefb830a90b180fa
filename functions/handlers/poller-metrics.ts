/**
 * The custom metrics a poller emits (CloudWatch EMF, dimension Chain), shared by the handler, the alarms
 * that watch them (infra/constructs/poller-alarms.ts) and the cost estimate (each is billed monthly).
 * Only what an alarm needs is a metric: counts of polls, failures and outflows go in the run's log line.
 */
export const POLLER_METRICS = {
  /** Age of the newest processed block at the end of a run: the dead-man alarm's input. */
  lastProcessedBlockAge: 'LastProcessedBlockAgeSeconds',
} as const;
