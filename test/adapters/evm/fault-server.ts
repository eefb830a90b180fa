/**
 * The one stand-in that is not a real node: a JSON-RPC endpoint on 127.0.0.1 for faults anvil cannot
 * produce (HTTP 500, error envelopes in HTTP 200, broken JSON, lost ids, hangs, a lagging or forked
 * node). Each request goes to a `behaviour`, which may forward it, unchanged or not, to a real node.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RpcMessage {
  jsonrpc: '2.0';
  id: number | string;
  method: string;
  params: unknown[];
}

export interface RpcResponse {
  jsonrpc: '2.0';
  id: number | string | null;
  result?: unknown;
  error?: { code: number; message: string };
}

/** What to answer: a status and body (an object is sent as JSON), or never answer at all. */
export type Reply = { status?: number; body: unknown } | 'hang';

export type Forward = (messages: RpcMessage[], url?: string) => Promise<RpcResponse[]>;

export type Behaviour = (messages: RpcMessage[], forward: Forward) => Promise<Reply> | Reply;

export interface FaultServer {
  readonly url: string;
  /** HTTP requests received. */
  readonly requests: number;
  /** Methods of every call received, in order. */
  readonly methods: readonly string[];
  stop(): Promise<void>;
}

/** `target` is where `forward` sends calls unless given another URL. */
export async function startFaultServer(behaviour: Behaviour, target?: string): Promise<FaultServer> {
  let requests = 0;
  const methods: string[] = [];
  const forward: Forward = async (messages, url = target) => {
    if (!url) throw new Error('fault server: nowhere to forward to');
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(messages),
    });
    return (await response.json()) as RpcResponse[];
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    req.on('end', async () => {
      requests++;
      const parsed = JSON.parse(text) as RpcMessage | RpcMessage[];
      const single = !Array.isArray(parsed);
      const messages = single ? [parsed] : parsed;
      methods.push(...messages.map((m) => m.method));
      try {
        const reply = await behaviour(messages, forward);
        if (reply === 'hang') return;
        let body = reply.body;
        if (single && Array.isArray(body) && body.length === 1) body = body[0];
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      } catch (e) {
        res.writeHead(599);
        res.end(String(e));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    get methods() {
      return methods;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Answers every call with the same JSON-RPC error envelope, in HTTP 200. */
export function errorEnvelopes(code: number, message: string): Behaviour {
  return (messages) => ({
    body: messages.map((m) => ({ jsonrpc: '2.0', id: m.id, error: { code, message } })),
  });
}
