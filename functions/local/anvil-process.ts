import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

/**
 * Anvil (Foundry's local EVM node) from the npm package @foundry-rs/anvil: the local chain for
 * `npm start`, the tests and the benchmarks. No internet, no install step beyond `npm install`.
 */

export interface AnvilOptions {
  /** @default 0: a free port (retried if another process takes it first) */
  port?: number;
  /** Mine a block every N seconds (`--block-time`); omit for a block per transaction. */
  blockTime?: number;
  /** Disable automine: blocks only via evm_mine / anvil_mine. */
  noMining?: boolean;
  chainId?: number;
  /** Further anvil flags. */
  args?: readonly string[];
}

export interface AnvilProcess {
  url: string;
  port: number;
  chainId: number;
  stop(): Promise<void>;
}

/**
 * anvil runs under a small shell that kills it as soon as our end of its stdin closes: when stop()
 * closes it, and also when this process dies without running exit handlers (Ctrl-C twice, a test
 * worker killed with SIGKILL), so no anvil outlives its parent.
 */
const WATCHDOG =
  'exec 3<&0; "$0" "$@" </dev/null & pid=$!; echo "$pid"; (read _ <&3; kill "$pid" 2>/dev/null) & wait "$pid"';

/** The anvil binary shipped for this platform by @foundry-rs/anvil-<os>-<arch> (or $ANVIL_BIN). */
export function anvilBinary(): string {
  if (process.env.ANVIL_BIN) return process.env.ANVIL_BIN;
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    throw new Error(
      `anvil is not installed for ${process.platform}/${process.arch} (npm package ${pkg}); run npm install`,
    );
  }
  const bin = join(dir, 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  if (!existsSync(bin)) throw new Error(`anvil binary missing at ${bin}; reinstall ${pkg}`);
  return bin;
}

export async function startAnvil(options: AnvilOptions = {}): Promise<AnvilProcess> {
  // Another process may take a probed free port before anvil binds it: try again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(options, options.port || (await freePort()));
    } catch (e) {
      if (options.port || attempt >= 3) throw e;
    }
  }
}

async function launch(options: AnvilOptions, port: number): Promise<AnvilProcess> {
  const chainId = options.chainId ?? 31337;
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

  const child = spawn('/bin/sh', ['-c', WATCHDOG, anvilBinary(), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const anvilPid = new Promise<number>((resolve) => {
    child.stdout?.once('data', (chunk: Buffer) => resolve(Number.parseInt(chunk.toString(), 10)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
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
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(url, child, () => stderr);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, port, chainId, stop };
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

/** Ask the OS for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
