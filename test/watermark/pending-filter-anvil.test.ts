/**
 * The EVM pending-transaction filter on anvil (`--no-mining`, so transactions wait in the mempool) with
 * dynalite: the nonce watermark's page names a thief's pending transaction; the filter is re-created
 * when the node forgets it; an endpoint that refuses filters leaves the pending-nonce check alone.
 * The forgetting and refusing endpoints are anvil behind a fault proxy (test/support/fault-proxy.ts):
 * anvil forgets a filter only after minutes idle and never refuses one.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { EvmChainReader } from '../../functions/adapters/evm/evm-chain-reader.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import { initialState } from '../../functions/core/state.ts';
import { watermarkCheck } from '../../functions/core/use-cases/check-watermark.ts';
import { pollOnce } from '../../functions/core/use-cases/poll-chain.ts';
import { watermarkRuleId } from '../../functions/core/watermark/rule-ids.ts';
import { createBreakerGuard } from '../../functions/guard/guard.ts';
import { OffsetClock, RecordingPublisher } from '../integration/harness.ts';
import { type Anvil, startAnvil } from '../support/anvil.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';
import { type FaultProxy, FORWARD, type ProxyRequest, startFaultProxy } from '../support/fault-proxy.ts';
import { initialiseForTest } from '../support/initialise.ts';

const CHAIN = 'devnet';
const CUSTOMER = '0x00000000000000000000000000000000c0ffee01';

function configFor(rpc: string, hot: string): BreakerConfig {
  return compileConfig(
    {
      name: 'pending-filter-test',
      chains: {
        [CHAIN]: {
          kind: 'evm',
          chainId: 31337,
          rpc: [rpc],
          confirmations: 0,
          blockTimeSeconds: 1,
          hotWallets: [hot],
          native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
        },
      },
      limits: { global: { usd: { '10m': 1e12 } } },
      watermark: { enabled: true, pending: true },
    },
    'pending-filter-test',
  );
}

/** A JSON-RPC error for every call in the request, when every call is `method` (single or batch). */
function refuse(method: string, code: number, message: string) {
  return (req: ProxyRequest) => {
    const body = JSON.parse(req.body || 'null') as { id: unknown; method: string } | { id: unknown; method: string }[];
    const calls = Array.isArray(body) ? body : [body];
    if (!calls.every((c) => c.method === method)) return FORWARD;
    const replies = calls.map((c) => ({ jsonrpc: '2.0', id: c.id, error: { code, message } }));
    return { kind: 'answer' as const, status: 200, body: Array.isArray(body) ? replies : replies[0] };
  };
}

describe('the pending-transaction filter on anvil', () => {
  let anvil: Anvil;
  let db: TestStore;
  let proxy: FaultProxy;
  const publisher = new RecordingPublisher();
  const clock = new OffsetClock();

  beforeAll(async () => {
    anvil = await startAnvil({ noMining: true });
    db = await startTestStore();
    await initialiseForTest(db.store);
    proxy = await startFaultProxy(anvil.url);
  }, 60_000);
  afterAll(async () => {
    await proxy?.stop();
    await anvil?.stop();
    await db?.close();
  });

  const hot = () => anvil.accounts[1]!;
  const checkOf = (config: BreakerConfig, reader: EvmChainReader) =>
    watermarkCheck({ config, chain: config.chains.get(CHAIN)!, reader, approvals: db.store });

  it("names a thief's pending transaction in the page, before inclusion; the signer's own never trips", async () => {
    const config = configFor(anvil.url, hot().address);
    const reader = new EvmChainReader(config.chains.get(CHAIN)!);
    const guard = createBreakerGuard({ store: db.store, config, logger: { warn() {}, error() {} } });
    const deps = { config, chain: config.chains.get(CHAIN)!, reader, store: db.store, publisher, clock, owner: 'p' };
    const checks = [checkOf(config, reader)];
    // The first poll installs the filter.
    await pollOnce({ ...deps, checks });
    const nonce = await anvil.provider.getTransactionCount(hot().address, 'pending');
    await guard.check({
      withdrawalId: 'signed-1',
      chain: CHAIN,
      asset: 'ETH',
      destination: CUSTOMER,
      amount: '1',
      nonce,
      hotWallet: hot().address,
    });
    await hot().sendTransaction({ to: CUSTOMER, value: 1n, nonce, gasLimit: 21_000n });
    await pollOnce({ ...deps, checks });
    expect((await db.store.getState()).tripped).toEqual({});

    const thief = await hot().sendTransaction({ to: hot().address, value: 0n, nonce: nonce + 1, gasLimit: 21_000n });
    await pollOnce({ ...deps, checks });
    const state = await db.store.getState();
    expect(state.tripped.global?.ruleId).toBe(watermarkRuleId(CHAIN));
    const page = publisher.pages.find((p) => p.kind === 'trip');
    expect(page?.details).toMatchObject({ transactionCount: 1, transactions: [{ txHash: thief.hash }] });
    expect(page?.text).toContain(`transaction ${thief.hash}`);
    expect(await anvil.provider.getTransactionCount(hot().address, 'latest')).toBe(nonce);
    await anvil.mine();
  });

  it('re-creates the filter when the node forgot it; what arrived meanwhile is left to the pending nonce', async () => {
    const reader = new EvmChainReader(configFor(proxy.url, hot().address).chains.get(CHAIN)!);
    expect(await reader.pendingHotTransactions()).toEqual([]);
    const missed = await hot().sendTransaction({ to: hot().address, value: 0n, gasLimit: 21_000n });
    proxy.set(refuse('eth_getFilterChanges', -32000, 'filter not found'));
    const forgotten = reader.pendingHotTransactions();
    // The refusal applies to the changes only: the new filter is installed through the proxy.
    expect(await forgotten).toEqual([]);
    proxy.set(undefined);
    const next = await hot().sendTransaction({ to: hot().address, value: 0n, gasLimit: 21_000n });
    const seen = await reader.pendingHotTransactions();
    expect(seen?.map((t) => t.hash)).toEqual([next.hash]);
    expect(seen?.map((t) => t.hash)).not.toContain(missed.hash);
    await anvil.mine();
  });

  it('an endpoint that refuses filters leaves the pending-nonce check, which still trips (without the hash)', async () => {
    proxy.set(
      refuse('eth_newPendingTransactionFilter', -32601, 'the method eth_newPendingTransactionFilter does not exist'),
    );
    const config = configFor(proxy.url, hot().address);
    const reader = new EvmChainReader(config.chains.get(CHAIN)!);
    // A first call, so the reader's chain-id probe (sent with its first request) is behind it.
    await reader.head();
    expect(await reader.pendingHotTransactions()).toBeUndefined();
    const thief = await hot().sendTransaction({ to: hot().address, value: 0n, gasLimit: 21_000n });
    const step = await checkOf(config, reader)({ chain: CHAIN, nowMs: 0 });
    const tripped = step?.(initialState(), 1_000);
    expect(tripped?.tripped.global?.ruleId).toBe(watermarkRuleId(CHAIN));
    const page = tripped?.outbox.find((e) => e.kind === 'page');
    expect(page?.kind === 'page' && page.page.details).toMatchObject({ transactionCount: 0 });
    expect(page?.kind === 'page' && page.page.text).not.toContain(thief.hash);
    proxy.set(undefined);
    await anvil.mine();
  });
});
