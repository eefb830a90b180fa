import { describe, expect, it } from 'vitest';
import { classifyTransfers, UNKNOWN_ASSET, windowTimes } from '../../functions/core/classify.ts';
import type { ChainTransfer } from '../../functions/core/model.ts';
import { ADDR, compile, usd } from '../support/fixtures.ts';

const config = compile();
const ethereum = config.chains.get('ethereum')!;
const bsc = config.chains.get('bsc')!;

function transfer(overrides: Partial<ChainTransfer>): ChainTransfer {
  return {
    chain: 'ethereum',
    block: 100,
    blockHash: `0x${'aa'.repeat(32)}`,
    blockTime: 1_700_000_000,
    txHash: `0x${'01'.repeat(32)}`,
    index: null,
    contract: null,
    from: ADDR.ethHot,
    to: ADDR.stranger,
    amount: 10n ** 18n,
    ...overrides,
  };
}

describe('classifyTransfers', () => {
  it.each([
    {
      name: 'native ETH, valued at the static price',
      t: { contract: null, amount: 2n * 10n ** 18n, index: null },
      asset: 'ETH',
      decimals: 18,
      known: true,
      usdMicros: usd(2000),
      priceSource: 'static',
      id: `ethereum:0x${'01'.repeat(32)}:native`,
    },
    {
      name: 'a configured token (USDT, 6 decimals)',
      t: { contract: ADDR.ethUsdt, amount: 250_000_000_000n, index: 7 },
      asset: 'USDT',
      decimals: 6,
      known: true,
      usdMicros: usd(250_000),
      priceSource: 'static',
      id: `ethereum:0x${'01'.repeat(32)}:7`,
    },
    {
      name: 'a token nobody configured: UNKNOWN, valued per transfer whatever the amount',
      t: { contract: ADDR.unknownToken, amount: 10n ** 30n, index: 3 },
      asset: UNKNOWN_ASSET,
      decimals: null,
      known: false,
      usdMicros: usd(1000),
      priceSource: 'unknown-asset',
      id: `ethereum:0x${'01'.repeat(32)}:3`,
    },
  ])('$name', ({ t, asset, decimals, known, usdMicros, priceSource, id }) => {
    const [r] = classifyTransfers(config, ethereum, [transfer(t)], () => 1_700_000_000);
    expect(r).toMatchObject({ asset, decimals, known, usdMicros, priceSource, id, own: false, amount: t.amount });
  });

  it('values a wei-sized transfer at a micro-dollar, never at zero', () => {
    const [r] = classifyTransfers(config, ethereum, [transfer({ amount: 1n })], () => 0);
    expect(r?.usdMicros).toBe(1n);
  });

  it('looks tokens up per chain: the same symbol on BSC has its own contract and decimals', () => {
    const [onBsc] = classifyTransfers(
      config,
      bsc,
      [transfer({ chain: 'bsc', contract: ADDR.bscUsdt, amount: 5n * 10n ** 18n, index: 0 })],
      () => 0,
    );
    expect(onBsc).toMatchObject({ asset: 'USDT', decimals: 18, usdMicros: usd(5) });
    // Ethereum's USDT contract means nothing on BSC
    const [foreign] = classifyTransfers(
      config,
      bsc,
      [transfer({ chain: 'bsc', contract: ADDR.ethUsdt, index: 0 })],
      () => 0,
    );
    expect(foreign).toMatchObject({ asset: UNKNOWN_ASSET, known: false });
  });

  it.each([
    { name: 'to the cold wallet', chain: ethereum, to: ADDR.cold, own: true },
    {
      name: 'to the cold wallet written in upper case',
      chain: ethereum,
      to: ADDR.cold.toUpperCase().replace('0X', '0x'),
      own: true,
    },
    { name: 'to another hot wallet of the same chain', chain: ethereum, to: ADDR.ethHot2, own: true },
    { name: "to another chain's hot wallet (rebalancing)", chain: bsc, to: ADDR.ethHot, own: true },
    { name: 'to an outside address', chain: ethereum, to: ADDR.stranger, own: false },
  ])('a transfer $name is own=$own', ({ chain, to, own }) => {
    const [r] = classifyTransfers(config, chain, [transfer({ chain: chain.id, to })], () => 0);
    expect(r?.own).toBe(own);
    // an own transfer is still recorded and valued: the ledger shows it, the rules skip it
    expect(r?.usdMicros).toBeGreaterThan(0n);
  });

  it('takes each record window time from its block', () => {
    const times = new Map([
      [100, 1_000],
      [101, 1_012],
    ]);
    const records = classifyTransfers(
      config,
      ethereum,
      [transfer({ block: 101, txHash: '0xb' }), transfer({ block: 100, txHash: '0xa' })],
      (n) => times.get(n)!,
    );
    expect(records.map((r) => [r.block, r.t])).toEqual([
      [101, 1_012],
      [100, 1_000],
    ]);
  });
});

describe('windowTimes', () => {
  it('never steps back, even when a block time does (Bitcoin timestamps may)', () => {
    const times = windowTimes(
      [
        { number: 10, time: 1_000 },
        { number: 11, time: 1_600 },
        { number: 12, time: 1_300 }, // 5 minutes before its parent
        { number: 13, time: 1_700 },
      ],
      900,
    );
    expect([...times.entries()]).toEqual([
      [10, 1_000],
      [11, 1_600],
      [12, 1_600],
      [13, 1_700],
    ]);
  });

  it("starts from the parent's window time, not the first block's own time", () => {
    const times = windowTimes([{ number: 50, time: 990 }], 1_000);
    expect(times.get(50)).toBe(1_000);
  });
});
