import type { ChainReader, ReadableChain } from '../../core/chain-kind.ts';
import { ChainReadError, ConfigError } from '../../core/errors.ts';
import type { BlockRef, RangeRead } from '../../core/model.ts';
import type { BalanceReader } from '../../core/ports.ts';
import { describe, EndpointError, newCounters, type RequestCounters } from '../http/http-request.ts';
import { type BitcoinNetworkName, bitcoinNetwork, canonicalAddress } from './addresses.ts';
import { bitcoinBalanceAt } from './bitcoin-balances.ts';
import { type BitcoinSettings, bitcoinSettingsOf } from './bitcoin-settings.ts';
import { CoreRpcSource } from './core-rpc-source.ts';
import { EsploraSource } from './esplora-source.ts';
import { type BtcBlock, transfersOfBlocks, type WalletView } from './outflows.ts';
import type { BlockSource } from './sources.ts';

export interface BitcoinChainReaderOptions {
  /**
   * JSON-RPC calls per batch request (getblockhash, getblockheader, getrawtransaction).
   * @default 100
   */
  readonly rpcBatchSize?: number;
  /**
   * `getblock` requests in flight at once on a Core endpoint.
   * @default 2
   */
  readonly blockConcurrency?: number;
  /**
   * HTTP requests in flight at once on an Esplora endpoint.
   * @default 4
   */
  readonly esploraConcurrency?: number;
}

/** Genesis block hashes by configured network; `testnet` covers testnet3, testnet4 and signet (same address format). */
const GENESIS: Record<BitcoinNetworkName, Record<string, string>> = {
  mainnet: { '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f': 'mainnet' },
  testnet: {
    '000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943': 'testnet3',
    '00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043': 'testnet4',
    '00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6': 'signet',
  },
  regtest: { '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206': 'regtest' },
};

/**
 * Reads Bitcoin hot-wallet outflows from Bitcoin Core JSON-RPC and/or Esplora endpoints.
 *
 * Endpoints are tried in config order (rpc, then esplora); each call runs whole on one endpoint, so
 * a range is never stitched together from two nodes' views, and moves to the next endpoint on any
 * failure (unreachable, timeout, error reply, malformed or inconsistent data). The last endpoint that
 * worked is tried first next time. When every endpoint fails the call throws ChainReadError naming
 * each endpoint and why.
 *
 * Before its first use an endpoint must serve the genesis block of the configured network: a
 * mainnet config pointed at a testnet node would otherwise match no hot wallet and go blind quietly.
 *
 * Hot wallets are addresses of any standard type (P2PKH, P2SH-P2WPKH, P2WPKH, P2WSH, P2TR), matched
 * on the address the endpoint reports for each prevout, or decoded from the script when it reports
 * none. What counts as an outflow is in outflows.ts.
 */
export class BitcoinChainReader implements ChainReader, BalanceReader {
  readonly chain: string;
  private readonly sources: BlockSource[];
  private readonly wallets: WalletView;
  private readonly expectedGenesis: Record<string, string>;
  private readonly verified = new Set<BlockSource>();
  private readonly requestCounters = newCounters();
  private preferred = 0;

  constructor(config: ReadableChain, options: BitcoinChainReaderOptions = {}) {
    const raw = bitcoinSettingsOf(config);
    if (!raw) {
      throw new ConfigError(`chain ${config.id}`, [
        `chains.${config.id}.kind: the bitcoin reader needs kind "bitcoin"`,
      ]);
    }
    this.chain = config.id;
    this.wallets = walletView(config, raw);
    this.expectedGenesis = GENESIS[raw.network];
    const network = bitcoinNetwork(raw.network);
    this.sources = [
      ...raw.rpc.map(
        (url) =>
          new CoreRpcSource(url, {
            network,
            timeoutMs: raw.rpcTimeoutMs,
            batchSize: options.rpcBatchSize ?? 100,
            blockConcurrency: options.blockConcurrency ?? 2,
            counters: this.requestCounters,
            maxResponseBytes: raw.rpcMaxResponseBytes,
          }),
      ),
      ...raw.esplora.map(
        (url) =>
          new EsploraSource(url, {
            network,
            timeoutMs: raw.rpcTimeoutMs,
            concurrency: options.esploraConcurrency ?? 4,
            counters: this.requestCounters,
            maxResponseBytes: raw.rpcMaxResponseBytes,
          }),
      ),
    ];
  }

  /** Requests sent so far (for benchmarks and metrics). */
  counters(): RequestCounters {
    return { ...this.requestCounters };
  }

  /** The head of the first endpoint that answers (see the class comment for the order). */
  head(): Promise<number> {
    return this.withFailover('head()', (source) => source.head());
  }

  async readRange(from: number, to: number): Promise<RangeRead> {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from) {
      throw new RangeError(`readRange(${from}, ${to}): expected 0 <= from <= to`);
    }
    return this.withFailover(`readRange(${from}, ${to})`, async (source) => {
      const blocks = await source.readBlocks(from, to);
      checkLinks(blocks);
      return { blocks: blocks.map((b) => b.ref), transfers: transfersOfBlocks(blocks, this.wallets) };
    });
  }

  blockRefs(numbers: number[]): Promise<BlockRef[]> {
    if (numbers.length === 0) return Promise.resolve([]);
    return this.withFailover(`blockRefs(${numbers.join(', ')})`, (source) => source.blockRefs(numbers));
  }

  /** The hot wallets' BTC at a block (bitcoin-balances.ts: a lower bound, never above the balance). Bitcoin has no tokens. */
  async balancesAt(
    block: { number: number; hash: string },
    contracts: readonly (string | null)[],
  ): Promise<Map<string | null, bigint>> {
    if (!contracts.includes(null)) return new Map();
    const hot = [...this.wallets.hot.keys()];
    const sats = await this.withFailover(`balancesAt(${block.number})`, (source) =>
      bitcoinBalanceAt(source, hot, block),
    );
    return new Map([[null, sats]]);
  }

  private async withFailover<T>(what: string, op: (source: BlockSource) => Promise<T>): Promise<T> {
    const failures: string[] = [];
    const causes: unknown[] = [];
    for (let attempt = 0; attempt < this.sources.length; attempt++) {
      const i = (this.preferred + attempt) % this.sources.length;
      const source = this.sources[i] as BlockSource;
      try {
        await this.verifyNetwork(source);
        const result = await op(source);
        this.preferred = i;
        return result;
      } catch (e) {
        this.requestCounters.endpointFailures++;
        failures.push(`${source.label}: ${e instanceof EndpointError ? e.message : `malformed data: ${describe(e)}`}`);
        causes.push(e);
      }
    }
    throw new ChainReadError(`${this.chain}: ${what} failed on every endpoint:\n  - ${failures.join('\n  - ')}`, {
      cause: new AggregateError(causes),
    });
  }

  private async verifyNetwork(source: BlockSource): Promise<void> {
    if (this.verified.has(source)) return;
    const genesis = await source.genesisHash();
    if (!(genesis in this.expectedGenesis)) {
      const known = Object.values(GENESIS).find((names) => genesis in names)?.[genesis];
      throw new EndpointError(
        `serves ${known ?? 'an unknown chain'} (genesis ${genesis}), but the config says network ${Object.values(this.expectedGenesis).join('/')}`,
      );
    }
    this.verified.add(source);
  }
}

function checkLinks(blocks: BtcBlock[]): void {
  for (let i = 1; i < blocks.length; i++) {
    const prev = (blocks[i - 1] as BtcBlock).ref;
    const ref = (blocks[i] as BtcBlock).ref;
    if (ref.parentHash !== prev.hash) {
      throw new EndpointError(
        `block ${ref.number} (${ref.hash}) has parent ${ref.parentHash}, not block ${prev.number} (${prev.hash}): the chain changed during the read`,
      );
    }
  }
}

/** Validate the configured addresses for the network (the schema only checks their shape) and index them. */
function walletView(config: ReadableChain, raw: BitcoinSettings): WalletView {
  const network = bitcoinNetwork(raw.network);
  const issues: string[] = [];
  const hot = new Map<string, string>();
  config.hotWallets.forEach((written, i) => {
    try {
      hot.set(canonicalAddress(written, network), written);
    } catch (e) {
      issues.push(`chains.${config.id}.hotWallets[${i}]: ${describe(e)}`);
    }
  });
  raw.ownAddresses.forEach((written, i) => {
    try {
      canonicalAddress(written, network);
    } catch (e) {
      issues.push(`chains.${config.id}.ownAddresses[${i}]: ${describe(e)}`);
    }
  });
  if (issues.length > 0) throw new ConfigError(`chain ${config.id}`, issues);

  // ownAddresses also holds other chains' hot wallets (EVM, other Bitcoin networks): skip what is not ours.
  const spelling = new Map<string, string>();
  for (const written of config.ownAddresses) {
    try {
      spelling.set(canonicalAddress(written, network), written);
    } catch {}
  }
  return { chain: config.id, hot, spelling };
}
