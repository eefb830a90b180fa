import { describe, expect, it } from 'vitest';
import { runDemo } from '../support/demo-process.ts';

/**
 * `npm start -- --reconciliation`: customer withdrawals go through the reference signing service
 * (guard approves and records each), and the attacker's FIRST transfer with the stolen hot key
 * trips the breaker; withdrawals are rejected afterwards.
 */
describe('breaker demo with reconciliation on', () => {
  it("trips on the attacker's first transfer, with the stolen-key page, and rejects withdrawals after", async () => {
    const { code, out } = await runDemo(['--reconciliation']);
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
