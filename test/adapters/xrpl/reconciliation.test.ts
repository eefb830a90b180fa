import { afterEach, describe, expect, it } from 'vitest';
import { createChainReader } from '../../../functions/adapters/chain-readers.ts';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import type { ChainConfig } from '../../../functions/core/config/types.ts';
import { reconciliationRuleId } from '../../../functions/core/reconciliation/config.ts';
import { type PollResult, pollOnce } from '../../../functions/core/use-cases/poll-chain.ts';
import { createBreakerGuard } from '../../../functions/guard/guard.ts';
import { RecordingPublisher } from '../../integration/harness.ts';
import { startTestStore, type TestStore } from '../../support/dynamo.ts';
import { initialiseForTest } from '../../support/initialise.ts';
import { RIPPLE_EPOCH_OFFSET, XrplLedgerEngine } from '../../support/xrpl/ledger-engine.ts';
import { XrplLedgerServer } from '../../support/xrpl/ledger-server.ts';

/**
 * Reconciliation on the XRP Ledger: the guard records approved withdrawals by currency + issuer id
 * (any spelling of the hex code, X-address destinations), the poller matches the XRPL outflows to
 * them, and an outflow nobody approved — the same currency code from another issuer included — trips.
 */
const quiet = { warn() {}, error() {} };
const RLUSD_HEX = '524C555344000000000000000000000000000000';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

describe('XRPL reconciliation by currency and issuer', () => {
  it('approved XRP and IOU withdrawals never trip; the same code from another issuer does', async () => {
    const engine = new XrplLedgerEngine(Math.floor(Date.now() / 1000) - RIPPLE_EPOCH_OFFSET - 60);
    const server = new XrplLedgerServer(engine);
    await server.start();
    const db: TestStore = await startTestStore();
    cleanup = async () => {
      await server.stop();
      await db.close();
    };
    await initialiseForTest(db.store);
    const hot = engine.fund(10_000_000_000n);
    const customer = engine.fund(50_000_000n);
    const issuer = engine.fund(50_000_000n);
    const forger = engine.fund(50_000_000n);
    for (const holder of [hot, customer]) {
      engine.trustSet(holder, RLUSD_HEX, issuer.classicAddress);
      engine.trustSet(holder, RLUSD_HEX, forger.classicAddress);
    }
    engine.close();
    engine.payIou(issuer, hot.classicAddress, RLUSD_HEX, issuer.classicAddress, '100000');
    engine.payIou(forger, hot.classicAddress, RLUSD_HEX, forger.classicAddress, '100000');
    engine.close();
    const rlusd = `${RLUSD_HEX}.${issuer.classicAddress}`;
    const config = compileConfig(
      {
        name: 'xrpl-recon',
        chains: {
          xrpl: {
            kind: 'xrpl',
            rpc: [server.url],
            confirmations: 0,
            blockTimeSeconds: 4,
            startBlock: engine.validatedIndex + 1,
            hotWallets: [hot.classicAddress],
            native: { symbol: 'XRP', decimals: 6, usdPrice: 2 },
            tokens: [{ symbol: 'RLUSD', contract: rlusd, decimals: 6, usdPrice: 1 }],
          },
        },
        limits: { global: { usd: { '1h': 1_000_000 } } },
        reconciliation: { enabled: true, windowSeconds: 600 },
      },
      'xrpl-recon',
    );
    const chain = config.chains.get('xrpl') as ChainConfig;
    const guard = createBreakerGuard({ store: db.store, config, logger: quiet });
    const publisher = new RecordingPublisher();
    const poll = async (): Promise<PollResult> =>
      (
        await pollOnce({
          config,
          chain,
          reader: createChainReader(chain),
          store: db.store,
          publisher,
          clock: { now: () => Date.now() },
          owner: 'poller',
        })
      ).result;

    // The signer asks the guard first: the RLUSD id with its hex code in lower case, the destination as an X-address.
    await guard.check({
      withdrawalId: 'w-xrp',
      chain: 'xrpl',
      asset: 'XRP',
      destination: customer.classicAddress,
      amount: 5_000_000n,
    });
    await guard.check({
      withdrawalId: 'w-rlusd',
      chain: 'xrpl',
      asset: `${RLUSD_HEX.toLowerCase()}.${issuer.classicAddress}`,
      destination: customer.getXAddress(42),
      amount: 250_000_000n,
    });
    engine.payXrp(hot, customer.classicAddress, 5_000_000n);
    engine.payIou(hot, customer.classicAddress, RLUSD_HEX, issuer.classicAddress, '250');
    engine.close();
    expect(await poll()).toMatchObject({ kind: 'advanced', trips: [] });

    // The same currency code from another issuer, the same amount, the same customer: not what was approved.
    engine.payIou(hot, customer.classicAddress, RLUSD_HEX, forger.classicAddress, '250');
    engine.close();
    const result = await poll();
    expect(result).toMatchObject({
      kind: 'advanced',
      trips: [expect.objectContaining({ ruleId: reconciliationRuleId('xrpl') })],
    });
    const page = publisher.ofKind('trip')[0];
    expect(page?.text).toContain(`${RLUSD_HEX}.${forger.classicAddress}`);
  });
});
