import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { localOperator } from '../../functions/console/local-server.ts';

/**
 * `breaker status | history | trip | reset` as an operator runs them, against a local on-disk store
 * (`--store`), each command its own process. The operator is the OS account, never an argument.
 */
function breaker(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'functions/local/cli.ts', ...args], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    child.stderr.on('data', (d) => {
      err += String(d);
    });
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

function configFile(dir: string, twoPerson: boolean): string {
  const file = join(dir, twoPerson ? 'two-person.yaml' : 'single.yaml');
  writeFileSync(
    file,
    JSON.stringify({
      name: twoPerson ? 'cli-two-person' : 'cli-single',
      chains: {
        devnet: {
          kind: 'evm',
          chainId: 31337,
          rpc: ['http://127.0.0.1:9'],
          confirmations: 0,
          blockTimeSeconds: 1,
          hotWallets: ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8'],
          native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
        },
      },
      limits: { global: { usd: { '1h': 10000 } } },
      operations: { twoPersonReset: twoPerson, approvalWindowSeconds: 900 },
    }),
  );
  return file;
}

// Each case starts up to eight CLI processes, each compiling TypeScript through tsx at start-up
// (about a second each when idle; over 60 s in all at load 19 on two cores).
describe('breaker CLI against the local store', { timeout: 180_000 }, () => {
  let dir: string;
  const me = localOperator();
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hwb-cli-'));
  });

  it('trip, status, history and reset record the OS operator and answer with exit codes', async () => {
    const store = join(dir, 'single-store');
    mkdirSync(store);
    const target = ['--config', configFile(dir, false), '--store', store];

    // An empty store is halted, not armed, until `breaker init` (audited as the OS user).
    const before = await breaker(['status', ...target]);
    expect(before.code).toBe(3);
    expect(before.out).toContain('NOT INITIALISED');
    const init = await breaker(['init', '--config', target[1] as string, '--store', store, '--reason', 'first run']);
    expect(init.out).toContain(`audited as ${me}`);
    expect((await breaker(['status', ...target])).code).toBe(0);
    const noReason = await breaker(['trip', ...target]);
    expect(noReason.code).toBe(2);
    expect(noReason.err).toContain('--reason');

    const trip = await breaker(['trip', ...target, '--scope', 'chain:devnet', '--reason', 'signer logs look wrong']);
    expect(trip.code).toBe(0);
    expect(trip.out).toContain(`Halted chain:devnet by ${me}`);

    const status = await breaker(['status', ...target]);
    expect(status.code).toBe(3);
    expect(status.out).toContain('chain:devnet         TRIPPED');
    expect(status.out).toContain(`by hand: ${me}`);

    const short = await breaker(['reset', ...target, '--reason', 'ok']);
    expect(short.code).toBe(2);
    expect(short.err).toContain('reason: at least 10 characters');

    const reset = await breaker(['reset', ...target, '--reason', 'reviewed: the logs were a test']);
    expect(reset.code).toBe(0);
    expect(reset.out).toContain(`Re-armed by ${me}`);
    expect(reset.out).toContain('The breaker is armed.');

    const again = await breaker(['reset', ...target, '--reason', 'reviewed: the logs were a test']);
    expect(again.code).toBe(2);
    expect(again.err).toContain('the breaker is armed: nothing to reset');

    const history = await breaker(['history', ...target, '--json']);
    const records = JSON.parse(history.out) as { action: string; actor: string; reason: string }[];
    expect(records.map((r) => [r.action, r.actor, r.reason])).toEqual([
      ['reset', me, 'reviewed: the logs were a test'],
      ['trip', me, 'signer logs look wrong'],
      ['init', me, 'first run'],
    ]);
  });

  it('two-person rule: reset files a request; the same operator cannot approve it', async () => {
    const store = join(dir, 'two-store');
    mkdirSync(store);
    const target = ['--config', configFile(dir, true), '--store', store];
    await breaker(['init', ...target, '--reason', 'first run']);
    await breaker(['trip', ...target, '--reason', 'halt while we check the signer']);

    const request = await breaker(['reset', ...target, '--reason', 'reviewed: signer is fine']);
    expect(request.code).toBe(0);
    expect(request.out).toContain('nothing is re-armed yet');
    const id = /breaker reset --approve (\S+)/.exec(request.out)?.[1];
    expect(id).toMatch(/^reset-request-\d+$/);

    const self = await breaker(['reset', ...target, '--approve', id!]);
    expect(self.code).toBe(2);
    expect(self.err).toContain(`${me} is the same person as the requester ${me} and cannot approve this reset`);
    const status = await breaker(['status', ...target]);
    expect(status.code).toBe(3);
    expect(status.out).toContain(`Reset requested by ${me} (${id})`);
  });
});
