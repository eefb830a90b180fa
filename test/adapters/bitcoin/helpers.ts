import { createServer } from 'node:net';
import {
  BitcoinChainReader,
  type BitcoinChainReaderOptions,
} from '../../../functions/adapters/bitcoin/bitcoin-chain-reader.ts';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import type { ChainConfig } from '../../../functions/core/config/types.ts';

export interface BitcoinChainInput {
  network?: 'mainnet' | 'testnet' | 'regtest';
  rpc?: string[];
  esplora?: string[];
  hotWallets: string[];
  ownAddresses?: string[];
  rpcTimeoutMs?: number;
  rpcMaxResponseBytes?: number;
}

/** A bitcoin ChainConfig as the core compiles it from a config file (chain id `btc`). */
export function bitcoinChainConfig(input: BitcoinChainInput): ChainConfig {
  const config = compileConfig(
    {
      name: 'btc-test',
      chains: {
        btc: {
          kind: 'bitcoin',
          network: input.network ?? 'regtest',
          rpc: input.rpc ?? [],
          esplora: input.esplora ?? [],
          rpcTimeoutMs: input.rpcTimeoutMs ?? 5_000,
          ...(input.rpcMaxResponseBytes !== undefined && { rpcMaxResponseBytes: input.rpcMaxResponseBytes }),
          confirmations: 0,
          blockTimeSeconds: 600,
          hotWallets: input.hotWallets,
          ownAddresses: input.ownAddresses ?? [],
          native: { symbol: 'BTC', decimals: 8, usdPrice: 100_000 },
        },
      },
      limits: { global: { usd: { '1h': 1_000_000 } } },
    },
    'test config',
  );
  const chain = config.chains.get('btc');
  if (!chain) throw new Error('chain btc missing');
  return chain;
}

export function bitcoinReader(input: BitcoinChainInput, options?: BitcoinChainReaderOptions): BitcoinChainReader {
  return new BitcoinChainReader(bitcoinChainConfig(input), options);
}

/** A loopback URL nothing listens on (a port just freed), so connecting is refused at once. */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/`;
}

/** A loopback server that accepts connections and never answers: for timeouts. */
export async function silentServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A loopback endpoint that answers every request 200 with a body of `totalBytes` (chunked, so no
 * Content-Length to refuse early, unless `declare`), at socket speed, as a malicious or broken
 * endpoint would. Stops writing when the client hangs up. `sent` counts what it wrote.
 */
export async function hugeAnswerServer(totalBytes: number, declare = false) {
  const { createServer: createHttpServer } = await import('node:http');
  const state = { sent: 0, hungUp: 0 };
  const chunk = Buffer.alloc(1024 * 1024, ' ');
  const server = createHttpServer((req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      ...(declare && { 'content-length': String(totalBytes) }),
    });
    res.write('{"jsonrpc":"2.0","id":1,"result":"');
    let left = totalBytes;
    const pump = () => {
      while (left > 0 && !res.destroyed) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= piece.length;
        state.sent += piece.length;
        if (!res.write(piece)) return;
      }
      if (left <= 0) res.end();
    };
    res.on('drain', pump);
    req.socket.on('close', () => state.hungUp++);
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    origin: `http://127.0.0.1:${port}`,
    state,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
