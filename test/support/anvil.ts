/**
 * A real EVM node for tests: anvil (from npm `@foundry-rs/anvil`) as a child process on 127.0.0.1 with a
 * free port, plus helpers to mine and to deploy the test contracts. Every started node is killed when
 * `stop()` is called, and in any case when the test process exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { type Contract, ContractFactory, HDNodeWallet, JsonRpcProvider, Wallet } from 'ethers';
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

/**
 * Starts anvil ("$0" "$@"), prints its pid, kills it when stdin reaches end-of-file, exits with its
 * status. stdin is kept as fd 3 because a background job's own stdin is /dev/null.
 */
const WATCHDOG =
  'exec 3<&0; "$0" "$@" </dev/null & pid=$!; echo "$pid"; (read _ <&3; kill "$pid" 2>/dev/null) & wait "$pid"';

let defaultAccounts: readonly string[] | undefined;

/** Private keys of the 10 default accounts, derived once from the mnemonic. */
export function anvilPrivateKeys(): readonly string[] {
  if (!defaultAccounts) {
    const root = HDNodeWallet.fromPhrase(ANVIL_MNEMONIC, undefined, "m/44'/60'/0'/0");
    defaultAccounts = Array.from({ length: 10 }, (_, i) => root.deriveChild(i).privateKey);
  }
  return defaultAccounts;
}

export function anvilBinary(): string {
  if (process.env.ANVIL_BIN) return process.env.ANVIL_BIN;
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  const require = createRequire(import.meta.url);
  return join(
    dirname(require.resolve(`${pkg}/package.json`)),
    'bin',
    process.platform === 'win32' ? 'anvil.exe' : 'anvil',
  );
}

export async function startAnvil(options: AnvilOptions = {}): Promise<Anvil> {
  // Another process may take the free port between probing and anvil binding it: try again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(options);
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
}

async function launch(options: AnvilOptions): Promise<Anvil> {
  const port = await freePort();
  const chainId = options.chainId ?? ANVIL_CHAIN_ID;
  // fifo: transactions mined together keep the order they were sent in.
  const args = [
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--silent',
    '--chain-id',
    String(chainId),
    '--order',
    'fifo',
  ];
  if (options.blockTime !== undefined) args.push('--block-time', String(options.blockTime));
  if (options.noMining) args.push('--no-mining');
  args.push(...(options.args ?? []));

  // anvil runs under a small shell that kills it as soon as our end of its stdin closes: when stop()
  // closes it, and also when this process dies without running exit handlers (a test worker killed
  // with SIGTERM or SIGKILL), so no anvil outlives its test run.
  const child = spawn('/bin/sh', ['-c', WATCHDOG, anvilBinary(), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const anvilPid = new Promise<number>((resolve) => {
    child.stdout?.once('data', (chunk: Buffer) => resolve(Number.parseInt(chunk.toString(), 10)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const url = `http://127.0.0.1:${port}`;
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin?.end();
    const timer = setTimeout(async () => {
      try {
        process.kill(await anvilPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 3000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitUntilReady(url, child, () => stderr);
  } catch (e) {
    await kill();
    throw e;
  }

  const provider = new JsonRpcProvider(url, chainId, { staticNetwork: true, cacheTimeout: -1, pollingInterval: 20 });
  const accounts = anvilPrivateKeys().map((key) => new Wallet(key, provider));
  let automine = !options.noMining;
  const rpc = <T>(method: string, params: unknown[] = []) => provider.send(method, params) as Promise<T>;
  return {
    url,
    port,
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
      await kill();
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function waitUntilReady(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`anvil exited with ${child.exitCode}: ${stderr()}`);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
        signal: AbortSignal.timeout(1000),
      });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`anvil did not answer on ${url} within 15 s: ${stderr()}`);
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
