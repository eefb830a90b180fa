import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import type { AuditLog, BreakerStateStore } from '../../functions/core/ports.ts';
import type { BreakerState } from '../../functions/core/state.ts';
import { type CustodyHandler, custodyListener } from '../../functions/custody/transport.ts';
import type { GuardStore } from '../../functions/guard/guard.ts';
import { initialiseForTest } from '../support/initialise.ts';

export const HOT = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8';
export const USDT_CONTRACT = '0x5fbdb2315678afecb367f032d93f642f64180aa3';
export const CUSTOMER = '0x2222222222222222222222222222222222222222';
export const BTC_HOT = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4';
export const BTC_CUSTOMERS = [
  'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq',
  '3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy',
  '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2',
] as const;
export const quiet = { warn() {}, error() {} };

/** A breaker watching an EVM devnet (ETH, USDT) and Bitcoin; RPCs are never called by the callbacks. */
export function custodyTestConfig(custody: Record<string, unknown> = {}): BreakerConfig {
  return compileConfig(
    {
      name: 'custody-test',
      chains: {
        devnet: {
          kind: 'evm',
          chainId: 31337,
          rpc: ['http://127.0.0.1:1'],
          confirmations: 0,
          blockTimeSeconds: 1,
          hotWallets: [HOT],
          native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
          tokens: [{ symbol: 'USDT', contract: USDT_CONTRACT, decimals: 6, usdPrice: 1 }],
        },
        btc: {
          kind: 'bitcoin',
          esplora: ['http://127.0.0.1:1'],
          confirmations: 0,
          blockTimeSeconds: 600,
          hotWallets: [BTC_HOT],
          native: { symbol: 'BTC', decimals: 8, usdPrice: 60_000 },
        },
      },
      limits: { global: { usd: { '10m': 1_000_000_000 } } },
      custody,
    },
    'custody-test',
  );
}

/** Armed the way a deployed breaker is: initialised (state version 1, nothing tripped). */
export async function arm(store: BreakerStateStore & AuditLog): Promise<void> {
  await initialiseForTest(store);
}

/** Trip the breaker as a transition does: the next version of the stored state, `make` says what is tripped. */
export async function halt(store: BreakerStateStore, make: (version: number) => BreakerState): Promise<void> {
  const { version } = await store.getState();
  await store.saveState(make(version + 1), version);
}

export async function allApprovals(store: GuardStore, chain: string) {
  return store.approvedWithdrawalsBetween(chain, 0, 9_999_999_999_999);
}

export interface Served {
  url: string;
  close(): Promise<void>;
}

export async function serve(handler: CustodyHandler): Promise<Served> {
  const server = createServer(custodyListener(handler));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** The store with its state reads replaced: a fault injected where no stand-in can produce it. */
function withStateReads(store: GuardStore, getState: () => Promise<BreakerState>): GuardStore {
  return {
    getState,
    unreleasedTrips: () => store.unreleasedTrips(),
    recordApprovedWithdrawal: (w) => store.recordApprovedWithdrawal(w),
    approvedWithdrawalsBetween: (chain, from, to) => store.approvedWithdrawalsBetween(chain, from, to),
  };
}

/** Injected: the first `failures` state reads throw (dynalite cannot fail once and then recover), later ones reach the store. */
export function failingFirstReads(store: GuardStore, failures: number): GuardStore {
  let left = failures;
  return withStateReads(store, async () => {
    if (left > 0) {
      left--;
      throw new Error('injected: store unreachable');
    }
    return store.getState();
  });
}

/** Injected: state reads that never answer (a hung connection). */
export function hangingReads(store: GuardStore): GuardStore {
  return withStateReads(store, () => new Promise(() => {}));
}
