/**
 * Approved outpoints in the breaker table (dynalite): recorded before the approval, read back in
 * BatchGetItem chunks of 100. Faults the local store cannot produce (a failed put, keys DynamoDB leaves
 * unprocessed under throttling) are injected by wrapping the real client's `send`.
 */

import { BatchGetItemCommand, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbApprovedWithdrawals } from '../../functions/adapters/dynamodb/dynamodb-approved-withdrawals.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';

const txid = (i: number) => i.toString(16).padStart(64, '0');
const withdrawal = (id: string, outpoints: string[]) => ({
  withdrawalId: id,
  chain: 'btc',
  asset: 'BTC',
  destination: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
  amount: 1000n,
  approvedAtMs: 1_700_000_000_000,
  outpoints,
});

describe('approved outpoints on dynalite', () => {
  let db: TestStore;
  beforeAll(async () => {
    db = await startTestStore();
  }, 60_000);
  afterAll(async () => {
    await db?.close();
  });

  /** The real client, with `fault` consulted before each command is sent. */
  const wrapped = (fault: (command: unknown) => unknown) =>
    new DynamoDbApprovedWithdrawals({
      client: {
        send: async (command: unknown) => (await fault(command)) ?? db.client.send(command as never),
      } as unknown as DynamoDBClient,
      tableName: db.tableName,
    });

  it('reads 250 outpoints back in three BatchGetItem requests, telling approved from not', async () => {
    const approved = Array.from({ length: 230 }, (_, i) => `${txid(i)}:${i % 3}`);
    await db.store.recordApprovedWithdrawal(withdrawal('many', approved));
    const stranger = Array.from({ length: 20 }, (_, i) => `${txid(1000 + i)}:0`);
    let batches = 0;
    const log = wrapped((command) => {
      if (command instanceof BatchGetItemCommand) batches++;
      return undefined;
    });
    const found = await log.approvedOutpoints('btc', [...approved, ...stranger]);
    expect(batches).toBe(3);
    expect([...found].sort()).toEqual([...approved].sort());
    // Another chain's partition holds none of them.
    expect((await log.approvedOutpoints('other', approved)).size).toBe(0);
  });

  it('retries keys DynamoDB left unprocessed, and fails loudly when they stay unprocessed', async () => {
    const outpoints = [`${txid(1)}:1`, `${txid(4)}:1`];
    let first = true;
    const flaky = wrapped((command) => {
      if (!(command instanceof BatchGetItemCommand) || !first) return undefined;
      first = false;
      const keys = command.input.RequestItems?.[db.tableName]?.Keys ?? [];
      return { Responses: { [db.tableName]: [] }, UnprocessedKeys: { [db.tableName]: { Keys: keys } } };
    });
    expect([...(await flaky.approvedOutpoints('btc', outpoints))].sort()).toEqual(outpoints);
    const stuck = wrapped((command) => {
      if (!(command instanceof BatchGetItemCommand)) return undefined;
      const keys = command.input.RequestItems?.[db.tableName]?.Keys ?? [];
      return { Responses: { [db.tableName]: [] }, UnprocessedKeys: { [db.tableName]: { Keys: keys } } };
    });
    await expect(stuck.approvedOutpoints('btc', outpoints)).rejects.toThrow(
      /2 approved-outpoint keys still unprocessed after 8 rounds/,
    );
  }, 30_000);

  it('records the outpoints before the approval: when one cannot be recorded, the withdrawal is not approved', async () => {
    const log = wrapped((command) => {
      const sk = command instanceof PutItemCommand ? command.input.Item?.sk?.S : undefined;
      if (sk === `OUTPOINT#${txid(7)}:2`) throw new Error('injected: PutItem throttled');
      return undefined;
    });
    await expect(log.recordApprovedWithdrawal(withdrawal('half', [`${txid(6)}:0`, `${txid(7)}:2`]))).rejects.toThrow(
      'injected',
    );
    expect(await db.store.approvedWithdrawalsBetween('btc', 0, 2_000_000_000_000)).not.toContainEqual(
      expect.objectContaining({ withdrawalId: 'half' }),
    );
  });

  it('an outpoint keeps the withdrawal that first approved it; a replacement adding inputs records the new ones', async () => {
    const [a, b] = [`${txid(20)}:0`, `${txid(21)}:5`];
    await db.store.recordApprovedWithdrawal(withdrawal('rbf', [a]));
    await db.store.recordApprovedWithdrawal(withdrawal('rbf', [a, b]));
    expect([...(await db.store.approvedOutpoints('btc', [a, b]))].sort()).toEqual([a, b].sort());
    const item = await db.client.send(
      new BatchGetItemCommand({
        RequestItems: { [db.tableName]: { Keys: [{ pk: { S: 'APPROVED#btc' }, sk: { S: `OUTPOINT#${a}` } }] } },
      }),
    );
    const stored = item.Responses?.[db.tableName]?.[0];
    expect(stored?.withdrawalId?.S).toBe('rbf');
    // Expires 90 days after its approval, well past the 35-day outflow retention.
    expect(Number(stored?.expiresAt?.N)).toBe(1_700_000_000 + 90 * 86_400);
  });
});
