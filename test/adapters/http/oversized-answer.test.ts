/**
 * Review §6: one endpoint streaming a 537 MB answer took a poller from 103 MB to 865 MB (Lambda has
 * 512 MB), on every run. An answer over the cap is that endpoint failing: the read moves on to the
 * next endpoint, the error names the endpoint (redacted) and the cap, and memory stays bounded.
 * Real HTTP servers on 127.0.0.1, the real bitcoin devnet, bounded in bytes and time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { JsonRpcClient, RpcCallError } from '../../../functions/adapters/evm/json-rpc-client.ts';
import { ChainReadError } from '../../../functions/core/errors.ts';
import { BitcoinTestNode, testWallet } from '../../support/bitcoin-node.ts';
import { bitcoinReader, hugeAnswerServer } from '../bitcoin/helpers.ts';

const MiB = 1024 * 1024;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function huge(totalBytes: number, declare = false) {
  const server = await hugeAnswerServer(totalBytes, declare);
  cleanups.push(server.close);
  return server;
}

async function anvilLike() {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      const call = JSON.parse(body) as { id: number };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: call.id, result: '0x2a' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

describe('EVM JSON-RPC: an oversized answer', () => {
  it("the review's 537 MB answer: read stops at the default cap, memory stays bounded, the next endpoint answers", async () => {
    const bad = await huge(537 * MiB);
    const client = new JsonRpcClient({
      label: 'eth',
      urls: [`${bad.origin}/v3/SeCrEtKeY1234567`, await anvilLike()],
      timeoutMs: 20_000,
      batchSize: 10,
    });
    global.gc?.();
    const before = process.memoryUsage().rss;
    const started = Date.now();
    expect(await client.call({ method: 'eth_blockNumber', params: [] })).toBe('0x2a');
    expect(Date.now() - started).toBeLessThan(15_000);
    // Before: +762 MB. The cap (64 MiB) plus one copy as a string, with room for the GC's timing.
    expect(process.memoryUsage().rss - before).toBeLessThan(300 * MiB);
    expect(bad.state.sent).toBeLessThan(200 * MiB);
    expect(client.counters().failedRequests).toBe(1);
  }, 30_000);

  it('every endpoint too large: RpcCallError "too-large" naming each endpoint redacted, and the cap', async () => {
    const a = await huge(8 * MiB);
    const b = await huge(8 * MiB, true);
    const client = new JsonRpcClient({
      label: 'eth',
      urls: [`${a.origin}/v2/AbCdEf0123456789`, `${b.origin}/?apikey=zzz-secret`],
      timeoutMs: 5000,
      batchSize: 10,
      maxAttempts: 2,
      maxResponseBytes: MiB,
    });
    const error = await client.call({ method: 'eth_blockNumber', params: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcCallError);
    const e = error as RpcCallError;
    expect(e.attempts.map((x) => [x.endpoint, x.reason])).toEqual([
      [`${a.origin}/v2/***`, 'too-large'],
      [b.origin, 'too-large'],
    ]);
    expect(e.attempts[0]!.detail).toMatch(/^answer exceeds the cap of 1048576 bytes/);
    expect(e.attempts[1]!.detail).toBe(`answer of ${8 * MiB + 0} bytes exceeds the cap of 1048576 bytes`);
    expect(e.message).not.toContain('AbCdEf0123456789');
    expect(e.message).not.toContain('zzz-secret');
  });
});

describe('Bitcoin Core and Esplora: an oversized answer', () => {
  const hot = testWallet('hot-a', 'p2wpkh');

  async function node() {
    const n = new BitcoinTestNode({});
    await n.start();
    cleanups.push(() => n.stop());
    n.mine({ coinbase: [{ to: hot.address, value: 1_00000000n }] });
    return n;
  }

  it('a Core or Esplora endpoint answering too much fails over to the next endpoint', async () => {
    const n = await node();
    const bad = await huge(64 * MiB);
    const coreFirst = bitcoinReader({
      hotWallets: [hot.address],
      rpc: [`${bad.origin.replace('://', '://watcher:pa55word@')}/wallet/hot`],
      esplora: [n.esploraUrl],
      rpcMaxResponseBytes: MiB,
    });
    expect(await coreFirst.head()).toBe(1);
    expect(coreFirst.counters().endpointFailures).toBe(1);
    expect(bad.state.sent).toBeLessThan(16 * MiB);

    const esploraFirst = bitcoinReader({
      hotWallets: [hot.address],
      esplora: [`${bad.origin}/api/Xk2pQ9zzKEY`, n.esploraUrl],
      rpcMaxResponseBytes: MiB,
    });
    expect(await esploraFirst.head()).toBe(1);
  });

  it('only oversized endpoints: ChainReadError naming them redacted and the cap, never the credentials or key', async () => {
    const bad = await huge(4 * MiB, true);
    const reader = bitcoinReader({
      hotWallets: [hot.address],
      rpc: [`${bad.origin.replace('://', '://watcher:pa55word@')}/`],
      esplora: [`${bad.origin}/api/Xk2pQ9zzKEY?token=t0ken`],
      rpcMaxResponseBytes: MiB,
    });
    const error = await reader.head().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChainReadError);
    const message = (error as Error).message;
    expect(message).toContain(`rpc ${bad.origin}: answer of ${4 * MiB} bytes exceeds the cap of 1048576 bytes`);
    expect(message).toContain(`esplora ${bad.origin}/api/***: answer of ${4 * MiB} bytes exceeds the cap`);
    for (const secret of ['pa55word', 'watcher', 'Xk2pQ9zzKEY', 't0ken']) expect(message).not.toContain(secret);
  });
});
