/**
 * Endpoint failover. The healthy endpoint is always a real anvil; the faulty one is either a real
 * misconfiguration (nothing listening, another chain) or the small fault server (fault-server.ts) for
 * what a real node cannot be made to do: HTTP 500, error envelopes, broken JSON, lost ids, hangs, a
 * lagging node, answers from two forks.
 */
import { createServer } from 'node:net';
import { parseEther, parseUnits } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvmChainReader, type EvmChainReaderOptions } from '../../../functions/adapters/evm/evm-chain-reader.ts';
import { RpcCallError } from '../../../functions/adapters/evm/json-rpc-client.ts';
import { isBreakerError } from '../../../functions/core/errors.ts';
import type { RangeRead } from '../../../functions/core/model.ts';
import { type Anvil, deployRevertOnReceive, deployTestToken, startAnvil } from '../../support/anvil.ts';
import { type Behaviour, errorEnvelopes, type FaultServer, startFaultServer } from './fault-server.ts';
import { evmChainConfig, lower, mineBlockWith, mintData, transferData } from './fixtures.ts';

let anvil: Anvil;
let otherChain: Anvil;
let fork: Anvil;
let hot: string;
let head: number;
let expected: RangeRead;
const servers: FaultServer[] = [];

beforeAll(async () => {
  [anvil, otherChain, fork] = await Promise.all([startAnvil(), startAnvil({ chainId: 1 }), startAnvil()]);
  const [deployer, hotWallet, recipient] = anvil.accounts.map((w) => w.address) as [string, string, string];
  hot = hotWallet;
  const usdt = await (await deployTestToken(anvil, { symbol: 'USDT', decimals: 6 })).getAddress();
  const refuser = await (await deployRevertOnReceive(anvil)).getAddress();
  await mineBlockWith(anvil, [{ from: deployer, to: usdt, data: mintData(hot, parseUnits('1000', 6)) }]);
  await mineBlockWith(anvil, [
    { from: hot, to: recipient, value: parseEther('1') },
    { from: hot, to: refuser, value: parseEther('50'), gas: 100_000 },
    { from: hot, to: usdt, data: transferData(recipient, parseUnits('250', 6)) },
  ]);
  await anvil.mine(2);
  head = await anvil.provider.getBlockNumber();

  // Same chain id, different history: its block 1 is a plain payment, not a deployment.
  await mineBlockWith(fork, [{ from: deployer, to: recipient, value: 1n }]);
  await fork.mine(head);

  expected = await reader([anvil.url]).readRange(1, head);
  expect(expected.transfers.map((t) => [t.contract, t.amount])).toEqual([
    [null, parseEther('1')],
    [lower(usdt), parseUnits('250', 6)],
  ]);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await Promise.all([anvil, otherChain, fork].map((a) => a?.stop()));
});

function reader(
  rpc: string[],
  extra: { rpcBatchSize?: number; rpcTimeoutMs?: number } = {},
  options: EvmChainReaderOptions = {},
) {
  return new EvmChainReader(evmChainConfig({ rpc, hotWallets: [hot], ...extra }), { backoffMs: 1, ...options });
}

async function faulty(behaviour: Behaviour, target = anvil.url): Promise<FaultServer> {
  const server = await startFaultServer(behaviour, target);
  servers.push(server);
  return server;
}

async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

describe('EvmChainReader fails over to the next endpoint', () => {
  const faults: [string, () => Promise<string>, { rpcTimeoutMs?: number }?][] = [
    ['nothing listening', deadUrl],
    ['HTTP 500', async () => (await faulty(() => ({ status: 500, body: 'upstream exploded' }))).url],
    ['HTTP 429', async () => (await faulty(() => ({ status: 429, body: { error: 'rate limited' } }))).url],
    ['a JSON-RPC error envelope in HTTP 200', async () => (await faulty(errorEnvelopes(-32000, 'backend down'))).url],
    ['malformed JSON', async () => (await faulty(() => ({ body: '<html>502 Bad Gateway</html>' }))).url],
    ['no answer within the timeout', async () => (await faulty(() => 'hang')).url, { rpcTimeoutMs: 150 }],
    [
      'answers with ids it was not asked for',
      async () =>
        (
          await faulty(async (messages, forward) => ({
            body: (await forward(messages)).map((r) => ({ ...r, id: Number(r.id) + 1000 })),
          }))
        ).url,
    ],
    [
      'a lagging node (null blocks, no logs)',
      async () =>
        (
          await faulty(async (messages, forward) => ({
            body: (
              await forward(messages)
            ).map((r, i) => {
              const method = messages[i]!.method;
              if (method === 'eth_getBlockByNumber') return { ...r, result: null };
              if (method === 'eth_getLogs') return { ...r, result: [] };
              return r;
            }),
          }))
        ).url,
    ],
  ];

  it.each(faults)('first endpoint: %s', async (_name, makeUrl, extra) => {
    const r = reader([await makeUrl(), anvil.url], { ...extra });

    expect(await r.readRange(1, head)).toEqual(expected);
    expect(r.counters().failedRequests).toBe(1);
    // Sticky: later reads go straight to the endpoint that worked.
    expect(await r.readRange(1, head)).toEqual(expected);
    expect(await r.head()).toBe(head);
    expect(r.counters().failedRequests).toBe(1);
  });

  it('never uses an endpoint serving another chain', async () => {
    const r = reader([otherChain.url, anvil.url]);
    expect(await r.readRange(1, head)).toEqual(expected);
    expect(await r.head()).toBe(head);
    expect(r.counters().failedRequests).toBe(1);

    const only = reader([otherChain.url]);
    const error = await only.head().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcCallError);
    expect((error as RpcCallError).reason).toBe('wrong-chain');
    expect((error as Error).message).toContain('serves chain id 0x1, expected 31337');
  });

  it('throws ChainReadError naming the method, endpoint and reason when every endpoint fails', async () => {
    const broken = await faulty(() => ({ status: 503, body: 'maintenance' }));
    const dead = await deadUrl();
    const r = reader([broken.url, dead]);

    const error = await r.head().catch((e: unknown) => e);

    expect(isBreakerError(error, 'CHAIN_READ')).toBe(true);
    const e = error as RpcCallError;
    expect(e.method).toBe('eth_blockNumber');
    expect(e.attempts.map((a) => [a.endpoint, a.reason])).toEqual([
      [broken.url, 'http-status'],
      [dead, 'connection'],
      [broken.url, 'http-status'],
      [dead, 'connection'],
    ]);
    expect(e.message).toMatch(/eth_blockNumber failed on http:\/\/127\.0\.0\.1:\d+: connection/);
    expect(e.message).toContain(broken.url);
    expect(broken.requests).toBe(2);
  });

  it('reads receipts one by one where eth_getBlockReceipts is missing, still dropping reverted sends', async () => {
    const proxy = await faulty(async (messages, forward) => {
      const answers = await forward(messages);
      return {
        body: answers.map((a, i) =>
          messages[i]!.method === 'eth_getBlockReceipts'
            ? {
                jsonrpc: '2.0',
                id: a.id,
                error: { code: -32601, message: 'the method eth_getBlockReceipts does not exist/is not available' },
              }
            : a,
        ),
      };
    });
    const r = reader([proxy.url]);

    expect(await r.readRange(1, head)).toEqual(expected);
    expect(await r.readRange(1, head)).toEqual(expected);
    // Three attempts the first time, then never again; the candidate transactions' receipts instead.
    expect(proxy.methods.filter((m) => m === 'eth_getBlockReceipts')).toHaveLength(3);
    expect(proxy.methods.filter((m) => m === 'eth_getTransactionReceipt')).toHaveLength(4);
  });
});

describe('EvmChainReader refuses answers from two forks', () => {
  it('when consecutive blocks do not link (requests answered by different nodes)', async () => {
    const splitBrain = await faulty((messages, forward) => {
      const late = messages.some((m) => m.method === 'eth_getBlockByNumber' && Number(m.params[0]) >= 3);
      return forward(messages, late ? fork.url : anvil.url).then((body) => ({ body }));
    });
    const r = reader([splitBrain.url], { rpcBatchSize: 2 });

    const error = await r.readRange(1, head).catch((e: unknown) => e);
    expect(isBreakerError(error, 'CHAIN_READ')).toBe(true);
    expect((error as Error).message).toMatch(
      /block \d+ has parent 0x[0-9a-f]{64}, but block \d+ read as .*different forks/,
    );
  });

  it('when a log’s block hash is not the hash of the block read', async () => {
    const rewriter = await faulty(async (messages, forward) => ({
      body: (await forward(messages)).map((a, i) =>
        messages[i]!.method === 'eth_getLogs'
          ? {
              ...a,
              result: (a.result as { blockHash: string }[]).map((log) => ({
                ...log,
                blockHash: `0x${'ee'.repeat(32)}`,
              })),
            }
          : a,
      ),
    }));
    const error = await reader([rewriter.url])
      .readRange(1, head)
      .catch((e: unknown) => e);
    expect(isBreakerError(error, 'CHAIN_READ')).toBe(true);
    expect((error as Error).message).toMatch(/does not match the block read .*another fork/);
  });
});
