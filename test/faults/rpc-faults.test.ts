/**
 * Fault matrix, RPC: every fault between the breaker and its chain endpoints, injected by a proxy in
 * front of anvil, under realistic traffic. Each test: zero missed, zero double-counted outflows
 * against the chain, and the breach sent during the fault trips the breaker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { everyNth, rpcFaults } from '../support/fault-proxy.ts';
import { runFault } from './scenario.ts';
import { startWorld, type World } from './world.ts';

let w: World | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

const name = () => expect.getState().currentTestName ?? 'unnamed';

describe('RPC faults', () => {
  it('timeouts: the preferred of two endpoints never answers', async () => {
    w = await startWorld({ endpoints: 2 });
    const o = await runFault(w, name(), {
      row: {
        component: 'RPC',
        fault: 'timeouts on the preferred endpoint (of 2)',
        expected: 'fails over to the other endpoint; nothing missed; no blind page',
      },
      on: (w) => w.rpc[0]!.set(rpcFaults.timeout()),
      off: (w) => w.rpc[0]!.set(undefined),
    });
    expect(o.blindPages).toBe(0);
  });

  it('timeouts: every endpoint stops answering for longer than the blind limit', async () => {
    w = await startWorld({ endpoints: 1 });
    const o = await runFault(w, name(), {
      row: {
        component: 'RPC',
        fault: 'every endpoint times out past blindAfterSeconds',
        expected: 'polls fail loudly; one blind page, one recovered page; catches up, nothing skipped',
      },
      on: (w) => w.rpc[0]!.set(rpcFaults.timeout()),
      off: (w) => w.rpc[0]!.set(undefined),
      blocks: 6,
      blindFor: 40,
    });
    expect(o.blindPages).toBe(1);
    expect(o.recoveredPages).toBe(1);
  });

  it('HTTP 429 on every 3rd request', async () => {
    w = await startWorld({ endpoints: 1 });
    const o = await runFault(w, name(), {
      row: {
        component: 'RPC',
        fault: 'HTTP 429 rate limit on every 3rd request (single endpoint)',
        expected: 'retried; nothing missed; no blind page',
      },
      on: (w) => w.rpc[0]!.set(everyNth(3, rpcFaults.status(429))),
    });
    expect(o.blindPages).toBe(0);
  });

  it('HTTP 502/503 on the preferred of two endpoints', async () => {
    w = await startWorld({ endpoints: 2 });
    let k = 0;
    const o = await runFault(w, name(), {
      row: {
        component: 'RPC',
        fault: 'HTTP 502/503 on the preferred endpoint (of 2)',
        expected: 'fails over; nothing missed; no blind page',
      },
      on: (w) => w.rpc[0]!.set(() => rpcFaults.status(++k % 2 ? 502 : 503)({} as never)),
      off: (w) => w.rpc[0]!.set(undefined),
    });
    expect(o.blindPages).toBe(0);
  });

  it('JSON-RPC error envelopes inside HTTP 200 on every 2nd request', async () => {
    w = await startWorld({ endpoints: 1 });
    const o = await runFault(w, name(), {
      row: {
        component: 'RPC',
        fault: 'JSON-RPC error envelopes in HTTP 200, every 2nd request',
        expected: 'retried; nothing missed',
      },
      on: (w) => w.rpc[0]!.set(everyNth(2, rpcFaults.errorEnvelopes())),
    });
    expect(o.blindPages).toBe(0);
  });

  it('truncated JSON on every 3rd answer', async () => {
    w = await startWorld({ endpoints: 1 });
    await runFault(w, name(), {
      row: {
        component: 'RPC',
        fault: 'answers cut off mid-body (truncated JSON), every 3rd',
        expected: 'bad-json, retried; nothing missed',
      },
      on: (w) => w.rpc[0]!.set(everyNth(3, rpcFaults.truncated())),
    });
  });

  it('garbled JSON on every 3rd answer', async () => {
    w = await startWorld({ endpoints: 1 });
    await runFault(w, name(), {
      row: {
        component: 'RPC',
        fault: 'garbled JSON answers, every 3rd',
        expected: 'bad-json, retried; nothing missed',
      },
      on: (w) => w.rpc[0]!.set(everyNth(3, rpcFaults.garbled())),
    });
  });

  it('null results on every 4th answer', async () => {
    w = await startWorld({ endpoints: 1 });
    await runFault(w, name(), {
      row: {
        component: 'RPC',
        fault: 'null results (node without the data), every 4th answer',
        expected: 'null-result, retried; nothing missed',
      },
      on: (w) => w.rpc[0]!.set(everyNth(4, rpcFaults.nullResults())),
    });
  });
});

describe('lying and lagging endpoints (head cross-check)', () => {
  it('stale head: the preferred of two endpoints is stuck', async () => {
    w = await startWorld({ endpoints: 2 });
    let frozen = 0;
    const o = await runFault(w, name(), {
      row: {
        component: 'RPC',
        fault: 'stale head: preferred endpoint stuck (of 2)',
        expected: 'cross-check suspends it for lagging; reads go to the other; nothing missed',
      },
      on: async (w) => {
        frozen = await w.head();
        w.rpc[0]!.set(rpcFaults.staleHead(() => frozen));
      },
    });
    const report = w.reader.crossCheck();
    expect(report?.endpoints[0]?.verdict.status).toBe('lagging');
    expect(report?.endpoints[1]?.verdict.status).toBe('ok');
    expect(o.blindPages).toBe(0);
  });

  it('stale head: the only endpoint is stuck past the blind limit', async () => {
    w = await startWorld({ endpoints: 1 });
    let frozen = 0;
    const o = await runFault(w, name(), {
      row: {
        component: 'RPC',
        fault: 'stale head: the only endpoint stuck past blindAfterSeconds',
        expected: '"head not advancing": one blind page, one recovered page; nothing skipped',
      },
      on: async (w) => {
        frozen = await w.head();
        w.rpc[0]!.set(rpcFaults.staleHead(() => frozen));
      },
      off: (w) => w.rpc[0]!.set(undefined),
      blocks: 6,
      blindFor: 40,
    });
    expect(o.blindPages).toBe(1);
    expect(o.recoveredPages).toBe(1);
    expect(w.pages('blind')[0]?.text).toMatch(/head has not advanced|cursor is not keeping up/);
  });

  it('head ahead of reality on the preferred of two endpoints', async () => {
    w = await startWorld({ endpoints: 2 });
    const o = await runFault(w, name(), {
      row: {
        component: 'RPC',
        fault: 'lying head: preferred endpoint reports head + 50 (of 2)',
        expected: 'cross-check finds it cannot serve its head and suspends it; nothing missed',
      },
      on: (w) => w.rpc[0]!.set(rpcFaults.headAhead(50)),
    });
    expect(w.reader.crossCheck()?.endpoints[0]?.verdict.status).toBe('head-unservable');
    expect(o.blindPages).toBe(0);
  });

  it('wrong block hashes: one of three endpoints is on another fork', async () => {
    w = await startWorld({ endpoints: 3 });
    const o = await runFault(w, name(), {
      row: {
        component: 'RPC',
        fault: 'wrong block hashes: 1 of 3 endpoints on another fork',
        expected: 'minority fork suspended by the cross-check; false reorgs rewound; nothing missed',
      },
      on: (w) => w.rpc[0]!.set(rpcFaults.forkedHashes()),
    });
    expect(w.reader.crossCheck()?.endpoints[0]?.verdict.status).toBe('forked');
    // The first blocks that did not link sent the reader to the cross-check, not into a deep rewind.
    expect(o.otherBlindPages).toBe(0);
    expect(o.blindPages).toBe(0);
  });

  it('wrong block hashes: two endpoints disagree, no majority, past the blind limit', async () => {
    w = await startWorld({ endpoints: 2 });
    const o = await runFault(w, name(), {
      row: {
        component: 'RPC',
        fault: 'wrong block hashes: 2 endpoints disagree, no majority',
        expected: 'no endpoint trusted: polls fail loudly, blind page, recovered page when they agree; nothing missed',
      },
      on: (w) => w.rpc[1]!.set(rpcFaults.forkedHashes()),
      off: (w) => w.rpc[1]!.set(undefined),
      blocks: 6,
      blindFor: 40,
    });
    expect(o.blindPages).toBe(1);
    expect(o.recoveredPages).toBe(1);
  });
});
