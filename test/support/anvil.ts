/**
 * A real EVM node for tests: anvil (from npm `@foundry-rs/anvil`) as a child process on 127.0.0.1 with a
 * free port, plus helpers to mine and to deploy the test contracts. Every started node is killed when
 * `stop()` is called, and in any case when the test process exits.
 */
import { type Contract, ContractFactory, HDNodeWallet, JsonRpcProvider, type TransactionReceipt, Wallet } from 'ethers';
import { startAnvil as startAnvilProcess } from '../../functions/local/anvil-process.ts';
import {
  type ContractArtifact,
  Disperse,
  LogEmitter,
  RevertOnReceive,
  TestToken,
} from '../../functions/local/contracts/artifacts.ts';

/** anvil's (and hardhat's) well-known development mnemonic; its first 10 accounts hold 10 000 ETH each. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';
export const ANVIL_CHAIN_ID = 31337;

export interface AnvilOptions {
  /** Mine a block every N seconds (`--block-time`). @default mine on every transaction */
  readonly blockTime?: number;
  /** Mine only on `mine()` (`--no-mining`). @default false */
  readonly noMining?: boolean;
  /** @default 31337 */
  readonly chainId?: number;
  /** Further anvil flags. */
  readonly args?: readonly string[];
}

export interface Anvil {
  readonly url: string;
  readonly port: number;
  readonly chainId: number;
  readonly provider: JsonRpcProvider;
  /** The 10 default funded accounts, connected to `provider`. */
  readonly accounts: readonly Wallet[];
  /** Whether a transaction is mined as soon as it is sent (see `setAutomine`). */
  readonly automine: boolean;
  /** A raw JSON-RPC call. */
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  mine(blocks?: number): Promise<void>;
  setAutomine(on: boolean): Promise<void>;
  snapshot(): Promise<string>;
  revert(id: string): Promise<boolean>;
  stop(): Promise<void>;
}

let defaultAccounts: readonly string[] | undefined;

/** Private keys of the 10 default accounts, derived once from the mnemonic. */
export function anvilPrivateKeys(): readonly string[] {
  if (!defaultAccounts) {
    const root = HDNodeWallet.fromPhrase(ANVIL_MNEMONIC, undefined, "m/44'/60'/0'/0");
    defaultAccounts = Array.from({ length: 10 }, (_, i) => root.deriveChild(i).privateKey);
  }
  return defaultAccounts;
}

/**
 * The receipt of a transaction anvil has accepted, polled until it is mined (bounded). Not ethers'
 * `waitForTransaction`: it reads the block number, then the receipt, then waits for the NEXT block —
 * so a transaction automined between those two reads, with no block after it, is waited for forever
 * (a hang seen at load 18, issue 20).
 */
export async function minedReceipt(
  provider: JsonRpcProvider,
  hash: string,
  timeoutMs = 60_000,
): Promise<TransactionReceipt> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const receipt = await provider.getTransactionReceipt(hash);
    if (receipt) return receipt;
    if (Date.now() > deadline) throw new Error(`anvil did not mine ${hash} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startAnvil(options: AnvilOptions = {}): Promise<Anvil> {
  const chainId = options.chainId ?? ANVIL_CHAIN_ID;
  const node = await startAnvilProcess({ ...options, chainId });
  const provider = new JsonRpcProvider(node.url, chainId, {
    staticNetwork: true,
    cacheTimeout: -1,
    pollingInterval: 20,
  });
  const accounts = anvilPrivateKeys().map((key) => new Wallet(key, provider));
  let automine = !options.noMining;
  const rpc = <T>(method: string, params: unknown[] = []) => provider.send(method, params) as Promise<T>;
  return {
    url: node.url,
    port: node.port,
    chainId,
    provider,
    accounts,
    get automine() {
      return automine;
    },
    rpc,
    async mine(blocks = 1) {
      await rpc('anvil_mine', [`0x${blocks.toString(16)}`]);
    },
    async setAutomine(on: boolean) {
      await rpc('evm_setAutomine', [on]);
      automine = on;
    },
    snapshot: () => rpc<string>('evm_snapshot'),
    revert: (id: string) => rpc<boolean>('evm_revert', [id]),
    async stop() {
      provider.destroy();
      await node.stop();
    },
  };
}

/** Deploys `artifact` from `signer` (default: account 0), mining the block when automine is off. */
export async function deploy(
  anvil: Anvil,
  artifact: ContractArtifact,
  args: readonly unknown[] = [],
  signer: Wallet = anvil.accounts[0]!,
): Promise<Contract> {
  const factory = new ContractFactory(artifact.abi, artifact.bytecode, signer);
  const contract = await factory.deploy(...args);
  if (!anvil.automine) await anvil.mine(1);
  await contract.waitForDeployment();
  return contract as Contract;
}

export function deployTestToken(
  anvil: Anvil,
  token: { name?: string; symbol: string; decimals: number },
  signer?: Wallet,
): Promise<Contract> {
  return deploy(anvil, TestToken, [token.name ?? `Test ${token.symbol}`, token.symbol, token.decimals], signer);
}

export function deployDisperse(anvil: Anvil, signer?: Wallet): Promise<Contract> {
  return deploy(anvil, Disperse, [], signer);
}

export function deployRevertOnReceive(anvil: Anvil, signer?: Wallet): Promise<Contract> {
  return deploy(anvil, RevertOnReceive, [], signer);
}

export function deployLogEmitter(anvil: Anvil, signer?: Wallet): Promise<Contract> {
  return deploy(anvil, LogEmitter, [], signer);
}
