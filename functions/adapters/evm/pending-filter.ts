import { ChainReadError } from '../../core/errors.ts';
import type { PendingHotTransaction } from '../../core/ports.ts';
import { isMethodUnsupported, type JsonRpcClient, RpcCallError } from './json-rpc-client.ts';

/**
 * The hot wallets' transactions entering the endpoint's mempool, over plain HTTP (so it works in a
 * Lambda): one `eth_newPendingTransactionFilter`, kept across polls, and each poll
 * `eth_getFilterChanges` for the hashes that arrived since, then `eth_getTransactionByHash` for them
 * (batched) to keep those sent by a hot wallet. The nonce watermark uses it to name the transaction
 * in its page (core/use-cases/check-watermark.ts).
 *
 * A node forgets an idle filter (geth after 5 minutes), and behind a load balancer or after failover
 * the next poll may reach a node that never had it: "filter not found" re-creates the filter, and
 * whatever arrived in between is seen by the pending-nonce check, only without its hash. An endpoint
 * that refuses filters (method not found) is not asked again: the check falls back to the pending
 * nonce alone.
 *
 * Cost: one request for the changes plus one lookup per pending transaction the node saw — on a busy
 * chain that is every public transaction since the last poll, so use it with your own node.
 */
export class PendingTransactionFilter {
  private filterId: string | undefined;
  private refused = false;

  constructor(
    private readonly client: JsonRpcClient,
    /** Normalised (lower-case) hot-wallet addresses. */
    private readonly hotWallets: ReadonlySet<string>,
  ) {}

  /** Hot-wallet transactions that entered the mempool since the last call; undefined when the endpoint refuses filters. */
  async newHotTransactions(): Promise<PendingHotTransaction[] | undefined> {
    if (this.refused) return undefined;
    try {
      const hashes = await this.changes();
      if (hashes.length === 0) return [];
      const txs = await this.client.batch(
        hashes.map((hash) => ({ method: 'eth_getTransactionByHash', params: [hash], nullable: true })),
      );
      return txs.flatMap((tx) => {
        const hot = hotTransaction(tx, this.hotWallets);
        return hot ? [hot] : [];
      });
    } catch (e) {
      if (e instanceof RpcCallError && e.attempts.every(isMethodUnsupported)) {
        this.refused = true;
        return undefined;
      }
      throw e;
    }
  }

  private async changes(): Promise<string[]> {
    this.filterId ??= await this.create();
    try {
      return hashesOf(await this.client.call({ method: 'eth_getFilterChanges', params: [this.filterId] }));
    } catch (e) {
      if (!(e instanceof RpcCallError && e.attempts.some((a) => /filter not found/i.test(a.detail)))) throw e;
      this.filterId = await this.create();
      return [];
    }
  }

  private async create(): Promise<string> {
    const id = await this.client.call({ method: 'eth_newPendingTransactionFilter', params: [] });
    if (typeof id !== 'string' || !/^0x[0-9a-f]+$/i.test(id)) {
      throw new ChainReadError(
        `eth_newPendingTransactionFilter: not a filter id (${JSON.stringify(id)?.slice(0, 80)})`,
      );
    }
    return id;
  }
}

function hashesOf(result: unknown): string[] {
  if (!Array.isArray(result) || !result.every((h) => typeof h === 'string' && /^0x[0-9a-f]{64}$/i.test(h))) {
    throw new ChainReadError(
      `eth_getFilterChanges: not a list of transaction hashes (${JSON.stringify(result)?.slice(0, 80)})`,
    );
  }
  return result.map((h) => h.toLowerCase());
}

/** The transaction when a hot wallet sent it; null results (dropped or mined meanwhile) are skipped. */
function hotTransaction(tx: unknown, hotWallets: ReadonlySet<string>): PendingHotTransaction | undefined {
  if (tx === null || typeof tx !== 'object') return undefined;
  const { from, nonce, hash } = tx as Record<string, unknown>;
  if (typeof from !== 'string' || !hotWallets.has(from.toLowerCase())) return undefined;
  if (typeof nonce !== 'string' || !/^0x[0-9a-f]+$/i.test(nonce) || typeof hash !== 'string') {
    throw new ChainReadError(`eth_getTransactionByHash: malformed transaction from hot wallet ${from}`);
  }
  return { wallet: from.toLowerCase(), nonce: BigInt(nonce), hash: hash.toLowerCase() };
}
