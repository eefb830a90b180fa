/**
 * The Fireblocks callback end to end on a local chain: the co-signer stand-in asks, the callback
 * approves through the guard, the "co-signer" then signs and sends the transfer with the hot key on
 * anvil, and the real poller reconciles it against the approval. A transfer the co-signer never
 * asked about trips reconciliation, and the next request is refused with that trip.
 */
import { parseUnits, Wallet } from 'ethers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { EvmChainReader } from '../../functions/adapters/evm/evm-chain-reader.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import { type PollResult, pollOnce } from '../../functions/core/use-cases/poll-chain.ts';
import { createFireblocksCallback } from '../../functions/custody/fireblocks.ts';
import { OffsetClock, RecordingPublisher } from '../integration/harness.ts';
import { type Anvil, startAnvil } from '../support/anvil.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';
import { FireblocksCosignerStandIn, rsaKeyPair, transferPayload } from '../support/fireblocks-cosigner.ts';
import { arm, quiet, type Served, serve } from './support.ts';

const RULE = 'reconciliation-devnet-unapproved';

describe('Fireblocks callback + reconciliation on anvil', () => {
  let anvil: Anvil;
  let hot: Wallet;
  let config: BreakerConfig;
  let db: TestStore;
  let served: Served;
  let cosigner: FireblocksCosignerStandIn;
  const clock = new OffsetClock();
  const publisher = new RecordingPublisher();

  beforeEach(async () => {
    anvil = await startAnvil({ noMining: true });
    hot = anvil.accounts[1] as Wallet;
    config = compileConfig(
      {
        name: 'fb-recon',
        chains: {
          devnet: {
            kind: 'evm',
            chainId: 31337,
            rpc: [anvil.url],
            confirmations: 0,
            blockTimeSeconds: 1,
            maxBlocksPerPoll: 50,
            startBlock: (await anvil.provider.getBlockNumber()) + 1,
            hotWallets: [hot.address],
            native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
          },
        },
        limits: { global: { usd: { '10m': 100_000_000 } } },
        reconciliation: { enabled: true, windowSeconds: 600 },
      },
      'fb-recon',
    );
    db = await startTestStore();
    await arm(db.store);
    const cosignerKeys = rsaKeyPair();
    const callbackKeys = rsaKeyPair();
    served = await serve(
      await createFireblocksCallback({
        store: db.store,
        config,
        settings: {
          pathPrefix: '',
          timeoutMs: 10_000,
          onFault: 'REJECT',
          operations: ['TRANSFER'],
          configChanges: 'REJECT',
          assets: { ETH_TEST: { chain: 'devnet', asset: 'ETH', decimals: 18 } },
        },
        cosignerPublicKeyPem: cosignerKeys.publicKeyPem,
        callbackPrivateKeyPem: callbackKeys.privateKeyPem,
        logger: quiet,
      }),
    );
    cosigner = new FireblocksCosignerStandIn({
      baseUrl: served.url,
      callbackPublicKeyPem: callbackKeys.publicKeyPem,
      keys: cosignerKeys,
    });
  });
  afterEach(async () => {
    await served.close();
    await anvil.stop();
    await db.close();
  });

  async function poll(): Promise<PollResult[]> {
    const chain = config.chains.get('devnet')!;
    const deps = {
      config,
      chain,
      reader: new EvmChainReader(chain),
      store: db.store,
      publisher,
      clock,
      owner: 'poller-a',
    };
    const results: PollResult[] = [];
    for (let i = 0; i < 20; i++) {
      const { result } = await pollOnce(deps);
      results.push(result);
      if (result.kind === 'idle') return results;
    }
    throw new Error('did not catch up');
  }
  const trips = (results: PollResult[]) => results.flatMap((r) => (r.kind === 'advanced' ? r.trips : []));

  it('an approved transfer reconciles; one the co-signer never asked about trips, and the next request is refused', async () => {
    const customer = Wallet.createRandom().address;
    const asked = await cosigner.signRequest(
      transferPayload({
        requestId: 'e2e-1',
        asset: 'ETH_TEST',
        amountStr: '0.010000000000000000',
        destAddress: customer,
        stage: 'signing',
      }),
    );
    expect(asked).toMatchObject({ kind: 'answered', action: 'APPROVE' });
    // Fireblocks signs and broadcasts only after APPROVE; here the hot key plays that part.
    await hot.sendTransaction({ to: customer, value: parseUnits('0.01', 18) });
    await anvil.mine(1);
    expect(trips(await poll())).toEqual([]);

    const thief = Wallet.createRandom().address;
    await hot.sendTransaction({ to: thief, value: parseUnits('0.01', 18) });
    await anvil.mine(1);
    expect(trips(await poll()).map((t) => t.ruleId)).toEqual([RULE]);

    const refused = await cosigner.signRequest(
      transferPayload({
        requestId: 'e2e-2',
        asset: 'ETH_TEST',
        amountStr: '0.01',
        destAddress: customer,
        stage: 'signing',
      }),
    );
    expect(refused).toMatchObject({ kind: 'answered', action: 'REJECT' });
    expect(refused.kind === 'answered' && refused.rejectionReason).toContain(RULE);
  }, 60_000);
});
