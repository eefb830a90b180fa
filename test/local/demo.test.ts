import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * `npm start` is the README's first command: the demo must reach a trip and print the page.
 * Runs the real CLI as a child process (anvil, dynalite, pollers, drain) on a free port.
 */
describe('breaker demo (npm start)', () => {
  it('trips on the drain, prints the trip page, and the guarded signer is refused', async () => {
    const started = Date.now();
    const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'functions/local/cli.ts',
          'demo',
          '--exit-after-trip',
          '--normal-seconds',
          '4',
          '--port',
          '0',
        ],
        { env: { ...process.env, NO_COLOR: '1' } },
      );
      let out = '';
      child.stdout.on('data', (d) => {
        out += String(d);
      });
      child.stderr.on('data', (d) => {
        out += String(d);
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 110_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve({ code: c, out });
      });
    });
    expect(out).toContain('[HALT] local-demo');
    expect(out).toContain('BREAKER TRIPPED');
    expect(out).toContain('own wallet: recorded, not counted');
    expect(out).toMatch(/UNKNOWN token/);
    expect(out).toContain('customer withdrawal REJECTED');
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(120_000);
  }, 120_000);
});
