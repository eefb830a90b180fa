/**
 * Fault matrix, store and pages: DynamoDB faults injected by a proxy in front of dynalite (the real
 * DynamoDB protocol, the real SDK and store adapter), and SNS Publish failures injected in front of
 * local SNS. Each test: zero missed, zero double-counted outflows against the chain, and the breach
 * sent during the fault trips the breaker.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { SnsPagePublisher } from '../../functions/adapters/sns/sns-page-publisher.ts';
import {
  dynamoFaults,
  everyNth,
  type Fault,
  type FaultProxy,
  FORWARD,
  isDynamoWrite,
  only,
  snsFaults,
  startFaultProxy,
} from '../support/fault-proxy.ts';
import { type LocalSns, startLocalSns } from '../support/local-sns.ts';
import { runFault } from './scenario.ts';
import { startWorld, type World } from './world.ts';

let w: World | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await w?.stop();
  w = undefined;
  for (const c of cleanups.splice(0)) await c();
});

const name = () => expect.getState().currentTestName ?? 'unnamed';

/** A fault that is on for `onMs`, off for `offMs`, and so on: bursts, as real throttling comes. */
function bursts(fault: Fault, onMs: number, offMs: number): Fault {
  const started = Date.now();
  return (req) => ((Date.now() - started) % (onMs + offMs) < onMs ? fault(req) : FORWARD);
}

describe('store faults (DynamoDB protocol, through a proxy in front of dynalite)', () => {
  it('ProvisionedThroughputExceededException on every 2nd request', async () => {
    w = await startWorld();
    await runFault(w, name(), {
      row: {
        component: 'store',
        fault: 'ProvisionedThroughputExceededException (HTTP 400) on every 2nd request',
        expected: 'SDK retries; a poll that still fails is retried; nothing missed',
      },
      on: (w) => w.db.set(everyNth(2, dynamoFaults.throughputExceeded())),
    });
  });

  it('ThrottlingException bursts: every request throttled 250 ms of every 400 ms', async () => {
    w = await startWorld();
    await runFault(w, name(), {
      row: {
        component: 'store',
        fault: 'ThrottlingException bursts (every request, 250 ms of every 400 ms)',
        expected: 'polls fail with STORE_UNAVAILABLE and are retried; leases recovered; nothing missed',
      },
      on: (w) => w.db.set(bursts(dynamoFaults.throttling(), 250, 400)),
      off: (w) => w.db.set(undefined),
    });
  });

  it('conditional-check failures on every 2nd write of the breaker state', async () => {
    w = await startWorld();
    await runFault(w, name(), {
      row: {
        component: 'store',
        fault:
          'ConditionalCheckFailedException on every 2nd write of the breaker state (as when a reset, a trip on another chain or an outbox flush lands first)',
        expected: 'the evaluation and the outbox flush re-read and decide again; nothing missed, one trip',
      },
      on: (w) =>
        w.db.set(
          everyNth(2, dynamoFaults.conditionalCheckFailed(), (r) => isDynamoWrite(r) && r.body.includes('"BREAKER"')),
        ),
    });
  });

  it('writes applied but their answers lost (HTTP 500) on every 3rd write', async () => {
    w = await startWorld();
    await runFault(w, name(), {
      row: {
        component: 'store',
        fault: 'write applied, answer lost (HTTP 500), every 3rd write',
        expected: 'the SDK retry meets its own write (conditional failure): re-read, no double count',
      },
      on: (w) => w.db.set(everyNth(3, dynamoFaults.lostAnswer(), isDynamoWrite)),
    });
  });
});

describe('page faults (SNS)', () => {
  let sns: LocalSns;
  let proxy: FaultProxy;

  it('SNS Publish fails (HTTP 500, then throttled) while the breach trips', async () => {
    sns = await startLocalSns();
    proxy = await startFaultProxy(sns.endpoint);
    cleanups.push(
      () => proxy.stop(),
      () => sns.close(),
    );
    const topicArn = await sns.createTopic('fault-suite-pages');
    const client = sns.client({ endpoint: proxy.url });
    cleanups.push(async () => client.destroy());
    const publisher = new SnsPagePublisher({ client, topicArn, maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 });
    w = await startWorld({
      publisher: (recorder) => ({
        // What reached SNS is what the recorder sees.
        async publish(page) {
          await publisher.publish(page);
          recorder.pages.push(page);
        },
      }),
    });
    let k = 0;
    await runFault(w, name(), {
      proxies: [proxy],
      row: {
        component: 'pages (SNS)',
        fault: 'SNS Publish fails (HTTP 500 / 400 Throttling) for the whole fault',
        expected:
          'the trip is written (kill switch halted at once); its page stays queued in the outbox and goes out once SNS answers',
      },
      on: () =>
        proxy.set(
          only(
            () => true,
            (req) => snsFaults.publishFails(++k % 2 ? 'InternalError' : 'Throttling')(req),
          ),
        ),
      off: async (w) => {
        // While SNS failed, the halt was already in force: the signer never waited for the page.
        expect((await w.direct.getState()).tripped.global).toBeDefined();
        expect(w.pages('trip')).toHaveLength(0);
        proxy.set(undefined);
      },
    });
    const published = sns.publishRequests.filter((r) => r.Subject?.includes('[HALT]'));
    expect(published).toHaveLength(1);
    expect(proxy.stats.injected).toBeGreaterThan(0);
  });
});
