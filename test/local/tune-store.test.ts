import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { startLocalDynamo } from '../../functions/adapters/dynamodb/local-dynamo.ts';
import { usdToMicros } from '../../functions/core/amounts.ts';
import { defaultStorePath } from '../../functions/local/connect.ts';
import { tableStores } from '../../functions/runtime/table-stores.ts';
import { ADDR, configInput, outflow } from '../support/fixtures.ts';

const run = promisify(execFile);

/**
 * `breaker tune --store`: limits proposed from the outflows already in the local breaker's store (the
 * on-disk dynalite store `breaker watch` keeps), through the real CLI. The store is written here with
 * the production DynamoDB store, then closed, and the CLI opens it as an operator's would.
 */
describe('breaker tune --store on a dynalite store with outflows in it', () => {
  // Config names are at most 41 characters.
  const name = `tune-store-${process.pid}-${Date.now().toString(36)}`;
  const storePath = defaultStorePath(name);
  const dir = mkdtempSync(join(tmpdir(), 'tune-store-'));
  const configFile = join(dir, 'config.yaml');
  const DAY = 86_400;

  beforeAll(async () => {
    const input = { ...configInput(), name };
    writeFileSync(configFile, stringifyYaml(input));
    const config = compileConfig(input, 'tune-store');
    const now = Math.floor(Date.now() / 1000);
    const burst = now - 2 * DAY;
    const records = [
      // The busiest hour: $300,000 within two minutes.
      ...[0, 60, 120].map((s) => outflow(config, { t: burst + s, asset: 'USDT', units: '100000' })),
      // Quiet days.
      outflow(config, { t: now - 5 * DAY, asset: 'USDT', units: '1000' }),
      outflow(config, { t: now - 10 * DAY, asset: 'USDC', units: '2000' }),
      // A $5M sweep to the cold wallet: an own transfer, never a withdrawal to size limits by.
      outflow(config, { t: now - 3 * DAY, asset: 'USDT', units: '5000000', to: ADDR.cold }),
      // $1M forty days ago: outside --days 30.
      outflow(config, { t: now - 40 * DAY, asset: 'USDT', units: '1000000' }),
    ];
    mkdirSync(storePath, { recursive: true });
    const dynamo = await startLocalDynamo({ path: storePath });
    try {
      await tableStores(dynamo.client, dynamo.tableName).store.recordOutflows(records);
    } finally {
      await dynamo.close();
    }
  }, 60_000);

  afterAll(() => {
    rmSync(storePath, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  function tune(args: string[]) {
    return run(process.execPath, ['--import', 'tsx', 'functions/local/cli.ts', 'tune', ...args], { timeout: 120_000 });
  }

  it('sizes limits from the stored outflows of the last --days, leaving out own transfers', async () => {
    const { stdout } = await tune(['--store', '--config', configFile, '--days', '30', '--headroom', '2', '--json']);
    const out = JSON.parse(stdout) as {
      outflows: number;
      proposals: { ruleId: string; peak: string; proposed: string }[];
      limits: { global: { usd: Record<string, number> } };
    };
    expect(out.outflows).toBe(5);
    const hour = out.proposals.find((p) => p.ruleId === 'global-usd-1h');
    expect(hour).toMatchObject({ peak: String(usdToMicros(300_000)), proposed: String(usdToMicros(600_000)) });
    expect(out.limits.global.usd['1h']).toBe(600_000);
    // --days 1 reaches none of them; --days 7 the burst and the $1,000 day, not the $2,000 one.
    const recent = JSON.parse((await tune(['--store', '--config', configFile, '--days', '1', '--json'])).stdout) as {
      outflows: number;
    };
    expect(recent.outflows).toBe(0);
    const week = JSON.parse((await tune(['--store', '--config', configFile, '--days', '7', '--json'])).stdout) as {
      outflows: number;
      proposals: { ruleId: string; peak: string }[];
    };
    expect(week.outflows).toBe(4);
    expect(week.proposals.find((p) => p.ruleId === 'global-usd-1h')?.peak).toBe(String(usdToMicros(300_000)));
  }, 180_000);

  it('says where it looked when there is no store for the config, and refuses a bad --days', async () => {
    const other = join(dir, 'other.yaml');
    writeFileSync(other, stringifyYaml({ ...configInput(), name: `${name}-missing` }));
    const missing = await tune(['--store', '--config', other]).catch((e) => e);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(`no store at ${defaultStorePath(`${name}-missing`)}`);
    const bad = await tune(['--store', '--config', configFile, '--days', '0']).catch((e) => e);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--days: expected a number > 0, got "0"');
  }, 120_000);
});
