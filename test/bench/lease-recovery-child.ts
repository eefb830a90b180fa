/**
 * The poller that gets killed (started by lease-recovery.ts): it polls the scripted chain into the
 * parent's dynalite, and after recording the first chunk of its batch it announces MID_BATCH and
 * stalls, holding its lease, until the parent kills it. The stall is the one injected fault.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { localDynamoClient } from '../../functions/adapters/dynamodb/local-dynamo.ts';
import type { BreakerStore } from '../../functions/core/ports.ts';
import { systemClock } from '../../functions/core/time.ts';
import { pollOnce } from '../../functions/core/use-cases/poll-chain.ts';
import { tableStores } from '../../functions/runtime/table-stores.ts';
import { MID_BATCH, RECOVERY_CHAIN, RECOVERY_TOKEN_ENV, recoveryChain, recoveryConfig } from './lease-recovery.ts';

const [endpoint, tableName] = process.argv.slice(2);
if (!endpoint || !tableName) throw new Error('usage: lease-recovery-child.ts <dynamo endpoint> <table>');
const { store } = tableStores(localDynamoClient(endpoint, process.env[RECOVERY_TOKEN_ENV]), tableName);
let chunks = 0;
const stalling: BreakerStore = new Proxy(store, {
  get(target, prop, receiver) {
    if (prop === 'recordOutflows') {
      return async (records: Parameters<BreakerStore['recordOutflows']>[0]) => {
        await target.recordOutflows(records);
        if (++chunks === 1) {
          process.stdout.write(`${MID_BATCH}\n`);
          await sleep(600_000);
        }
      };
    }
    const value = Reflect.get(target, prop, receiver);
    return typeof value === 'function' ? value.bind(target) : value;
  },
});
const config = recoveryConfig();
await pollOnce({
  config,
  chain: config.chains.get(RECOVERY_CHAIN) as NonNullable<ReturnType<typeof config.chains.get>>,
  reader: recoveryChain(),
  store: stalling,
  publisher: { publish: async () => undefined },
  clock: systemClock,
  owner: `doomed-${process.pid}`,
});
