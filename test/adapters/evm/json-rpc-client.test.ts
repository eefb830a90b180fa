/**
 * The JSON-RPC client against anvil. Where a test must see what went over the wire, a transparent
 * fault-server proxy (fault-server.ts) stands between client and node and only records.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonRpcClient, RpcCallError, splitEvenly } from '../../../functions/adapters/evm/json-rpc-client.ts';
import { type Anvil, startAnvil } from '../../support/anvil.ts';
import { type FaultServer, type RpcMessage, startFaultServer } from './fault-server.ts';

let anvil: Anvil;
const servers: FaultServer[] = [];

beforeAll(async () => {
  anvil = await startAnvil();
  await anvil.mine(30);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await anvil?.stop();
});

async function recorder(): Promise<{ server: FaultServer; sizes: number[] }> {
  const sizes: number[] = [];
  const server = await startFaultServer(async (messages, forward) => {
    sizes.push(messages.length);
    return { body: await forward(messages) };
  }, anvil.url);
  servers.push(server);
  return { server, sizes };
}

function client(urls: string[], batchSize = 10) {
  return new JsonRpcClient({ label: 'chain local', urls, timeoutMs: 2000, batchSize, backoffMs: 1 });
}

const blockCall = (n: number) => ({ method: 'eth_getBlockByNumber', params: [`0x${n.toString(16)}`, false] });

describe('JsonRpcClient', () => {
  it('splits a batch into even requests of at most batchSize calls and keeps the results in order', async () => {
    const { server, sizes } = await recorder();
    const c = client([server.url], 10);

    const blocks = (await c.batch(Array.from({ length: 25 }, (_, n) => blockCall(n)))) as { number: string }[];

    expect(blocks.map((b) => Number(b.number))).toEqual(Array.from({ length: 25 }, (_, n) => n));
    expect(sizes.sort()).toEqual([8, 8, 9]);
    expect(c.counters()).toEqual({ rpcCalls: 25, httpRequests: 3, failedRequests: 0 });
  });

  it('sends a single call as a plain JSON-RPC object', async () => {
    const c = client([anvil.url]);
    expect(await c.call<string>({ method: 'eth_chainId', params: [] })).toBe('0x7a69');
  });

  it('takes null as an answer only where the call allows it', async () => {
    const unknown = `0x${'12'.repeat(32)}`;
    const c = client([anvil.url]);
    expect(await c.call({ method: 'eth_getTransactionReceipt', params: [unknown], nullable: true })).toBeNull();

    const error = await c.call({ method: 'eth_getTransactionReceipt', params: [unknown] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcCallError);
    expect((error as RpcCallError).reason).toBe('null-result');
    expect((error as RpcCallError).attempts).toHaveLength(3);
  });

  it('rejects a result its check refuses', async () => {
    const c = client([anvil.url]);
    const error = await c
      .call({ method: 'eth_blockNumber', params: [], check: () => 'too old' })
      .catch((e: unknown) => e as RpcCallError);
    expect(error).toMatchObject({ reason: 'invalid-result', method: 'eth_blockNumber' });
    expect((error as Error).message).toContain('too old');
  });

  it('retries only the failed calls of a request on the next endpoint, unless the batch is atomic', async () => {
    const flaky = await startFaultServer(
      async (messages, forward) => ({
        body: (await forward(messages)).map((answer, i) =>
          (messages[i] as RpcMessage).params[0] === '0x3' ? { ...answer, result: null } : answer,
        ),
      }),
      anvil.url,
    );
    servers.push(flaky);
    const { server: healthy, sizes } = await recorder();

    const partial = client([flaky.url, healthy.url]);
    const blocks = (await partial.batch([1, 2, 3, 4].map(blockCall))) as { number: string }[];
    expect(blocks.map((b) => Number(b.number))).toEqual([1, 2, 3, 4]);
    expect(sizes).toEqual([1]);

    const atomic = client([flaky.url, healthy.url]);
    await atomic.batch([1, 2, 3, 4].map(blockCall), { atomic: true });
    expect(sizes).toEqual([1, 4]);
  });
});

describe('splitEvenly', () => {
  it.each([
    [1, 100, [1]],
    [100, 100, [100]],
    [101, 100, [50, 51]],
    [24, 5, [4, 5, 5, 5, 5]],
  ])('%i calls in requests of ≤ %i', (total, size, lengths) => {
    const chunks = splitEvenly(total, size);
    expect(chunks.map((c) => c.end - c.start)).toEqual(lengths);
    expect(chunks[0]!.start).toBe(0);
    expect(chunks.at(-1)!.end).toBe(total);
  });
});
