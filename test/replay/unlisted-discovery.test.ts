import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { MemoryBreakerStore } from '../../functions/adapters/memory/memory-breaker-store.ts';
import { replayScenario } from '../../functions/core/replay/replay.ts';
import { parseScenario } from '../../functions/core/replay/scenario.ts';
import { configInput } from '../support/fixtures.ts';

/**
 * In a replay, an unlisted token's event `usd` stands for the price on-chain discovery would have
 * found — only where the config turns discovery on for the chain; otherwise the token is valued as
 * configured for unknown assets (FORMAT.md).
 */

const FACTORY = '0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f';

function config(discovery: boolean) {
  const input = configInput({ global: { usd: { '1h': 1_000_000 } } });
  input.unknownAssets = {
    usdPerTransfer: 1000,
    ...(discovery
      ? { discovery: { enabled: true, chains: { ethereum: { uniswapV2Factories: [FACTORY], quoteAssets: ['USDC'] } } } }
      : {}),
  };
  return compileConfig(input, discovery ? 'with discovery' : 'without discovery');
}

// $2.4M of an unlisted token in three transfers: $3,000 by the unknown-asset rule, $2.4M by its market.
const drain = parseScenario({
  format: 'hot-wallet-breaker/scenario@1',
  name: 'unlisted-drain',
  events: [0, 30, 60].map((t) => ({
    t,
    chain: 'ethereum',
    asset: 'PEPE',
    amount: '1000000',
    usd: 800_000,
    to: '0xbad0bad0bad0bad0bad0bad0bad0bad0bad0bad0',
    label: 'attack',
  })),
});

async function replay(discovery: boolean) {
  return replayScenario(config(discovery), drain, { store: new MemoryBreakerStore() });
}

describe('replay values unlisted tokens by discovery only when the config turns it on', () => {
  it('discovery on: the event usd counts, and the $1M hourly limit trips on the second transfer', async () => {
    const result = await replay(true);
    const recorded = result.evaluator.recordsSince(Number.NEGATIVE_INFINITY);
    expect(recorded.map((r) => [r.known, r.usdMicros, r.priceSource])).toEqual(
      [0, 1, 2].map(() => [false, 800_000_000_000n, 'scenario']),
    );
    expect(result.score).toMatchObject({ tripped: true, rule: 'global-usd-1h' });
  });

  it('discovery off: each transfer is the configured $1,000, and nothing trips', async () => {
    const result = await replay(false);
    const recorded = result.evaluator.recordsSince(Number.NEGATIVE_INFINITY);
    expect(recorded.map((r) => [r.usdMicros, r.priceSource])).toEqual(
      [0, 1, 2].map(() => [1_000_000_000n, 'unknown-asset']),
    );
    expect(result.score.tripped).toBe(false);
  });
});
