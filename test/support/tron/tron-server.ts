/**
 * Serves a TronNode (tron-node.ts) the way java-tron does, on 127.0.0.1 and a free port:
 *  - HTTP API, solidity paths: POST /walletsolidity/{getnowblock, getblockbynum, getblockbylimitnext,
 *    gettransactioninfobyid, gettransactioninfobyblocknum, getaccount, triggerconstantcontract} (the last
 *    two at the solidified head; contract calls run on the node's anvil), with java-tron's quirks: 200 with `{}` for
 *    what it cannot serve, getblockbylimitnext end-exclusive and at most 100 blocks, addresses as
 *    41-hex, int64 amounts as plain JSON numbers (exact beyond 2^53);
 *  - Ethereum-compatible JSON-RPC at POST /jsonrpc (full-node view: produced blocks, solidified or
 *    not): eth_blockNumber, eth_getBlockByNumber, eth_getLogs, single or batched.
 * One node can be served by several servers with different faults (a lagging view, an erroring
 * endpoint, a garbled field), as several endpoints of one chain.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { id } from 'ethers';
import { evmHexOf } from '../../../functions/adapters/tron/addresses.ts';
import type { TronNode } from './tron-node.ts';

type Json = Record<string, unknown>;

export interface TronServerFaults {
  /** This endpoint's solidified head trails the node's by this many blocks. */
  lagBlocks?: number;
  /** This endpoint's JSON-RPC head trails the node's full head by this many blocks. */
  jsonRpcLagBlocks?: number;
  /** Answer HTTP 503 to every request whose path contains this. */
  failPath?: string;
  /** Rewrite an answer before it is sent (a lying or broken endpoint). */
  rewrite?: (path: string, answer: unknown) => unknown;
  /** Leave out internal_transactions (a node without vm.saveInternalTx). */
  hideInternal?: boolean;
}

export interface TronServer {
  readonly url: string;
  readonly faults: TronServerFaults;
  /** Requests received, by path. */
  readonly requests: Map<string, number>;
  close(): Promise<void>;
}

export async function serveTron(node: TronNode, faults: TronServerFaults = {}): Promise<TronServer> {
  const requests = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    void handle(node, faults, requests, req, res).catch((e) => {
      res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function handle(
  node: TronNode,
  faults: TronServerFaults,
  requests: Map<string, number>,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const path = (req.url ?? '/').split('?')[0] as string;
  requests.set(path, (requests.get(path) ?? 0) + 1);
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  if (faults.failPath && path.includes(faults.failPath)) {
    res.writeHead(503);
    res.end('unavailable');
    return;
  }
  const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
  let answer = path === '/jsonrpc' ? jsonRpc(node, faults, body) : await httpApi(node, faults, path, body);
  if (faults.rewrite) answer = faults.rewrite(path, answer);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(stringify(answer));
}

function httpApi(node: TronNode, faults: TronServerFaults, path: string, body: Json): unknown | Promise<unknown> {
  const solid = node.solidHead - (faults.lagBlocks ?? 0);
  const block = (n: number) => (n >= 0 && n <= solid ? node.blocks[n]?.block : undefined);
  const infos = (n: number) => (n <= solid ? (node.blocks[n]?.infos ?? []).map((i) => withoutInternal(i, faults)) : []);
  switch (path) {
    case '/walletsolidity/getnowblock':
      return block(solid) ?? {};
    case '/walletsolidity/getblockbynum':
      return block(Number(body.num ?? 0)) ?? {};
    case '/walletsolidity/getblockbylimitnext': {
      const start = Number(body.startNum);
      const end = Number(body.endNum);
      // java-tron: endNum exclusive, at most 100 blocks, {} for a range it cannot serve.
      if (!(start >= 0 && end > start && end - start <= 100)) return {};
      const list = [];
      for (let n = start; n < end && block(n); n++) list.push(block(n));
      return list.length > 0 ? { block: list } : {};
    }
    case '/walletsolidity/gettransactioninfobyid': {
      for (let n = 0; n <= solid; n++) {
        const info = infos(n).find((i) => i.id === body.value);
        if (info) return info;
      }
      return {};
    }
    case '/walletsolidity/gettransactioninfobyblocknum':
      return infos(Number(body.num));
    case '/walletsolidity/getaccount': {
      // java-tron: {} for an account that does not exist; `balance` left out at zero.
      const account = node.accountAt(solid, String(body.address));
      if (!account) return {};
      const assetV2 = [...account.tokens].map(([key, value]) => ({ key, value }));
      return {
        address: body.address,
        ...(account.sun !== 0n && { balance: account.sun }),
        ...(assetV2.length > 0 && { assetV2 }),
      };
    }
    case '/walletsolidity/triggerconstantcontract':
      return constantCall(node, solid, body);
    default:
      return { Error: `no such path ${path}` };
  }
}

/** A read-only contract call at the solidified state (on anvil, where the stand-in's contracts run). */
async function constantCall(node: TronNode, solid: number, body: Json): Promise<unknown> {
  const anvil = node.anvilOf();
  const blockTag = node.anvilBlockAt(solid);
  if (!anvil || blockTag === undefined) return { Error: 'the stand-in runs contracts only with an anvil' };
  const selector = id(String(body.function_selector)).slice(0, 10);
  try {
    const result = await anvil.provider.call({
      to: `0x${evmHexOf(String(body.contract_address))}`,
      data: `${selector}${String(body.parameter ?? '')}`,
      blockTag,
    });
    return { result: { result: true }, energy_used: 0, constant_result: [result.slice(2)] };
  } catch {
    return { result: { code: 'CONTRACT_EXE_ERROR', message: '' }, energy_used: 0, constant_result: [''] };
  }
}

function withoutInternal(info: Json, faults: TronServerFaults): Json {
  if (!faults.hideInternal) return info;
  const { internal_transactions: _, ...rest } = info;
  return rest;
}

function jsonRpc(node: TronNode, faults: TronServerFaults, body: unknown): unknown {
  if (Array.isArray(body)) return body.map((call) => jsonRpc(node, faults, call));
  const call = body as { id: unknown; method: string; params: unknown[] };
  const head = node.fullHead - (faults.jsonRpcLagBlocks ?? 0);
  const ok = (result: unknown) => ({ jsonrpc: '2.0', id: call.id, result });
  const number = (q: unknown) => (q === 'latest' || q === 'finalized' ? head : Number.parseInt(String(q), 16));
  const hash = (n: number) => `0x${node.blocks[n]?.block.blockID as string}`;
  switch (call.method) {
    case 'eth_blockNumber':
      return ok(`0x${head.toString(16)}`);
    case 'eth_getBlockByNumber': {
      const n = number(call.params[0]);
      if (n > head || !node.blocks[n]) return ok(null);
      return ok({
        number: `0x${n.toString(16)}`,
        hash: hash(n),
        parentHash: n === 0 ? `0x${'0'.repeat(64)}` : hash(n - 1),
      });
    }
    case 'eth_getLogs': {
      const f = call.params[0] as { fromBlock: string; toBlock: string; topics?: (string | string[] | null)[] };
      const from = number(f.fromBlock);
      const to = Math.min(number(f.toBlock), head);
      const logs: Json[] = [];
      for (let n = from; n <= to; n++) {
        let logIndex = 0;
        (node.blocks[n]?.infos ?? []).forEach((info, txIndex) => {
          for (const l of (info.log as { address: string; topics: string[]; data: string }[] | undefined) ?? []) {
            const topics = l.topics.map((t) => `0x${t}`);
            const entry = {
              address: `0x${l.address}`,
              topics,
              data: `0x${l.data}`,
              blockNumber: `0x${n.toString(16)}`,
              blockHash: hash(n),
              transactionHash: `0x${info.id as string}`,
              transactionIndex: `0x${txIndex.toString(16)}`,
              // Tron's JSON-RPC numbers logs through the block, like Ethereum.
              logIndex: `0x${(logIndex++).toString(16)}`,
              removed: false,
            };
            if (matches(topics, f.topics ?? [])) logs.push(entry);
          }
        });
      }
      return ok(logs);
    }
    default:
      return {
        jsonrpc: '2.0',
        id: call.id,
        error: { code: -32601, message: `the method ${call.method} does not exist/is not available` },
      };
  }
}

function matches(topics: string[], filter: (string | string[] | null)[]): boolean {
  return filter.every((want, i) => {
    if (want === null) return true;
    const have = topics[i]?.toLowerCase();
    return Array.isArray(want) ? want.some((w) => w.toLowerCase() === have) : want.toLowerCase() === have;
  });
}

/** JSON with bigints written as plain numbers, as java-tron writes int64 fields. */
function stringify(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `__bigint__${v}` : v)).replace(
    /"__bigint__(\d+)"/g,
    '$1',
  );
}
