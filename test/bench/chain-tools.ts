/**
 * What the benchmarks need to drive a local chain fast: raw JSON-RPC batches, transactions signed
 * here with explicit nonces (no per-transaction round trip, no node-side account state), and a
 * newHeads subscription that says when each block was mined.
 */
import { computeAddress, HDNodeWallet, SigningKey, Transaction } from 'ethers';

/** anvil's (and hardhat's) development mnemonic; its first 10 accounts hold 10 000 ETH each. */
const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';
export const LOCAL_CHAIN_ID = 31337;

export interface RpcRequest {
  readonly method: string;
  readonly params: readonly unknown[];
}

let nextId = 1;

/** One HTTP request carrying `calls`; answers in call order. Throws on any error answer. */
export async function rpcBatch<T = unknown>(url: string, calls: readonly RpcRequest[]): Promise<T[]> {
  if (calls.length === 0) return [];
  const ids = calls.map(() => nextId++);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(calls.map((c, i) => ({ jsonrpc: '2.0', id: ids[i], method: c.method, params: c.params }))),
    signal: AbortSignal.timeout(30_000),
  });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const answers = (await response.json()) as { id: number; result?: unknown; error?: { message: string } }[];
  const byId = new Map(answers.map((a) => [a.id, a]));
  return ids.map((id, i) => {
    const answer = byId.get(id);
    if (!answer) throw new Error(`${calls[i]!.method}: no answer`);
    if (answer.error) throw new Error(`${calls[i]!.method}: ${answer.error.message}`);
    return answer.result as T;
  });
}

export async function rpc<T = unknown>(url: string, method: string, params: readonly unknown[] = []): Promise<T> {
  const [result] = await rpcBatch<T>(url, [{ method, params }]);
  return result as T;
}

/** Private keys of anvil's 10 default accounts. */
export function devAccountKeys(): string[] {
  const root = HDNodeWallet.fromPhrase(ANVIL_MNEMONIC, undefined, "m/44'/60'/0'/0");
  return Array.from({ length: 10 }, (_, i) => root.deriveChild(i).privateKey);
}

export interface UnsignedTx {
  /** null deploys `data` as a contract. */
  readonly to: string | null;
  readonly value?: bigint;
  readonly data?: string;
  readonly gas: number;
}

export interface SignedTx {
  readonly raw: string;
  readonly hash: string;
  readonly from: string;
  readonly nonce: number;
}

/** Signs EIP-1559 transactions locally, counting nonces itself (the account sends nothing else). */
export class RawSigner {
  readonly address: string;
  private readonly key: SigningKey;
  private nonce = 0;

  constructor(privateKey: string) {
    this.key = new SigningKey(privateKey);
    this.address = computeAddress(this.key.publicKey).toLowerCase();
  }

  get nextNonce(): number {
    return this.nonce;
  }

  sign(tx: UnsignedTx): SignedTx {
    const nonce = this.nonce++;
    const t = Transaction.from({
      type: 2,
      chainId: LOCAL_CHAIN_ID,
      nonce,
      to: tx.to,
      value: tx.value ?? 0n,
      data: tx.data ?? '0x',
      gasLimit: BigInt(tx.gas),
      maxFeePerGas: 50_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
    });
    t.signature = this.key.sign(t.unsignedHash);
    return { raw: t.serialized, hash: t.hash!.toLowerCase(), from: this.address, nonce };
  }
}

export function sendRaw(txs: readonly SignedTx[]): RpcRequest[] {
  return txs.map((t) => ({ method: 'eth_sendRawTransaction', params: [t.raw] }));
}

/**
 * Wall-clock (performance.now) arrival of every new head, from an `eth_subscribe newHeads` WebSocket:
 * anvil pushes the header as soon as it has mined the block, so this is the block's mine time to
 * within the event loop's latency — far tighter than the 1-second block timestamp.
 */
export class HeadWatcher {
  private readonly seen = new Map<number, number>();
  private waiters: ((n: number) => void)[] = [];

  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as { params?: { result?: { number?: string } } };
      const hex = message.params?.result?.number;
      if (!hex) return;
      const n = Number(hex);
      this.seen.set(n, performance.now());
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w(n);
    });
  }

  static async open(httpUrl: string): Promise<HeadWatcher> {
    const socket = new WebSocket(httpUrl.replace(/^http/, 'ws'));
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true });
      socket.addEventListener('error', () => reject(new Error(`no WebSocket at ${httpUrl}`)), { once: true });
    });
    const watcher = new HeadWatcher(socket);
    const subscribed = new Promise<void>((resolve) => {
      const onMessage = (event: MessageEvent) => {
        if (String(event.data).includes('"id":1')) {
          socket.removeEventListener('message', onMessage);
          resolve();
        }
      };
      socket.addEventListener('message', onMessage);
    });
    socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] }));
    await subscribed;
    return watcher;
  }

  /** When block `n` arrived, if it did. */
  minedAt(n: number): number | undefined {
    return this.seen.get(n);
  }

  /** The next block to arrive. */
  next(timeoutMs = 10_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no new block within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push((n) => {
        clearTimeout(timer);
        resolve(n);
      });
    });
  }

  close(): void {
    this.socket.close();
  }
}

/** A seeded PRNG (mulberry32): the same traffic on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
