import { Interface } from 'ethers';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import type { ChainConfig } from '../../../functions/core/config/types.ts';
import { TestToken } from '../../../functions/local/contracts/artifacts.ts';
import { ANVIL_CHAIN_ID, type Anvil } from '../../support/anvil.ts';

export const erc20 = new Interface(TestToken.abi);

export interface EvmChainOptions {
  readonly rpc: readonly string[];
  readonly hotWallets: readonly string[];
  readonly tokens?: readonly { symbol: string; contract: string; decimals: number }[];
  readonly rpcBatchSize?: number;
  readonly rpcTimeoutMs?: number;
  readonly chainId?: number;
  /** @default 'blocks' */
  readonly nativeSource?: 'blocks' | 'traces';
}

/** The compiled config of one EVM chain `local`, as the poller hands it to the reader. */
export function evmChainConfig(options: EvmChainOptions): ChainConfig {
  const config = compileConfig({
    name: 'evm-test',
    chains: {
      local: {
        kind: 'evm',
        chainId: options.chainId ?? ANVIL_CHAIN_ID,
        rpc: options.rpc,
        ...(options.rpcBatchSize === undefined ? {} : { rpcBatchSize: options.rpcBatchSize }),
        ...(options.rpcTimeoutMs === undefined ? {} : { rpcTimeoutMs: options.rpcTimeoutMs }),
        ...(options.nativeSource === undefined ? {} : { nativeSource: options.nativeSource }),
        confirmations: 0,
        blockTimeSeconds: 1,
        hotWallets: options.hotWallets,
        native: { symbol: 'ETH', decimals: 18, usdPrice: 3000 },
        tokens: (options.tokens ?? []).map((t) => ({ ...t, usdPrice: 1 })),
      },
    },
    limits: { global: { count: { '1h': 1000 } } },
  });
  return config.chains.get('local')!;
}

export interface TxRequest {
  readonly from: string;
  readonly to: string;
  readonly value?: bigint;
  readonly data?: string;
  /** @default 200 000 */
  readonly gas?: number;
}

/**
 * Sends transactions from anvil's unlocked default accounts (no local signing: fast) and mines them
 * into ONE block. Returns that block's number and the transaction hashes in order. Automine is off while sending.
 */
export async function mineBlockWith(
  anvil: Anvil,
  txs: readonly TxRequest[],
): Promise<{ block: number; hashes: string[] }> {
  const wasAutomine = anvil.automine;
  if (wasAutomine) await anvil.setAutomine(false);
  const nonces = new Map<string, number>();
  const hashes: string[] = [];
  for (const tx of txs) {
    const from = tx.from.toLowerCase();
    let nonce = nonces.get(from);
    if (nonce === undefined) nonce = Number(await anvil.rpc<string>('eth_getTransactionCount', [from, 'pending']));
    nonces.set(from, nonce + 1);
    hashes.push(
      await anvil.rpc<string>('eth_sendTransaction', [
        {
          from,
          to: tx.to,
          value: `0x${(tx.value ?? 0n).toString(16)}`,
          data: tx.data ?? '0x',
          gas: `0x${(tx.gas ?? 200_000).toString(16)}`,
          nonce: `0x${nonce.toString(16)}`,
        },
      ]),
    );
  }
  await anvil.mine(1);
  if (wasAutomine) await anvil.setAutomine(true);
  return { block: Number(await anvil.rpc<string>('eth_blockNumber')), hashes };
}

export function transferData(to: string, amount: bigint): string {
  return erc20.encodeFunctionData('transfer', [to, amount]);
}

export function transferFromData(from: string, to: string, amount: bigint): string {
  return erc20.encodeFunctionData('transferFrom', [from, to, amount]);
}

export function approveData(spender: string, amount: bigint): string {
  return erc20.encodeFunctionData('approve', [spender, amount]);
}

export function mintData(to: string, amount: bigint): string {
  return erc20.encodeFunctionData('mint', [to, amount]);
}

export interface Receipt {
  status: string;
  blockNumber: string;
  gasUsed: string;
  effectiveGasPrice: string;
  logs: { logIndex: string; address: string; topics: string[] }[];
}

export function receipt(anvil: Anvil, hash: string): Promise<Receipt> {
  return anvil.rpc<Receipt>('eth_getTransactionReceipt', [hash]);
}

export const lower = (address: string) => address.toLowerCase();
