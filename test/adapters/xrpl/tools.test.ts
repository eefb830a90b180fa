import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import { MemoryBreakerStore } from '../../../functions/adapters/memory/memory-breaker-store.ts';
import { replayScenario } from '../../../functions/core/replay/replay.ts';
import { parseScenario } from '../../../functions/core/replay/scenario.ts';
import { run as scan } from '../../../functions/local/commands/scan.ts';
import { startXrplWorld, type XrplWorld } from './helpers.ts';

/** `breaker replay` and `breaker scan` on an XRPL chain: generic through the ChainKind, nothing XRPL-specific in them. */
describe('XRPL in the tools', () => {
  let w: XrplWorld;
  let dir: string;
  beforeAll(async () => {
    w = await startXrplWorld();
    dir = mkdtempSync(join(tmpdir(), 'hwb-xrpl-tools-'));
  });
  afterAll(async () => {
    await w.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('replay: XRP and an issued currency on the example config’s XRPL chain count toward the global limit ($800k + $900k > $1.5M in 10 min)', async () => {
    // The example's reconciliation would trip on the first unapproved event: this is about the USD limits.
    const raw = parseYaml(readFileSync(join('config', 'example.yaml'), 'utf8')) as Record<string, unknown>;
    delete raw.reconciliation;
    const config = compileConfig(raw, 'example.yaml without reconciliation');
    const rlusd = '524C555344000000000000000000000000000000.rMxCKbEDwqr76QuheSUMdEGf4B9xJ8m5De';
    const scenario = parseScenario({
      format: 'hot-wallet-breaker/scenario@1',
      name: 'xrpl-drain',
      prices: { XRP: 2, RLUSD: 1 },
      events: [
        {
          t: 10,
          chain: 'xrpl',
          asset: 'XRP',
          amount: '400000',
          to: 'rvYAfWj5gh67oV6fW32ZzP3Aw4Eubs59B',
          label: 'attack',
        },
        {
          t: 20,
          chain: 'xrpl',
          asset: 'RLUSD',
          amount: '900000',
          to: 'rvYAfWj5gh67oV6fW32ZzP3Aw4Eubs59B',
          label: 'attack',
        },
      ],
    });
    const result = await replayScenario(config, scenario, { store: new MemoryBreakerStore() });
    const records = result.evaluator.recordsSince(0);
    expect(records.map((r) => [r.asset, r.contract, r.known])).toEqual([
      ['XRP', null, true],
      ['RLUSD', rlusd, true],
    ]);
    // Synthetic transaction ids are written the XRPL way: 64 upper-case hex digits.
    expect(records.every((r) => /^[0-9A-F]{64}$/.test(r.txHash))).toBe(true);
    expect(result.trips.map((t) => t.ruleId)).toContain('global-usd-10m');
  });

  it('scan: one JSON line per outflow, with the XRPL position instead of a log index', async () => {
    const from = w.engine.validatedIndex + 1;
    w.engine.payXrp(w.hot, w.customer.classicAddress, 4_000_000n);
    w.engine.payIou(w.hot, w.customer.classicAddress, 'USD', w.issuer.classicAddress, '12.5');
    w.engine.close();
    w.engine.payXrp(w.hot, w.cold.classicAddress, 1_000_000n);
    const to = w.engine.close().ledger_index;
    const configPath = join(dir, 'xrpl.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        name: 'xrpl-scan',
        chains: {
          xrpl: {
            kind: 'xrpl',
            rpc: [w.server.url],
            confirmations: 0,
            blockTimeSeconds: 4,
            maxBlocksPerPoll: 1,
            hotWallets: [w.hot.classicAddress],
            ownAddresses: [w.cold.classicAddress],
            native: { symbol: 'XRP', decimals: 6, usdPrice: 2 },
            tokens: [{ symbol: 'USD', contract: w.usd, decimals: 6, usdPrice: 1 }],
          },
        },
        limits: { global: { usd: { '1h': 1000000 } } },
      }),
    );
    const out = join(dir, 'outflows.jsonl');
    expect(await scan(['--config', configPath, '--from', String(from), '--to', String(to), '--jsonl', out])).toBe(0);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      expect.objectContaining({
        block: from,
        asset: 'XRP',
        amount: '4000000',
        position: 0,
        to: w.customer.classicAddress,
      }),
      expect.objectContaining({ block: from, asset: 'USD', contract: w.usd, amount: '12500000', position: 0 }),
      expect.objectContaining({ block: to, asset: 'XRP', amount: '1000000', to: w.cold.classicAddress }),
    ]);
    expect(lines.every((l) => !('logIndex' in l))).toBe(true);
  });
});
