import { describe, expect, it } from 'vitest';
import { runDemo } from '../support/demo-process.ts';

/**
 * `npm start` is the README's first command: the demo must reach a trip and print the page.
 * Runs the real CLI as a child process (anvil, the Bitcoin devnet, dynalite, pollers, drain) on free ports.
 */
describe('breaker demo (npm start)', () => {
  it('trips on the drain, prints the trip page, and the guarded signer is refused', async () => {
    const started = Date.now();
    const { code, out } = await runDemo([]);
    expect(out).toContain('[HALT] local-demo');
    expect(out).toContain('BREAKER TRIPPED');
    expect(out).toContain('own wallet: recorded, not counted');
    expect(out).toMatch(/UNKNOWN token/);
    expect(out).toContain('customer withdrawal REJECTED');

    // Bitcoin: customer payouts (one batch transaction to several customers) seen and counted, the
    // sweep to the cold wallet seen and not counted.
    expect(out).toMatch(/signer: withdrawal #\d+ batch payout, \d customers in one transaction/);
    expect(out).toMatch(/^ {2}seen {2}btcnet block \d+: [\d.]+ BTC ≈ \$[\d,.]+ → \S+$/m);
    expect(out).toMatch(
      /^ {2}seen {2}btcnet block \d+: 60 BTC ≈ \$6,000,000\.00 → \S+ {2}\(own wallet: recorded, not counted\)$/m,
    );

    // The trip page's breaching window of a global USD rule lists Bitcoin transactions: BTC counted with every other chain.
    const trip = boxText(out, 'TRIP · page');
    expect(trip).toMatch(/Rule global-usd-\d+[mh]: USD out of all chains/);
    expect(trip).toMatch(/asset-btcnet-BTC-units-1h [\d.]+ BTC of 10 BTC/);
    expect(trip).toMatch(
      /[\d.]+ BTC \(\$[\d,.]+\) bcrt1qdc62ygze02jkw5nr6gugdk3lq87uarkfxf5yga → \S+ btcnet tx [0-9a-f]{64}/,
    );
    expect(trip).not.toContain('bcrt1ptn2zww9hk3t0t823jh6zd204zchdn34nd6pexx68apagm5clvuyquhll9f'); // the cold wallet
    const counted = /Bitcoin in the totals at the trip: (\d+) outflows, \$([\d,.]+)/.exec(out);
    expect(Number(counted?.[1])).toBeGreaterThan(0);
    expect(Number(counted?.[2]?.replaceAll(',', ''))).toBeGreaterThan(10_000); // at least one of the attacker's BTC transfers
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(120_000);
  }, 120_000);
});

/** The text of the first page box whose header contains `header`, its wrapped lines joined. */
function boxText(out: string, header: string): string {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => l.startsWith('┏') && l.includes(header));
  expect(start, `a page box "${header}" in the output`).toBeGreaterThanOrEqual(0);
  const body: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('┗')) break;
    if (line.startsWith('┃')) body.push(line.slice(1, -1).trim());
  }
  return body.join(' ');
}
