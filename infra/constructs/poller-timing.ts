import { Duration } from 'aws-cdk-lib';

/**
 * The handler polls until ~10 s before its deadline. 65 s lets a run end ~5 s before the next one-minute tick:
 * the blind gap per minute stays under a block on most chains, and two runs rarely overlap (when scheduler jitter
 * makes them, reserved concurrency 1 throttles the newcomer and Lambda's async queue retries it within seconds;
 * the cursor lease keeps the accounting exact either way).
 */
export const POLLER_TIMEOUT = Duration.seconds(65);
/** Margin the poll-chain handler keeps before its deadline (its contract); the loop runs for timeout − this. */
export const POLLER_STOP_MARGIN = Duration.seconds(10);
