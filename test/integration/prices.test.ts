import { parseUnits } from 'ethers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { customer, type Harness, startHarness, USD } from './harness.ts';

describe('the poller values outflows from an on-chain price feed (aggregator on anvil)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ ethPriceFeed: true });
  });
  afterEach(async () => {
    await h.stop();
  });

  it('uses the fresh feed price, and the worst case with one blind page when the feed goes stale', async () => {
    await h.hot.sendTransaction({ to: customer(), value: parseUnits('2', 18) });
    await h.anvil.mine(1);
    await h.catchUp();
    const [first] = await h.outflows();
    expect(first).toMatchObject({ priceSource: 'feed', usdMicros: 5_000n * USD }); // 2 ETH × $2,500

    // The feed stops updating: its last answer is older than maxAgeSeconds (600 s).
    const block = await h.anvil.provider.getBlock('latest');
    await h.anvil.setAutomine(true);
    await (await h.feed!.getFunction('setAnswer')(2_500_00000000n, BigInt(block!.timestamp - 3600))).wait();
    await h.anvil.setAutomine(false);
    for (const eth of ['1', '3']) {
      await h.hot.sendTransaction({ to: customer(), value: parseUnits(eth, 18) });
      await h.anvil.mine(1);
      await h.catchUp();
    }
    const later = (await h.outflows()).filter((r) => r.id !== first!.id && r.asset === 'ETH');
    expect(later.map((r) => [r.priceSource, r.usdMicros])).toEqual([
      ['worst-case', 5_000n * USD], // 1 ETH × $5,000 worst case — never zero, never the stale answer
      ['worst-case', 15_000n * USD],
    ]);
    const blind = h.publisher.ofKind('blind');
    expect(blind).toHaveLength(1); // once per hour per feed, not once per poll
    expect(blind[0]!.text).toMatch(/ETH on devnet .*stale/);
  });
});
