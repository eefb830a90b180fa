/**
 * An EVM endpoint with user info (`https://user:key@node/`): fetch refuses such URLs, so before the
 * shared HttpTarget the call failed and its error quoted the URL, password included. Now the
 * credentials travel as Basic auth, as for Bitcoin Core, and never appear in an error.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { JsonRpcClient, RpcCallError } from '../../../functions/adapters/evm/json-rpc-client.ts';

describe('EVM endpoint credentials', () => {
  it('are sent as Basic auth; a refusal names the endpoint without them', async () => {
    const seen: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      req.resume();
      req.on('end', () => {
        const ok = req.headers.authorization === `Basic ${Buffer.from('alice:s3cr3t-Pw').toString('base64')}`;
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        res.end(ok ? '{"jsonrpc":"2.0","id":1,"result":"0x10"}' : '{"error":"unauthorized"}');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const origin = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const good = new JsonRpcClient({
        label: 'eth',
        urls: [`http://alice:s3cr3t-Pw@${origin}/`],
        timeoutMs: 2000,
        batchSize: 1,
      });
      expect(await good.call({ method: 'eth_blockNumber', params: [] })).toBe('0x10');

      const wrong = new JsonRpcClient({
        label: 'eth',
        urls: [`http://alice:guess-Pw9@${origin}/`],
        timeoutMs: 2000,
        batchSize: 1,
        maxAttempts: 1,
      });
      const error = await wrong.call({ method: 'eth_blockNumber', params: [] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RpcCallError);
      expect((error as Error).message).toContain(`failed on http://${origin}: http-status (HTTP 401`);
      expect((error as Error).message).not.toMatch(/alice|guess-Pw9/);
      expect(seen).toHaveLength(2);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
