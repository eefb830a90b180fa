import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { DynamoDbBreakerStore } from '../../functions/adapters/dynamodb/dynamodb-breaker-store.ts';
import { localDynamoClient } from '../../functions/adapters/dynamodb/local-dynamo.ts';
import { commitTransition } from '../../functions/core/use-cases/commit-transition.ts';
import { createBreakerGuard } from '../../functions/guard/guard.ts';
import { TABLE_ACCESS } from '../../infra/constructs/table-access.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';
import { deniedCalls, startRecordingProxy, type TableCall } from '../support/dynamo-access.ts';
import type { FaultProxy } from '../support/fault-proxy.ts';
import { initialiseForTest } from '../support/initialise.ts';

/**
 * The signer policy the stack exports (`TABLE_ACCESS.signer`) must cover every DynamoDB call the guard makes,
 * approving and refusing: a missing grant would make every signature fail closed in AWS. The guard runs against
 * dynalite through a recording proxy.
 */
const HOT = '0x2222222222222222222222222222222222222222';
const config = compileConfig(
  {
    name: 'signer-access',
    chains: {
      devnet: {
        kind: 'evm',
        chainId: 31337,
        rpc: ['http://127.0.0.1:1'],
        confirmations: 0,
        blockTimeSeconds: 1,
        hotWallets: [HOT],
        native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
      },
    },
    limits: { global: { usd: { '10m': 1_000_000 } } },
  },
  'signer-access',
);

describe('the guard stays within the signer grant', () => {
  let db: TestStore;
  let proxy: FaultProxy;
  const recorded: TableCall[] = [];

  beforeAll(async () => {
    db = await startTestStore();
    await initialiseForTest(db.store);
    proxy = await startRecordingProxy(db, (calls) => recorded.push(...calls));
  });
  afterAll(async () => {
    await proxy?.stop();
    await db?.close();
  });

  it('approving (state, trip records, the approval items) and refusing while tripped', async () => {
    const store = new DynamoDbBreakerStore({ client: localDynamoClient(proxy.url), tableName: db.tableName });
    const guard = createBreakerGuard({ store, config, logger: { warn() {}, error() {} } });
    const approval = await guard.check({
      withdrawalId: 'w-1',
      chain: 'devnet',
      asset: 'ETH',
      destination: '0x1111111111111111111111111111111111111111',
      amount: 10n ** 17n,
    });
    expect(approval).toMatchObject({ approved: true });

    // Trip it (as a poller would, through the table directly), then the guard must read the trip records too.
    await commitTransition(
      { store: db.store, publisher: { publish: async () => {} }, clock: { now: () => Date.now() } },
      (state, nowMs) => ({
        ...state,
        version: state.version + 1,
        updatedAtMs: nowMs,
        tripped: {
          global: {
            tripId: 't-1',
            atMs: nowMs,
            ruleId: 'global-usd-10m',
            scope: { kind: 'global' },
            evidence: {
              ruleId: 'global-usd-10m',
              summary: 'test',
              measure: 'usd',
              value: '2',
              limit: '1',
              windowSeconds: 600,
              windowEnd: 1,
              outflowIds: [],
            },
          },
        },
      }),
      'test trip',
    );
    await expect(
      guard.check({
        withdrawalId: 'w-2',
        chain: 'devnet',
        asset: 'ETH',
        destination: '0x1111111111111111111111111111111111111111',
        amount: 1n,
      }),
    ).rejects.toThrow(/halt/i);

    expect(new Set(recorded.map((c) => c.operation))).toEqual(new Set(['GetItem', 'Query', 'PutItem']));
    expect(deniedCalls(TABLE_ACCESS.signer, recorded)).toEqual([]);
  });
});
