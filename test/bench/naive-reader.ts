/**
 * The naive baseline: what a first attempt with ethers looks like. A JsonRpcProvider with its own
 * batching on (its defaults: calls made within 10 ms go out together, up to 100 per request); for each
 * block `getBlock(n, true)` (transactions prefetched), then one `getTransactionReceipt` per transaction
 * (all of a block's receipts requested at once, so ethers batches them). Outflows: native value sent by
 * a hot wallet in a transaction with status 1, and ERC-20 Transfer logs from a hot wallet in receipts.
 */
import { type JsonRpcPayload, JsonRpcProvider, type JsonRpcResult } from 'ethers';
import type { FoundOutflow } from './exactness.ts';

const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';

/** Counts what ethers actually sends: HTTP requests and the JSON-RPC calls in them. */
class CountingProvider extends JsonRpcProvider {
  httpRequests = 0;
  rpcCalls = 0;

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    this.httpRequests++;
    this.rpcCalls += Array.isArray(payload) ? payload.length : 1;
    return super._send(payload);
  }
}

export interface NaiveRead {
  blocks: number;
  seconds: number;
  blocksPerSecond: number;
  rpcCallsPerBlock: number;
  httpRequestsPerBlock: number;
  outflows: FoundOutflow[];
}

export async function naiveRead(
  url: string,
  chain: string,
  hotWallets: readonly string[],
  from: number,
  to: number,
): Promise<NaiveRead> {
  const provider = new CountingProvider(url, 31337, { staticNetwork: true, cacheTimeout: -1 });
  const hot = new Set(hotWallets.map((w) => w.toLowerCase()));
  const outflows: FoundOutflow[] = [];
  const started = performance.now();
  try {
    for (let n = from; n <= to; n++) {
      const block = await provider.getBlock(n, true);
      if (!block) throw new Error(`naive: no block ${n}`);
      const txs = block.prefetchedTransactions;
      const receipts = await Promise.all(txs.map((tx) => provider.getTransactionReceipt(tx.hash)));
      txs.forEach((tx, i) => {
        const receipt = receipts[i];
        if (!receipt) throw new Error(`naive: no receipt for ${tx.hash}`);
        if (receipt.status !== 1) return;
        const from = tx.from.toLowerCase();
        if (hot.has(from) && tx.value > 0n) {
          outflows.push({
            id: `${chain}:${tx.hash.toLowerCase()}:native`,
            block: n,
            contract: null,
            from,
            to: (tx.to ?? receipt.contractAddress ?? '').toLowerCase(),
            amount: tx.value,
          });
        }
        for (const log of receipt.logs) {
          if (log.topics.length !== 3 || log.topics[0] !== TRANSFER_TOPIC) continue;
          const sender = `0x${log.topics[1]!.slice(26)}`.toLowerCase();
          const amount = BigInt(log.data);
          if (!hot.has(sender) || amount === 0n) continue;
          outflows.push({
            id: `${chain}:${tx.hash.toLowerCase()}:${log.index}`,
            block: n,
            contract: log.address.toLowerCase(),
            from: sender,
            to: `0x${log.topics[2]!.slice(26)}`.toLowerCase(),
            amount,
          });
        }
      });
    }
  } finally {
    provider.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  const blocks = to - from + 1;
  return {
    blocks,
    seconds,
    blocksPerSecond: blocks / seconds,
    rpcCallsPerBlock: provider.rpcCalls / blocks,
    httpRequestsPerBlock: provider.httpRequests / blocks,
    outflows,
  };
}
