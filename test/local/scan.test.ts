import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseUnits, Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as scan } from '../../functions/local/commands/scan.ts';
import { type Anvil, deployTestToken, startAnvil } from '../support/anvil.ts';

describe('breaker scan', () => {
  let anvil: Anvil;
  let dir: string;
  let configPath: string;
  const sent: { to: string; amount: bigint; asset: string }[] = [];
  let from = 0;
  let to = 0;

  beforeAll(async () => {
    anvil = await startAnvil();
    const hot = anvil.accounts[1]!;
    const usdt = await deployTestToken(anvil, { symbol: 'USDT', decimals: 6 });
    await (await usdt.getFunction('mint')(hot.address, parseUnits('1000', 6))).wait();
    from = (await anvil.provider.getBlockNumber()) + 1;
    for (let i = 0; i < 3; i++) {
      const customer = Wallet.createRandom().address;
      await (await hot.sendTransaction({ to: customer, value: parseUnits(`0.${i + 1}`, 18) })).wait();
      sent.push({ to: customer.toLowerCase(), amount: parseUnits(`0.${i + 1}`, 18), asset: 'ETH' });
      await (await usdt.connect(hot).getFunction('transfer')(customer, parseUnits(`${10 + i}`, 6))).wait();
      sent.push({ to: customer.toLowerCase(), amount: parseUnits(`${10 + i}`, 6), asset: 'USDT' });
    }
    to = await anvil.provider.getBlockNumber();
    dir = mkdtempSync(join(tmpdir(), 'hwb-scan-'));
    configPath = join(dir, 'scan.yaml');
    writeFileSync(
      configPath,
      JSON.stringify({
        name: 'scan-test',
        chains: {
          devnet: {
            kind: 'evm',
            chainId: 31337,
            rpc: [anvil.url],
            confirmations: 0,
            blockTimeSeconds: 1,
            maxBlocksPerPoll: 2, // several chunks for a few blocks
            hotWallets: [hot.address],
            native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
            tokens: [{ symbol: 'USDT', contract: await usdt.getAddress(), decimals: 6, usdPrice: 1 }],
          },
        },
        limits: { global: { usd: { '1h': 1000000 } } },
      }),
    );
  });
  afterAll(async () => {
    await anvil?.stop();
  });

  it('writes one JSON line per outflow in the range, with base-unit amounts and log indexes', async () => {
    const out = join(dir, 'outflows.jsonl');
    expect(await scan(['--config', configPath, '--from', String(from), '--to', String(to), '--jsonl', out])).toBe(0);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(sent.length);
    expect(lines.map((l) => `${l.asset}:${l.to}:${l.amount}`).sort()).toEqual(
      sent.map((s) => `${s.asset}:${s.to}:${s.amount}`).sort(),
    );
    for (const l of lines) {
      expect(Object.keys(l).sort()).toEqual([
        'amount',
        'asset',
        'block',
        'chain',
        'contract',
        'from',
        'logIndex',
        'to',
        'txHash',
      ]);
      if (l.asset === 'ETH') expect(l).toMatchObject({ logIndex: null, contract: null });
      else expect(typeof l.logIndex).toBe('number');
    }
  });

  it('rejects a range that ends before it starts, naming the flag', async () => {
    await expect(scan(['--config', configPath, '--from', '10', '--to', '5'])).rejects.toThrow(
      /--to 5 is before --from 10/,
    );
    await expect(scan(['--config', configPath, '--from', 'x', '--to', '5'])).rejects.toThrow(
      /--from: not a block number/,
    );
  });
});
