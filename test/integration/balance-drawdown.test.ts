import { parseUnits } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressTopic, TRANSFER_TOPIC } from '../../functions/adapters/evm/rpc-shapes.ts';
import { createKillSwitch } from '../../functions/guard/kill-switch.ts';
import { deployLogEmitter } from '../support/anvil.ts';
import { customer, type Harness, startHarness } from './harness.ts';

/**
 * The balance-drawdown rule on the real read path: anvil, the EVM reader (balances read with
 * eth_getBalance / balanceOf at the range's last block), the poll use case, and dynalite. The steps
 * run in order on one chain: inflows and own transfers first (no trip), then the drain that trips.
 */
describe('balance drawdown on anvil + dynalite + the EVM reader', () => {
  let h: Harness;
  const usdt = (n: string) => parseUnits(n, 6);
  const odd = (n: string) => parseUnits(n, 18);

  beforeAll(async () => {
    // USD limits out of the way: only the drawdown rule is under test.
    h = await startHarness({ globalUsd10m: 1_000_000_000_000, balanceDrawdown: { window: '1h', tripPercent: 50 } });
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
  });

  async function transfer(token: 'usdt' | 'odd', to: string, amount: bigint) {
    await (token === 'usdt' ? h.usdt : h.unknownToken).connect(h.hot).getFunction('transfer')(to, amount);
  }

  async function pollAll() {
    await h.anvil.mine(1);
    return h.catchUp();
  }

  it('a refill in the same hour cushions a large withdrawal: no trip, and the balance after it is exact', async () => {
    // Hot holds 100M USDT; treasury refills 100M, then customers take 90M: 90M of the 200M is 45 %.
    await h.usdt.connect(h.anvil.accounts[0]!).getFunction('mint')(h.hot.address, usdt('100000000'));
    await h.anvil.mine(1);
    const a = customer();
    await transfer('usdt', a, usdt('90000000'));
    const results = await pollAll();
    expect(results.flatMap((r) => (r.kind === 'advanced' ? r.trips : []))).toEqual([]);
    const [out] = (await h.outflows()).filter((r) => r.to === a.toLowerCase());
    // Read back from dynalite: the balance is stored exactly with the record.
    expect(out?.balanceAfter).toBe(usdt('110000000'));
    expect((await h.store.getState()).tripped).toEqual({});
  });

  it('a sweep to the cold wallet is not counted as taken', async () => {
    await h.hot.sendTransaction({ to: h.cold, value: parseUnits('9000', 18) });
    const results = await pollAll();
    expect(results.flatMap((r) => (r.kind === 'advanced' ? r.trips : []))).toEqual([]);
    const sweep = (await h.outflows()).find((r) => r.own && r.contract === null);
    expect(sweep?.balanceAfter).toBe(await h.anvil.provider.getBalance(h.hot.address));
  });

  it('a fake Transfer log from a contract without balanceOf cannot blind the chain', async () => {
    // Anyone can emit Transfer(from: hot wallet) from their own contract (address poisoning does). Its
    // balance cannot be read; the poll must go on, with that asset's balance unknown.
    const emitter = await deployLogEmitter(h.anvil);
    const word = (n: bigint) => `0x${n.toString(16).padStart(64, '0')}`;
    const victim = customer();
    await emitter.getFunction('emitLog')(
      [TRANSFER_TOPIC, addressTopic(h.hot.address), addressTopic(victim)],
      word(10n ** 24n),
    );
    const results = await pollAll();
    expect(results.at(-1)?.kind).toBe('idle');
    const fake = (await h.outflows()).find((r) => r.to === victim.toLowerCase());
    expect(fake).toMatchObject({ contract: (await emitter.getAddress()).toLowerCase(), asset: 'UNKNOWN' });
    expect(fake?.balanceAfter).toBeUndefined();
    expect((await h.store.getState()).tripped).toEqual({});
  });

  it('a drain of an unlisted ERC-20 token trips the breaker through the drawdown rule', async () => {
    // The config does not list ODD: each transfer is valued at $100, far under every USD limit.
    const thief = customer();
    await transfer('odd', thief, odd('300000'));
    await h.anvil.mine(1);
    await transfer('odd', thief, odd('300000'));
    const results = await pollAll();
    const trips = results.flatMap((r) => (r.kind === 'advanced' ? r.trips : []));
    expect(trips.map((t) => [t.ruleId, t.scope])).toEqual([
      ['pattern-drawdown-devnet-1h', { kind: 'chain', chain: 'devnet' }],
    ]);
    // 600k of the 1M: 60 % of the balance, as ppm, against the 50 % limit.
    expect(trips[0]?.evidence).toMatchObject({ measure: 'ppm', value: '600000', limit: '500000' });
    const drained = (await h.outflows()).filter((r) => r.to === thief.toLowerCase());
    expect(drained.map((r) => [r.asset, r.usdMicros, r.balanceAfter])).toEqual([
      ['UNKNOWN', 100_000_000n, odd('700000')],
      ['UNKNOWN', 100_000_000n, odd('400000')],
    ]);
    const page = h.publisher.ofKind('trip')[0];
    expect(page?.text).toContain(
      `unlisted token ${(await h.unknownToken.getAddress()).toLowerCase()} on devnet: ${odd('600000')} base units out, ${odd('400000')} base units left`,
    );
    // The signer's side sees the halt.
    expect((await createKillSwitch(h.store).isHalted({ chain: 'devnet' })).halted).toBe(true);
  });

  it('reads each balance in one request of (assets × hot wallets) calls, pinned to the block hash', async () => {
    const block = await h.anvil.provider.getBlock('latest');
    h.reader.resetCounters();
    const balances = await h.reader.balancesAt({ number: block!.number, hash: block!.hash! }, [
      null,
      (await h.usdt.getAddress()).toLowerCase(),
      (await h.unknownToken.getAddress()).toLowerCase(),
    ]);
    expect(h.reader.counters()).toMatchObject({ rpcCalls: 3, httpRequests: 1 });
    expect([...balances.values()]).toEqual([
      await h.anvil.provider.getBalance(h.hot.address, block!.number),
      usdt('110000000'),
      odd('400000'),
    ]);
    // A hash the chain does not have is an error, never a balance.
    await expect(
      h.reader.balancesAt({ number: block!.number, hash: `0x${'ab'.repeat(32)}` }, [null]),
    ).rejects.toThrow();
  });
});
