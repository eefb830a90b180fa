import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseEther } from 'ethers';
import { describe, expect, it } from 'vitest';
import { startAnvil } from '../../support/anvil.ts';

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(500),
    });
    return response.ok;
  } catch {
    return false;
  }
}

async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe('anvil test harness', () => {
  it('gives the 10 funded default accounts, manual mining, snapshots, and stops the node', async () => {
    const anvil = await startAnvil({ noMining: true });
    try {
      expect(anvil.accounts).toHaveLength(10);
      expect(anvil.accounts[0]!.address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
      expect(await anvil.provider.getBalance(anvil.accounts[9]!.address)).toBe(parseEther('10000'));

      const tx = await anvil.accounts[1]!.sendTransaction({ to: anvil.accounts[2]!.address, value: 1n });
      expect(await anvil.provider.getBlockNumber()).toBe(0);
      await anvil.mine(1);
      expect((await tx.wait())!.blockNumber).toBe(1);

      const id = await anvil.snapshot();
      await anvil.mine(5);
      expect(await anvil.provider.getBlockNumber()).toBe(6);
      expect(await anvil.revert(id)).toBe(true);
      expect(await anvil.provider.getBlockNumber()).toBe(1);
    } finally {
      await anvil.stop();
    }
    expect(await answers(anvil.url)).toBe(false);
  });

  it('mines on an interval with blockTime', async () => {
    const anvil = await startAnvil({ blockTime: 1 });
    try {
      expect(await eventually(async () => (await anvil.provider.getBlockNumber()) >= 1, 3000)).toBe(true);
    } finally {
      await anvil.stop();
    }
  });

  it('does not leave anvil running when the test process is killed outright', async () => {
    const script = fileURLToPath(new URL('./anvil-orphan.ts', import.meta.url));
    const parent = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve) =>
      parent.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())),
    );
    expect(await answers(url)).toBe(true);

    parent.kill('SIGKILL');

    expect(await eventually(async () => !(await answers(url)), 5000)).toBe(true);
  });
});
