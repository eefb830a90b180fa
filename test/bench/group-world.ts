/**
 * The example's eleven chains on local stand-ins, all producing blocks with hot-wallet withdrawals at
 * once: what one poller group polling every chain of config/example.yaml sees. Each chain keeps the
 * example's id, kind, confirmations, poll interval and maxBlocksPerPoll (read from the example) and its
 * block time, capped at 10 s so that Bitcoin mines blocks within a run of minutes:
 *  - the seven EVM chains: an anvil each (chainId 31337), ETH and an ERC-20 (USDT) paid out by the hot wallet;
 *  - bitcoin: the regtest devnet (functions/local/bitcoin-devnet.ts), spends of the hot wallet's outputs;
 *  - xrpl: the ledger engine and its JSON-RPC server (test/support/xrpl), XRP payments;
 *  - solana: the LiteSVM node (test/support/solana), SOL transfers;
 *  - tron: the Tron node and server (test/support/tron) on an anvil of its own, TRX and TRC-20 USDT payouts.
 * Three blocks in four carry a withdrawal pair, at most one such block a second per chain (a chain with
 * sub-second blocks gets empty blocks in between): about the one-chain memory bench's rate on every chain,
 * far above config/example.yaml's normal week, so the group's figures are an upper bound for it.
 * Everything listens on 127.0.0.1; every driver stops at stop() or after `maxSeconds`.
 */

import { join } from 'node:path';
import type { KeyPairSigner } from '@solana/kit';
import { getTransferSolInstruction } from '@solana-program/system';
import { Interface } from 'ethers';
import { loadConfigFile } from '../../functions/adapters/config/config-file.ts';
import { tronAddressFromEvm } from '../../functions/adapters/tron/addresses.ts';
import type { ChainConfig } from '../../functions/core/config/types.ts';
import { BitcoinDevnet, devnetWallet, type Utxo } from '../../functions/local/bitcoin-devnet.ts';
import { REPO_ROOT } from '../../infra/paths.ts';
import { type Anvil, deployTestToken, startAnvil } from '../support/anvil.ts';
import { SolanaNode } from '../support/solana/solana-node.ts';
import { TronNode } from '../support/tron/tron-node.ts';
import { serveTron } from '../support/tron/tron-server.ts';
import { RIPPLE_EPOCH_OFFSET, XrplLedgerEngine } from '../support/xrpl/ledger-engine.ts';
import { XrplLedgerServer } from '../support/xrpl/ledger-server.ts';
import { devAccountKeys, LOCAL_CHAIN_ID, RawSigner, rpcBatch, sendRaw } from './chain-tools.ts';

/** Block times above this are shortened to it, so every chain produces blocks within the run. */
const MAX_BLOCK_SECONDS = 10;
/** At most one block a second carries withdrawals (see the module comment), unless a bench asks for fewer. */
const DEFAULT_WITHDRAWAL_SPACING_SECONDS = 1;
const HUGE_USD = 1e12;

export interface GroupWorld {
  /** Chain ids in config/example.yaml's order. */
  readonly chainIds: readonly string[];
  /** Chain id → its kind (`evm`, `bitcoin`, `xrpl`, `solana`, `tron`). */
  readonly kinds: Readonly<Record<string, string>>;
  /** A config file's contents (JSON) with every chain of the world and limits that never trip. */
  readonly configSource: Record<string, unknown>;
  /** Blocks produced and withdrawals sent so far, per chain. */
  stats(): Record<string, { blocks: number; withdrawals: number }>;
  /** From now on, at most one block per `seconds` carries withdrawals on each chain. */
  setWithdrawalSpacing(seconds: number): void;
  stop(): Promise<void>;
}

/** One chain's stand-in: its config entry and a producer of blocks (with or without withdrawals). */
interface ChainStandIn {
  config: Record<string, unknown>;
  produce(withdraw: boolean): Promise<void>;
  stop(): Promise<void>;
}

/** The example's chains as the world reproduces them. */
export function exampleChains(): ChainConfig[] {
  return [...loadConfigFile(join(REPO_ROOT, 'config', 'example.yaml')).chains.values()];
}

export async function startGroupWorld(options: { maxSeconds: number }): Promise<GroupWorld> {
  const chains = exampleChains();
  const standIns = new Map<string, ChainStandIn>();
  const stats: Record<string, { blocks: number; withdrawals: number }> = {};
  let stopped = false;
  let withdrawalSpacingMs = DEFAULT_WITHDRAWAL_SPACING_SECONDS * 1000;
  const drivers: Promise<void>[] = [];
  const stopAll = async () => {
    stopped = true;
    await Promise.allSettled(drivers);
    await Promise.allSettled([...standIns.values()].map((s) => s.stop()));
  };
  try {
    for (const chain of chains) {
      const blockSeconds = Math.min(chain.blockTimeSeconds, MAX_BLOCK_SECONDS);
      const common = {
        confirmations: chain.confirmations,
        blockTimeSeconds: blockSeconds,
        pollIntervalSeconds: chain.pollIntervalSeconds,
        maxBlocksPerPoll: chain.maxBlocksPerPoll,
        startBlock: 'latest',
      };
      standIns.set(chain.id, await startStandIn(chain.kind.id, common));
      stats[chain.id] = { blocks: 0, withdrawals: 0 };
    }
    const until = performance.now() + options.maxSeconds * 1000;
    for (const chain of chains) {
      const standIn = standIns.get(chain.id) as ChainStandIn;
      const stat = stats[chain.id] as { blocks: number; withdrawals: number };
      const blockMs = Math.min(chain.blockTimeSeconds, MAX_BLOCK_SECONDS) * 1000;
      drivers.push(
        (async () => {
          let lastWithdrawalAt = Number.NEGATIVE_INFINITY;
          while (!stopped && performance.now() < until) {
            const started = performance.now();
            const withdraw = stat.blocks % 4 !== 3 && started - lastWithdrawalAt >= withdrawalSpacingMs;
            await standIn.produce(withdraw);
            stat.blocks++;
            if (withdraw) {
              stat.withdrawals += 2;
              lastWithdrawalAt = started;
            }
            await new Promise((r) => setTimeout(r, Math.max(0, blockMs - (performance.now() - started))));
          }
        })(),
      );
    }
  } catch (e) {
    await stopAll();
    throw e;
  }
  const chainIds = chains.map((c) => c.id);
  const chainSection = Object.fromEntries(chainIds.map((id) => [id, (standIns.get(id) as ChainStandIn).config]));
  return {
    chainIds,
    kinds: Object.fromEntries(chains.map((c) => [c.id, c.kind.id])),
    configSource: {
      name: 'bench-group',
      chains: chainSection,
      unknownAssets: { usdPerTransfer: 100 },
      // Every chain's windows are evaluated on every poll with outflows, as in the example; nothing trips.
      limits: {
        warnRatio: 0.8,
        global: {
          usd: { '10m': HUGE_USD, '1h': 2 * HUGE_USD, '24h': 5 * HUGE_USD },
          count: { '10m': 1e9, '1h': 2e9 },
          singleTxUsd: HUGE_USD,
        },
        chains: Object.fromEntries(
          chainIds.map((id) => [id, { usd: { '10m': HUGE_USD, '1h': 2 * HUGE_USD }, halt: 'chain' }]),
        ),
      },
    },
    stats: () => structuredClone(stats),
    setWithdrawalSpacing: (seconds) => {
      withdrawalSpacingMs = seconds * 1000;
    },
    stop: stopAll,
  };
}

type Common = Record<string, unknown> & { blockTimeSeconds: number };

async function startStandIn(kind: string, common: Common): Promise<ChainStandIn> {
  switch (kind) {
    case 'evm':
      return evmStandIn(common);
    case 'bitcoin':
      return bitcoinStandIn(common);
    case 'xrpl':
      return xrplStandIn(common);
    case 'solana':
      return solanaStandIn(common);
    case 'tron':
      return tronStandIn(common);
    default:
      throw new Error(`the group bench has no stand-in for chain kind "${kind}"`);
  }
}

const ERC20 = new Interface(['function transfer(address to, uint256 amount)']);

async function evmStandIn(common: Common): Promise<ChainStandIn> {
  const anvil = await startAnvil();
  try {
    const [, hotKey, , , , userKey] = devAccountKeys();
    const hot = new RawSigner(hotKey as string);
    const user = new RawSigner(userKey as string);
    // Account 0 deploys the token and mints to the hot wallet, which then sends nothing but withdrawals.
    const token = await deployTestToken(anvil, { symbol: 'USDT', decimals: 6 });
    await (await token.getFunction('mint')(hot.address, 10n ** 15n)).wait();
    await anvil.setAutomine(false);
    const tokenAddress = (await token.getAddress()).toLowerCase();
    return {
      config: {
        kind: 'evm',
        chainId: LOCAL_CHAIN_ID,
        rpc: [anvil.url],
        explorer: 'https://explorer.invalid',
        hotWallets: [hot.address],
        native: { symbol: 'ETH', decimals: 18, usdPrice: 3000 },
        tokens: [{ symbol: 'USDT', contract: tokenAddress, decimals: 6, usdPrice: 1 }],
        ...common,
      },
      async produce(withdraw) {
        if (withdraw) {
          const txs = [
            hot.sign({ to: user.address, value: 10n ** 15n, gas: 21_000 }),
            hot.sign({
              to: tokenAddress,
              data: ERC20.encodeFunctionData('transfer', [user.address, 1_000_000n]),
              gas: 80_000,
            }),
          ];
          await rpcBatch(anvil.url, sendRaw(txs));
        }
        await anvil.mine(1);
      },
      stop: () => anvil.stop(),
    };
  } catch (e) {
    await anvil.stop();
    throw e;
  }
}

/** Hot outputs the Bitcoin stand-in can spend: a run of minutes at 10 s blocks needs a few dozen. */
const BITCOIN_HOT_OUTPUTS = 200;

async function bitcoinStandIn(common: Common): Promise<ChainStandIn> {
  const node = new BitcoinDevnet({ recordRequests: false });
  const hot = devnetWallet('bench-group-hot', 'p2wpkh');
  const payee = devnetWallet('bench-group-payee', 'p2wpkh');
  const now = () => Math.floor(Date.now() / 1000);
  // Coinbase outputs to the hot wallet, in blocks that end just now (block times follow the wall clock).
  const utxos: Utxo[] = [];
  const fundingBlocks = BITCOIN_HOT_OUTPUTS / 10;
  for (let i = 0; i < fundingBlocks; i++) {
    const mined = node.mine({
      coinbase: Array.from({ length: 10 }, () => ({ to: hot.address, value: 100_000_000n })),
      time: now() - fundingBlocks + i,
    });
    for (let vout = 0; vout < 10; vout++) {
      utxos.push({ txid: mined.txids[0] as string, vout, value: 100_000_000n, script: hot.output });
    }
  }
  const { rpcUrl } = await node.start();
  return {
    config: {
      kind: 'bitcoin',
      network: 'regtest',
      rpc: [rpcUrl],
      hotWallets: [hot.address],
      native: { symbol: 'BTC', decimals: 8, usdPrice: 100_000 },
      ...common,
    },
    async produce(withdraw) {
      if (withdraw) {
        for (const utxo of utxos.splice(0, 2)) {
          node.broadcast(node.createTx([{ utxo, wallet: hot }], [{ to: payee.address, value: utxo.value - 1_000n }]));
        }
      }
      node.mine({ time: Math.max(node.tipTime + 1, now()) });
    },
    stop: () => node.stop(),
  };
}

async function xrplStandIn(common: Common): Promise<ChainStandIn> {
  const engine = new XrplLedgerEngine(Math.floor(Date.now() / 1000) - RIPPLE_EPOCH_OFFSET);
  const hot = engine.fund(10n ** 15n);
  const payees = [engine.fund(50_000_000n), engine.fund(50_000_000n)];
  engine.close(common.blockTimeSeconds);
  const server = new XrplLedgerServer(engine);
  await server.start();
  return {
    config: {
      kind: 'xrpl',
      rpc: [server.url],
      hotWallets: [hot.classicAddress],
      native: { symbol: 'XRP', decimals: 6, usdPrice: 2 },
      ...common,
    },
    async produce(withdraw) {
      if (withdraw) for (const p of payees) engine.payXrp(hot, p.classicAddress, 25_000_000n);
      engine.close(common.blockTimeSeconds);
    },
    stop: () => server.stop(),
  };
}

async function solanaStandIn(common: Common): Promise<ChainStandIn> {
  const node = new SolanaNode();
  const hot = await node.wallet(10_000n);
  const payees: KeyPairSigner[] = [await node.wallet(1n), await node.wallet(1n)];
  node.endSlot();
  const view = await node.serve();
  return {
    config: {
      kind: 'solana',
      rpc: [view.url],
      genesisHash: node.genesisHash,
      tokenAccounts: [],
      hotWallets: [hot.address],
      native: { symbol: 'SOL', decimals: 9, usdPrice: 200 },
      ...common,
    },
    async produce(withdraw) {
      if (withdraw) {
        for (const p of payees) {
          await node.send(hot, [
            getTransferSolInstruction({ source: hot, destination: p.address, amount: 1_000_000n }),
          ]);
        }
      }
      node.endSlot();
    },
    stop: () => view.close(),
  };
}

async function tronStandIn(common: Common): Promise<ChainStandIn> {
  const anvil: Anvil = await startAnvil();
  try {
    const node = new TronNode({ anvil, saveInternalTx: false });
    const server = await serveTron(node);
    const [hot, payee] = [await node.key(), await node.key()];
    const token = await deployTestToken(anvil, { symbol: 'USDT', decimals: 6 });
    await (await token.getFunction('mint')(hot.evm.address, 10n ** 15n)).wait();
    const usdt = tronAddressFromEvm(await token.getAddress());
    await node.produce();
    return {
      config: {
        kind: 'tron',
        http: [server.url],
        jsonRpc: [`${server.url}/jsonrpc`],
        genesisBlockId: node.genesisBlockId,
        hotWallets: [hot.address],
        native: { symbol: 'TRX', decimals: 6, usdPrice: 0.25 },
        tokens: [{ symbol: 'USDT', contract: usdt, decimals: 6, usdPrice: 1 }],
        ...common,
      },
      async produce(withdraw) {
        if (withdraw) {
          await node.sendTrx(hot, payee.address, 5_000_000n);
          await node.call(hot, usdt, 'transfer(address,uint256)', [
            { type: 'address', value: payee.address },
            { type: 'uint256', value: '1000000' },
          ]);
        }
        await node.produce();
      },
      async stop() {
        await server.close();
        await anvil.stop();
      },
    };
  } catch (e) {
    await anvil.stop();
    throw e;
  }
}
