import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import { MemoryBreakerStore } from '../../../functions/adapters/memory/memory-breaker-store.ts';
import { replayScenario } from '../../../functions/core/replay/replay.ts';
import { parseScenario } from '../../../functions/core/replay/scenario.ts';
import { run as scan } from '../../../functions/local/commands/scan.ts';
import type { TronKey } from '../../support/tron/tron-node.ts';
import { startTronWorld, type TronWorld, transferParams } from './helpers.ts';

/** The generic tools on a Tron chain: `breaker scan` against the stand-in, `breaker replay` with Tron events. */
describe('Tron in breaker scan and replay', () => {
  let w: TronWorld;
  let dir: string;
  let payee: TronKey;

  beforeAll(async () => {
    w = await startTronWorld();
    payee = await w.node.key();
    dir = mkdtempSync(join(tmpdir(), 'hwb-tron-tools-'));
  });
  afterAll(async () => {
    await w?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const chain = (more: Record<string, unknown> = {}) => ({
    kind: 'tron',
    http: [w.server.url],
    jsonRpc: [`${w.server.url}/jsonrpc`],
    genesisBlockId: w.node.genesisBlockId,
    confirmations: 0,
    blockTimeSeconds: 3,
    explorer: 'https://tronscan.org',
    hotWallets: [w.hot.address],
    native: { symbol: 'TRX', decimals: 6, usdPrice: 0.25 },
    tokens: [{ symbol: 'USDT', contract: w.usdt.address, decimals: 6, usdPrice: 1 }],
    ...more,
  });

  it('breaker scan writes one JSON line per Tron outflow, amounts in base units, T-addresses', async () => {
    const from = w.node.fullHead + 1;
    const trx = await w.node.sendTrx(w.hot, payee.address, 7_000_000n);
    await w.node.produce();
    const usdt = await w.node.call(
      w.hot,
      w.usdt.address,
      'transfer(address,uint256)',
      transferParams(payee.address, 3_000_000n),
    );
    const to = await w.node.produce();
    const configPath = join(dir, 'scan.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        name: 'tron-scan',
        chains: { trx: chain({ maxBlocksPerPoll: 1 }) },
        limits: { global: { usd: { '1h': 1_000_000 } } },
      }),
    );
    const out = join(dir, 'outflows.jsonl');
    expect(await scan(['--config', configPath, '--from', String(from), '--to', String(to), '--jsonl', out])).toBe(0);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      expect.objectContaining({ txHash: trx, asset: 'TRX', amount: '7000000', from: w.hot.address, to: payee.address }),
      expect.objectContaining({
        txHash: usdt,
        asset: 'USDT',
        contract: w.usdt.address,
        amount: '3000000',
        to: payee.address,
      }),
    ]);
  });

  it('breaker replay counts Tron events toward the global USD limit with EVM ones and pages Tronscan links', async () => {
    const config = compileConfig(
      {
        name: 'tron-replay',
        chains: {
          trx: chain(),
          ethereum: {
            kind: 'evm',
            chainId: 1,
            rpc: ['https://eth.example.test'],
            confirmations: 0,
            blockTimeSeconds: 12,
            hotWallets: ['0x1111111111111111111111111111111111111111'],
            native: { symbol: 'ETH', decimals: 18, usdPrice: 3000 },
          },
        },
        limits: { global: { usd: { '1h': 1_000_000 } } },
      },
      'replay config',
    );
    const scenario = parseScenario({
      format: 'hot-wallet-breaker/scenario@1',
      name: 'tron-and-eth',
      prices: { ETH: 3000, USDT: 1, TRX: 0.25 },
      events: [
        {
          t: 0,
          chain: 'ethereum',
          asset: 'ETH',
          amount: '200',
          to: '0x2222222222222222222222222222222222222222',
          label: 'attack',
        },
        { t: 60, chain: 'trx', asset: 'USDT', amount: '500000', to: payee.address, label: 'attack' },
      ],
    });
    const result = await replayScenario(config, scenario, { store: new MemoryBreakerStore() });
    const trips = result.pages.filter((p) => p.kind === 'trip');
    expect(trips).toHaveLength(1);
    expect(trips[0]!.text).toContain('global-usd-1h');
    expect(trips[0]!.text).toMatch(/https:\/\/tronscan\.org\/#\/transaction\/[0-9a-f]{64}/);
  });
});
