/**
 * Crash recovery after a poller is killed mid-batch: a child process polls a scripted chain into a
 * shared dynalite, records the first chunk of a 600-outflow batch under its lease, and is killed with
 * SIGKILL while it holds the lease. A second poller (this process, runPoller at a 250 ms interval, as
 * the local runtime or the next Lambda invocation would run) recovers the range once the lease runs
 * out. Recovery time = from the SIGKILL to the moment the second poller has committed the whole range.
 * Used by test/faults/lease-recovery.test.ts (which asserts it) and `npm run bench` (which reports it).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { type LocalDynamo, startLocalDynamo } from '../../functions/adapters/dynamodb/local-dynamo.ts';
import type { ChainReader } from '../../functions/core/chain-kind.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import { outflowId } from '../../functions/core/model.ts';
import type { PagePublisher } from '../../functions/core/ports.ts';
import type { Page } from '../../functions/core/state.ts';
import { systemClock } from '../../functions/core/time.ts';
import { DEFAULT_LEASE_MS } from '../../functions/core/use-cases/cursor-lease.ts';
import { initialiseBreaker } from '../../functions/core/use-cases/initialise-breaker.ts';
import { runPoller } from '../../functions/core/use-cases/run-poller.ts';
import { tableStores } from '../../functions/runtime/table-stores.ts';
import { ScriptedChain, scriptedChainConfig } from '../support/scripted-chain.ts';

/** The chain of scriptedChainConfig. */
export const RECOVERY_CHAIN = 'devnet';
const HOT = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8';
const CUSTOMER = '0x00000000000000000000000000000000000000c1';
/** Two blocks of 300 outflows each: three lease-checked chunks, so the kill lands between two of them. */
const SCRIPT = { 5: 300, 9: 300 };
export const RECOVERY_OUTFLOWS = Object.values(SCRIPT).reduce((a, b) => a + b, 0);
const HEAD = 20;
/** The variable that hands the child the local store's per-run secret. */
export const RECOVERY_TOKEN_ENV = 'LEASE_RECOVERY_STORE_TOKEN';
/** What the child prints once it has recorded part of the batch and stalls, holding the lease. */
export const MID_BATCH = 'mid-batch';

export function recoveryConfig(): BreakerConfig {
  return scriptedChainConfig({ name: 'lease-recovery', hotWallet: HOT });
}

export function recoveryChain(): ChainReader {
  return new ScriptedChain(RECOVERY_CHAIN, HEAD, { from: HOT, to: CUSTOMER, amount: 10n ** 18n, outflows: SCRIPT });
}

export interface RecoveryRun {
  /** SIGKILL → the range committed by the next poller. */
  recoveryMs: number;
  leaseMs: number;
  /** Records the killed poller left in the store when it died (undone and redone by the recovery). */
  orphanedRecords: number;
  outflowsRecorded: number;
  expectedOutflows: number;
  /** The ledger against the scripted chain, as the fault matrix counts it. */
  counts: { outflows: number; missed: number; doubleCounted: number; phantom: number; wrongAmount: number };
  tripPages: number;
  cursorLastBlock: number | undefined;
  leaseLeft: boolean;
}

export async function measureLeaseRecovery(): Promise<RecoveryRun> {
  const dynamo = await startLocalDynamo();
  try {
    return await killAndRecover(dynamo);
  } finally {
    await dynamo.close();
  }
}

async function killAndRecover(dynamo: LocalDynamo): Promise<RecoveryRun> {
  const config = recoveryConfig();
  const chain = config.chains.get(RECOVERY_CHAIN) as NonNullable<ReturnType<typeof config.chains.get>>;
  const { store } = tableStores(dynamo.client, dynamo.tableName);
  // Armed the audited way, as a deploy (or a first local run) does: an absent state is halted.
  await initialiseBreaker(
    { store, clock: systemClock, publisher: { publish: async () => undefined } },
    { actor: 'bench', reason: 'lease-recovery measurement' },
  );
  const script = fileURLToPath(new URL('./lease-recovery-child.ts', import.meta.url));
  // The local store answers only with this run's secret; the child gets it in its environment.
  const child = spawn(process.execPath, ['--import', 'tsx', script, dynamo.endpoint, dynamo.tableName], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, [RECOVERY_TOKEN_ENV]: dynamo.token },
  });
  const exited = once(child, 'exit');
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes(MID_BATCH)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the poller exited (${code}) before it was mid-batch`)));
    });
  } finally {
    clearTimeout(guard);
  }
  const held = await store.getCursor(RECOVERY_CHAIN);
  if (!held?.lease) throw new Error('the killed poller held no lease: the kill did not land mid-batch');
  const orphanedRecords = (await store.outflowsSince(RECOVERY_CHAIN, 0)).length;

  child.kill('SIGKILL');
  const killedAt = performance.now();
  await exited;

  const pages: Page[] = [];
  const publisher: PagePublisher = { publish: async (p) => void pages.push(p) };
  const abort = new AbortController();
  let recoveredAt: number | undefined;
  await runPoller(
    { config, chain, reader: recoveryChain(), store, publisher, clock: systemClock, owner: 'rescuer' },
    {
      deadlineMs: systemClock.now() + DEFAULT_LEASE_MS * 4,
      intervalMs: 250,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      signal: abort.signal,
      onResult: (r) => {
        if (r.kind === 'advanced' && r.to >= HEAD) {
          recoveredAt = performance.now();
          abort.abort();
        }
      },
    },
  );
  if (recoveredAt === undefined) throw new Error(`not recovered within ${DEFAULT_LEASE_MS * 4} ms`);
  const cursor = await store.getCursor(RECOVERY_CHAIN);
  const ledger = await store.outflowsSince(RECOVERY_CHAIN, 0);
  const truth = new Map(
    (await recoveryChain().readRange(0, HEAD)).transfers.map((t) => [outflowId(t.chain, t.txHash, t.index), t]),
  );
  const seen = new Map<string, number>();
  for (const r of ledger) seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
  const counts = {
    outflows: truth.size,
    missed: [...truth.keys()].filter((id) => !seen.has(id)).length,
    doubleCounted: [...seen.values()].filter((n) => n > 1).length,
    phantom: [...seen.keys()].filter((id) => !truth.has(id)).length,
    wrongAmount: ledger.filter((r) => truth.has(r.id) && truth.get(r.id)?.amount !== r.amount).length,
  };
  return {
    recoveryMs: recoveredAt - killedAt,
    leaseMs: DEFAULT_LEASE_MS,
    orphanedRecords,
    outflowsRecorded: (await store.outflowsSince(RECOVERY_CHAIN, 0)).length,
    expectedOutflows: RECOVERY_OUTFLOWS,
    counts,
    tripPages: pages.filter((p) => p.kind === 'trip').length,
    cursorLastBlock: cursor?.lastBlock,
    leaseLeft: cursor?.lease !== undefined,
  };
}
