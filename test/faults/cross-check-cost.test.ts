/**
 * What the head cross-check costs: polls at one block each (the steady state, where it matters
 * most), realistic traffic, two endpoints, the default cadence (every 10 polls). Recorded for
 * docs/RELIABILITY.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { pollOnce } from '../../functions/core/use-cases/poll-chain.ts';
import { reliabilityDir, startWorld, type World } from './world.ts';

let w: World | undefined;
afterEach(async () => {
  await w?.stop();
  w = undefined;
});

it('cross-check cost: extra JSON-RPC calls per block at the default cadence', async () => {
  w = await startWorld({ endpoints: 2, rpcCrossCheckEveryPolls: 10 });
  const world = w;
  await world.traffic(2);
  await world.settle();
  world.reader.resetCounters();
  const deps = {
    config: world.config,
    chain: world.chain,
    reader: world.reader,
    store: world.direct,
    publisher: world.publisher,
    clock: world.clock,
    owner: 'cost',
  };
  const blocks = 60;
  for (let i = 0; i < blocks; i++) {
    await world.traffic(1);
    const { result } = await pollOnce(deps);
    expect(result.kind).toBe('advanced');
  }
  const main = world.reader.counters();
  const check = world.reader.crossCheckCounters();
  const metric = {
    blocks,
    polls: blocks,
    readCallsPerBlock: main.rpcCalls / blocks,
    readRequestsPerBlock: main.httpRequests / blocks,
    crossCheckCallsPerBlock: check.rpcCalls / blocks,
    crossCheckRequestsPerBlock: check.httpRequests / blocks,
  };
  mkdirSync(reliabilityDir(), { recursive: true });
  writeFileSync(join(reliabilityDir(), 'metric-cross-check-cost.json'), JSON.stringify(metric, null, 2));
  // Every 10th poll: one eth_blockNumber and one eth_getBlockByNumber per endpoint.
  expect(metric.crossCheckCallsPerBlock).toBeLessThanOrEqual(0.5);
  expect(metric.crossCheckCallsPerBlock / metric.readCallsPerBlock).toBeLessThan(0.15);
});
