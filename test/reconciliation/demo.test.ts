import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * `npm start -- --reconciliation`: customer withdrawals go through the reference signing service
 * (guard approves and records each), and the attacker's FIRST transfer with the stolen hot key
 * trips the breaker; withdrawals are rejected afterwards.
 */
describe('breaker demo with reconciliation on', () => {
  it("trips on the attacker's first transfer, with the stolen-key page, and rejects withdrawals after", async () => {
    const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'functions/local/cli.ts',
          'demo',
          '--reconciliation',
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
    expect(out).toContain('reconciliation ON');
    expect(out).toMatch(/signer: withdrawal #\d+ .* \(approved and recorded by the guard\)/);
    const tripAt = out.indexOf('TRIPPED');
    expect(tripAt).toBeGreaterThan(0);
    // The trip's evidence is the attacker's first transfer (95,000 USDT), and only it.
    expect(out.indexOf('  attacker: 95000 USDT')).toBeLessThan(tripAt);
    expect(out).toContain('Transactions in the breaching window (1, largest first)');
    expect(out).toMatch(/95000 USDT \(\$95,000\.00\) 0x70997970c51812dc3a010c7d01b50e0d17dc79c8 →/);
    expect(out).toContain('1 unapproved transfer');
    expect(out).toContain('UNAPPROVED outflow, hot key may be stolen');
    expect(out).toContain('STOLEN-KEY SIGNAL');
    expect(out).toContain('reconciliation-devnet-unapproved');
    expect(out.slice(tripAt)).toContain('customer withdrawal REJECTED');
    expect(code).toBe(0);
  }, 120_000);
});
