/**
 * The head cross-check against a real anvil behind fault proxies: which endpoint it takes out of
 * use, that it gives it back once it is healthy again, and that it refuses to answer when endpoints
 * disagree with no majority.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EvmChainReader } from '../../../functions/adapters/evm/evm-chain-reader.ts';
import { isBreakerError } from '../../../functions/core/errors.ts';
import { type Anvil, startAnvil } from '../../support/anvil.ts';
import { type FaultProxy, rpcFaults, startFaultProxy } from '../../support/fault-proxy.ts';
import { evmChainConfig } from './fixtures.ts';

let anvil: Anvil;
let proxies: FaultProxy[] = [];

beforeAll(async () => {
  anvil = await startAnvil({ noMining: true });
  await anvil.mine(40);
});
afterAll(async () => {
  await anvil.stop();
});
afterEach(async () => {
  await Promise.all(proxies.map((p) => p.stop()));
  proxies = [];
});

async function endpoints(n: number): Promise<FaultProxy[]> {
  proxies = await Promise.all(Array.from({ length: n }, () => startFaultProxy(anvil.url)));
  return proxies;
}

function reader(urls: string[]) {
  // No case here waits for a timeout (faults answer wrongly, never slowly), so the timeout only has to
  // be longer than a loopback call on a busy machine: at 200 ms every endpoint timed out at load 19.
  const config = evmChainConfig({ rpc: urls, hotWallets: [anvil.accounts[1]!.address], rpcTimeoutMs: 5000 });
  return new EvmChainReader(config, { backoffMs: 1 });
}

describe('head cross-check', () => {
  it('suspends a stuck endpoint for lagging, reads from the other, and resumes it once it catches up', async () => {
    const [a, b] = await endpoints(2);
    let frozen = Number(await anvil.rpc<string>('eth_blockNumber'));
    a!.set(rpcFaults.staleHead(() => frozen));
    const r = reader([a!.url, b!.url]);
    await anvil.mine(10);
    const head = Number(await anvil.rpc<string>('eth_blockNumber'));

    expect(await r.head()).toBe(head);
    expect(r.crossCheck()?.endpoints.map((e) => e.verdict.status)).toEqual(['lagging', 'ok']);
    // Out of use: block reads no longer go to it.
    const before = a!.stats.requests;
    await r.readRange(head - 5, head);
    expect(a!.stats.requests).toBe(before);

    frozen = head;
    a!.set(undefined);
    for (let i = 0; i < 10; i++) await r.head();
    expect(r.crossCheck()?.endpoints.map((e) => e.verdict.status)).toEqual(['ok', 'ok']);
  });

  it('a head ahead of reality: the endpoint that cannot serve its own head is suspended', async () => {
    const [a, b] = await endpoints(2);
    a!.set(rpcFaults.headAhead(1000));
    const r = reader([a!.url, b!.url]);
    expect(await r.head()).toBe(Number(await anvil.rpc<string>('eth_blockNumber')));
    expect(r.crossCheck()?.endpoints[0]?.verdict).toMatchObject({ status: 'head-unservable' });
  });

  it('two endpoints on different forks and no third: no answer, a ChainReadError, until they agree', async () => {
    const [a, b] = await endpoints(2);
    b!.set(rpcFaults.forkedHashes());
    const r = reader([a!.url, b!.url]);
    const error = await r.head().catch((e: unknown) => e);
    expect(isBreakerError(error, 'CHAIN_READ')).toBe(true);
    expect((error as Error).message).toMatch(/disagree on the hash of block \d+ with no majority/);
    b!.set(undefined);
    expect(await r.head()).toBe(Number(await anvil.rpc<string>('eth_blockNumber')));
  });

  it('three endpoints, one on another fork: the minority is suspended, the head answered', async () => {
    const [a, b, c] = await endpoints(3);
    a!.set(rpcFaults.forkedHashes());
    const r = reader([a!.url, b!.url, c!.url]);
    expect(await r.head()).toBe(Number(await anvil.rpc<string>('eth_blockNumber')));
    expect(r.crossCheck()?.endpoints.map((e) => e.verdict.status)).toEqual(['forked', 'ok', 'ok']);
  });

  it('runs every rpcCrossCheckEveryPolls heads (default 10), not on every one', async () => {
    const [a, b] = await endpoints(2);
    const r = reader([a!.url, b!.url]);
    for (let i = 0; i < 30; i++) await r.head();
    // The first head, then heads 10, 20, 30: one eth_blockNumber and one block per endpoint each.
    expect(r.crossCheckCounters().rpcCalls).toBe(4 * 2 * 2 + 2 /* chain-id probes */);
  });
});
