import type { Contract } from 'ethers';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import { tronAddressFromEvm } from '../../../functions/adapters/tron/addresses.ts';
import { TronChainReader, type TronChainReaderOptions } from '../../../functions/adapters/tron/tron-chain-reader.ts';
import type { ChainConfig } from '../../../functions/core/config/types.ts';
import { type Anvil, deployTestToken, startAnvil } from '../../support/anvil.ts';
import { type TronKey, TronNode, type TronNodeOptions } from '../../support/tron/tron-node.ts';
import { serveTron, type TronServer, type TronServerFaults } from '../../support/tron/tron-server.ts';

export interface TronChainInput {
  http: string[];
  jsonRpc?: string[];
  genesisBlockId: string;
  hotWallets: string[];
  ownAddresses?: string[];
  tokens?: { symbol: string; contract: string; decimals: number; usdPrice: number }[];
  rpcTimeoutMs?: number;
  blocksPerRequest?: number;
  rpcCrossCheckEveryPolls?: number;
}

/** A tron chain (id `trx`) as the core compiles it from a config file. */
export function tronChainConfig(input: TronChainInput): ChainConfig {
  const config = compileConfig(
    {
      name: 'tron-test',
      chains: {
        trx: {
          kind: 'tron',
          confirmations: 0,
          blockTimeSeconds: 3,
          native: { symbol: 'TRX', decimals: 6, usdPrice: 0.25 },
          rpcTimeoutMs: 5_000,
          ownAddresses: [],
          ...input,
        },
      },
      limits: { global: { usd: { '1h': 1_000_000 } } },
    },
    'test config',
  );
  const chain = config.chains.get('trx');
  if (!chain) throw new Error('chain trx missing');
  return chain;
}

export function tronReader(input: TronChainInput, options?: TronChainReaderOptions): TronChainReader {
  return new TronChainReader(tronChainConfig(input), options);
}

/** A Tron test world: anvil for contracts, a TronNode, one server, a hot wallet, a cold wallet, USDT. */
export interface TronWorld {
  anvil: Anvil;
  node: TronNode;
  server: TronServer;
  hot: TronKey;
  cold: TronKey;
  /** TRC-20 with 6 decimals, the hot wallet holding 1,000,000 of it. */
  usdt: { contract: Contract; address: string };
  serve(faults?: TronServerFaults): Promise<TronServer>;
  /** Mint `amount` base units of `token` to `to` (an anvil call outside the Tron chain). */
  mint(token: Contract, to: TronKey, amount: bigint): Promise<void>;
  stop(): Promise<void>;
}

export async function startTronWorld(options: Omit<TronNodeOptions, 'anvil'> = {}): Promise<TronWorld> {
  const anvil = await startAnvil();
  const servers: TronServer[] = [];
  try {
    const node = new TronNode({ ...options, anvil });
    const [hot, cold] = [await node.key(), await node.key()];
    const token = await deployTestToken(anvil, { symbol: 'USDT', decimals: 6 });
    const world: TronWorld = {
      anvil,
      node,
      server: undefined as unknown as TronServer,
      hot,
      cold,
      usdt: { contract: token, address: tronAddressFromEvm(await token.getAddress()) },
      async serve(faults) {
        const s = await serveTron(node, faults);
        servers.push(s);
        return s;
      },
      async mint(t, to, amount) {
        await (await t.getFunction('mint')(to.evm.address, amount)).wait();
      },
      async stop() {
        await Promise.all(servers.map((s) => s.close()));
        await anvil.stop();
      },
    };
    world.server = await world.serve();
    await world.mint(token, hot, 1_000_000_000_000n);
    return world;
  } catch (e) {
    await Promise.all(servers.map((s) => s.close()));
    await anvil.stop();
    throw e;
  }
}

/** The TRC-20 `transfer(to, amount)` parameters tronweb takes. */
export function transferParams(to: string, amount: bigint) {
  return [
    { type: 'address', value: to },
    { type: 'uint256', value: amount.toString() },
  ];
}
