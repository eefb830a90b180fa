/**
 * Reconciliation end to end on a local chain and store: anvil (blocks mined by hand), dynalite, the
 * real EVM reader and the poller, the guard and the reference signing service with the hot key.
 */

import { LambdaClient } from '@aws-sdk/client-lambda';
import { SSMClient } from '@aws-sdk/client-ssm';
import { type Contract, NonceManager, parseUnits, Wallet } from 'ethers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKillSwitchActuators } from '../../functions/adapters/actuators/build.ts';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { DynamoDbApprovedWithdrawals } from '../../functions/adapters/dynamodb/dynamodb-approved-withdrawals.ts';
import { EvmChainReader } from '../../functions/adapters/evm/evm-chain-reader.ts';
import { SsmKillSwitchMirror } from '../../functions/adapters/ssm/ssm-kill-switch-mirror.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import type { StateMirror } from '../../functions/core/ports.ts';
import type { ApprovedWithdrawal } from '../../functions/core/reconciliation/approved-withdrawal.ts';
import { type PollResult, pollOnce } from '../../functions/core/use-cases/poll-chain.ts';
import { resetBreakerUseCase } from '../../functions/core/use-cases/reset-breaker.ts';
import { createBreakerGuard } from '../../functions/guard/guard.ts';
import { createKillSwitch } from '../../functions/guard/kill-switch.ts';
import { parseKillSwitchValue } from '../../functions/kill-switch-protocol/index.ts';
import { ReferenceSigningService } from '../../functions/local/signing-service.ts';
import { startWebhookReceiver, WEBHOOK_SECRET } from '../actuators/support.ts';
import { OffsetClock, RecordingPublisher } from '../integration/harness.ts';
import { type Anvil, deployTestToken, startAnvil } from '../support/anvil.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';
import { initialiseForTest } from '../support/initialise.ts';
import {
  localClientConfig,
  type StoredParameter,
  ssmParameterHandlers,
  startLocalAwsJson,
} from '../support/local-aws-json.ts';
import { startLocalLambda } from '../support/local-lambda.ts';

const quiet = { warn() {}, error() {} };
const RULE = 'reconciliation-devnet-unapproved';

interface World {
  anvil: Anvil;
  hot: Wallet;
  signer: NonceManager;
  cold: string;
  sweep: string;
  usdt: Contract;
  config: BreakerConfig;
}

async function startWorld(): Promise<World> {
  const anvil = await startAnvil({ noMining: true });
  const [deployer, hot, sweepWallet, coldWallet] = anvil.accounts as [Wallet, Wallet, Wallet, Wallet];
  await anvil.setAutomine(true);
  const usdt = await deployTestToken(anvil, { symbol: 'USDT', decimals: 6 }, deployer);
  await (await usdt.getFunction('mint')(hot.address, parseUnits('10000000', 6))).wait();
  await anvil.setAutomine(false);
  const config = compileConfig(
    {
      name: 'recon-test',
      chains: {
        devnet: {
          kind: 'evm',
          chainId: 31337,
          rpc: [anvil.url],
          confirmations: 0,
          blockTimeSeconds: 1,
          maxBlocksPerPoll: 50,
          startBlock: (await anvil.provider.getBlockNumber()) + 1,
          explorer: 'https://explorer.invalid',
          hotWallets: [hot.address],
          ownAddresses: [coldWallet.address],
          native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
          tokens: [{ symbol: 'USDT', contract: await usdt.getAddress(), decimals: 6, usdPrice: 1 }],
        },
      },
      // Limits far above anything here: only reconciliation can trip.
      limits: { global: { usd: { '10m': 100_000_000 }, singleTxUsd: 50_000_000 } },
      reconciliation: {
        enabled: true,
        toleranceBps: 10,
        windowSeconds: 600,
        allowedDestinations: { devnet: [sweepWallet.address] },
      },
    },
    'recon-test',
  );
  return {
    anvil,
    hot,
    signer: new NonceManager(hot),
    cold: coldWallet.address,
    sweep: sweepWallet.address,
    usdt,
    config,
  };
}

function customer(): string {
  return Wallet.createRandom().address;
}

describe('reconciliation on anvil + dynalite', () => {
  let w: World;
  let db: TestStore;
  let publisher: RecordingPublisher;
  let clock: OffsetClock;
  let service: ReferenceSigningService;

  beforeEach(async () => {
    w = await startWorld();
    db = await startTestStore();
    await initialiseForTest(db.store);
    publisher = new RecordingPublisher();
    clock = new OffsetClock();
    const chain = w.config.chains.get('devnet')!;
    service = new ReferenceSigningService({
      wallet: w.signer,
      chain,
      guard: createBreakerGuard({ store: db.store, config: w.config, logger: quiet }),
    });
  });
  afterEach(async () => {
    await w.anvil.stop();
    await db.close();
  });

  async function poll(mirror?: StateMirror): Promise<PollResult[]> {
    const chain = w.config.chains.get('devnet')!;
    const deps = {
      mirror,
      config: w.config,
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

  it("customer withdrawals through the guard never trip; the attacker's first direct transfer does, whatever its size; then withdrawals are rejected", async () => {
    for (const [i, [asset, amount]] of (
      [
        ['ETH', parseUnits('1.5', 18)],
        ['USDT', parseUnits('2500', 6)],
        ['USDT', parseUnits('40', 6)],
      ] as const
    ).entries()) {
      const out = await service.withdraw({ withdrawalId: `cust-${i}`, asset, destination: customer(), amount });
      expect(out.status).toBe('sent');
    }
    // Treasury: a sweep to the cold wallet (own) and to the configured sweep destination, both by the hot key directly.
    await w.signer.sendTransaction({ to: w.cold, value: parseUnits('100', 18) });
    await w.usdt.connect(w.signer).getFunction('transfer')(w.sweep, parseUnits('50000', 6));
    await w.anvil.mine(1);
    expect(trips(await poll())).toEqual([]);
    expect(publisher.pages).toEqual([]);
    expect((await db.store.outflowsSince('devnet', 0)).filter((r) => !r.own)).toHaveLength(4);

    // The attacker holds the hot key: one transfer of 1 wei to an address nobody approved.
    const attacker = customer();
    const theft = await w.signer.sendTransaction({ to: attacker, value: 1n });
    await w.anvil.mine(1);
    const results = await poll();
    expect(trips(results).map((t) => [t.ruleId, t.scope.kind])).toEqual([[RULE, 'global']]);
    const page = publisher.ofKind('trip')[0]!;
    expect(page.subject).toBe('[HALT] recon-test: UNAPPROVED outflow, hot key may be stolen — global halted');
    expect(page.text).toContain(theft.hash);
    expect(page.text).toContain('no approved withdrawal of this asset to this destination');
    expect((await db.store.listAudit(10)).some((r) => r.action === 'trip' && r.details.ruleId === RULE)).toBe(true);

    // Customer withdrawals are now refused by the guard, and nothing is signed.
    const nonce = await w.anvil.provider.getTransactionCount(w.hot.address, 'pending');
    const refused = await service.withdraw({
      withdrawalId: 'cust-after',
      asset: 'ETH',
      destination: customer(),
      amount: parseUnits('1', 18),
    });
    expect(refused.status).toBe('rejected');
    expect(refused.status === 'rejected' && refused.error).toMatchObject({
      rejection: 'halted',
      failedClosed: false,
      scope: 'global',
    });
    expect(await w.anvil.provider.getTransactionCount(w.hot.address, 'pending')).toBe(nonce);
    expect(await createKillSwitch(db.store).isHalted({ chain: 'devnet' })).toMatchObject({ halted: true });
  });

  it('outflows continuing after the grace page the existing escalation, once', async () => {
    await w.signer.sendTransaction({ to: customer(), value: 1000n });
    await w.anvil.mine(1);
    expect(trips(await poll()).map((t) => t.ruleId)).toEqual([RULE]);
    // Past the grace for in-flight transactions ((0 + 2) × 1 s + 30 s): the thief keeps draining.
    const later = Math.floor(clock.now() / 1000) + 60;
    await w.anvil.rpc('evm_setNextBlockTimestamp', [later]);
    await w.signer.sendTransaction({ to: customer(), value: parseUnits('10', 18) });
    await w.anvil.mine(1);
    await poll();
    await w.anvil.rpc('evm_setNextBlockTimestamp', [later + 5]);
    await w.signer.sendTransaction({ to: customer(), value: parseUnits('20', 18) });
    await w.anvil.mine(1);
    await poll();
    const escalations = publisher.ofKind('escalation');
    expect(escalations).toHaveLength(1);
    expect(escalations[0]!.subject).toContain('outflows continue after the halt — keys may be compromised');
  });

  it('the trip engages the kill-switch layers from the poller, a failing layer is paged and audited, the reset releases them', async () => {
    const parameters = new Map<string, StoredParameter>();
    const aws = await startLocalAwsJson({ handlers: ssmParameterHandlers(parameters) });
    const lambda = await startLocalLambda({ 'eth-signer': { reserved: 20 }, 'eth-signer-2': {} });
    const webhook = await startWebhookReceiver(WEBHOOK_SECRET, 'recon-test');
    try {
      const config = compileConfig(
        {
          ...w.config.source,
          actuators: {
            webhook: { url: webhook.url, secretEnv: 'SECRET', timeoutMs: 500, retries: 0 },
            lambdaConcurrency: { functions: ['eth-signer', 'eth-signer-2'] },
          },
        },
        'recon-test',
      );
      const mirror = createKillSwitchActuators({
        config,
        audit: db.store,
        publisher,
        memory: new DynamoDbApprovedWithdrawals({ client: db.client, tableName: db.tableName }),
        ssm: new SsmKillSwitchMirror({
          client: new SSMClient(localClientConfig(aws.endpoint)),
          parameterName: '/breaker/ks',
        }),
        lambda: new LambdaClient(localClientConfig(lambda.endpoint)),
        env: { SECRET: WEBHOOK_SECRET },
      });
      lambda.failNext('PutFunctionConcurrency', 1, {
        status: 500,
        type: 'ServiceException',
        message: 'Lambda is down',
      });

      await w.signer.sendTransaction({ to: customer(), value: 5n });
      await w.anvil.mine(1);
      expect(trips(await poll(mirror)).map((t) => t.ruleId)).toEqual([RULE]);

      expect(parseKillSwitchValue(parameters.get('/breaker/ks')!.value)).toMatchObject({
        halted: true,
        scopes: ['global'],
      });
      expect(webhook.received.map((r) => r.parsed.ok && r.parsed.body.mode)).toEqual(['engaged']);
      const failure = publisher.ofKind('actuator-failure');
      expect(failure.map((p) => p.details.actuator)).toEqual(['lambda-concurrency']);
      const audit = await db.store.listAudit(50);
      expect(
        audit
          .filter((r) => r.action === 'actuator')
          .map((r) => r.details.actuator)
          .sort(),
      ).toEqual(['ssm-parameter', 'webhook']);
      expect(audit.filter((r) => r.action === 'actuator-failure').map((r) => r.details.actuator)).toEqual([
        'lambda-concurrency',
      ]);

      // The next flush (here: the reset's) retries and re-arms; the reserved concurrency is put back.
      await mirror?.mirror(await db.store.getState());
      expect(lambda.functions.get('eth-signer')!.reserved).toBe(0);
      await resetBreakerUseCase(
        { config, store: db.store, publisher, clock, mirror },
        { reason: 'reviewed: test theft, keys rotated', actor: 'ops@example' },
      );
      expect(lambda.functions.get('eth-signer')!.reserved).toBe(20);
      expect(lambda.functions.get('eth-signer-2')!.reserved).toBeUndefined();
      expect(webhook.received.map((r) => r.parsed.ok && r.parsed.body.mode)).toEqual(['engaged', 'released']);
      expect(parseKillSwitchValue(parameters.get('/breaker/ks')!.value).halted).toBe(false);
    } finally {
      await Promise.all([aws.close(), lambda.close(), webhook.close()]);
    }
  });

  describe('tolerance and window edges (toleranceBps 10, windowSeconds 600), judged on chain', () => {
    const edges: { name: string; sent: string; approved: string; approvedAt: number; trips: boolean }[] = [
      { name: 'exact amount and time', sent: '1000', approved: '1000', approvedAt: 0, trips: false },
      { name: 'sent 10 bps more', sent: '1001', approved: '1000', approvedAt: 0, trips: false },
      { name: 'sent 10 bps and 1 base unit more', sent: '1001.000001', approved: '1000', approvedAt: 0, trips: true },
      { name: 'sent 10 bps less', sent: '999', approved: '1000', approvedAt: 0, trips: false },
      { name: 'approved 600 s before the block', sent: '1000', approved: '1000', approvedAt: -600_000, trips: false },
      { name: 'approved 601 s before the block', sent: '1000', approved: '1000', approvedAt: -601_000, trips: true },
      {
        name: 'approved 600 s after the block (clock skew)',
        sent: '1000',
        approved: '1000',
        approvedAt: 600_000,
        trips: false,
      },
      { name: 'approved 601 s after the block', sent: '1000', approved: '1000', approvedAt: 601_000, trips: true },
    ];
    for (const e of edges) {
      it(`${e.name} → ${e.trips ? 'trips' : 'does not trip'}`, async () => {
        const to = customer();
        const blockTime = (await w.anvil.provider.getBlock('latest'))!.timestamp + 100;
        const record: ApprovedWithdrawal = {
          withdrawalId: 'edge',
          chain: 'devnet',
          asset: 'USDT',
          destination: to.toLowerCase(),
          amount: parseUnits(e.approved, 6),
          approvedAtMs: blockTime * 1000 + e.approvedAt,
        };
        await db.store.recordApprovedWithdrawal(record);
        await w.usdt.connect(w.signer).getFunction('transfer')(to, parseUnits(e.sent, 6));
        await w.anvil.rpc('evm_setNextBlockTimestamp', [blockTime]);
        await w.anvil.mine(1);
        expect(trips(await poll()).length > 0).toBe(e.trips);
      });
    }

    it('one approval accounts for one transfer: the same withdrawal sent twice trips on the second', async () => {
      const to = customer();
      const out = await service.withdraw({
        withdrawalId: 'dup',
        asset: 'USDT',
        destination: to,
        amount: parseUnits('700', 6),
      });
      expect(out.status).toBe('sent');
      await w.anvil.mine(1);
      expect(trips(await poll())).toEqual([]);
      const replay = await w.usdt.connect(w.signer).getFunction('transfer')(to, parseUnits('700', 6));
      await w.anvil.mine(1);
      expect(trips(await poll()).map((t) => t.ruleId)).toEqual([RULE]);
      expect(publisher.ofKind('trip')[0]!.text).toContain(replay.hash);
      expect(publisher.ofKind('trip')[0]!.text).toContain('already accounts for an earlier transfer');
    });
  });
});
