import { parseArgs } from 'node:util';
import { loadConfigFile } from '../../adapters/config/config-file.ts';
import { localDynamoClient, startLocalDynamo } from '../../adapters/dynamodb/local-dynamo.ts';
import { localOperator } from '../../console/local-server.ts';
import { systemClock } from '../../core/time.ts';
import { initialiseBreaker } from '../../core/use-cases/initialise-breaker.ts';
import { tableStores } from '../../runtime/table-stores.ts';
import { connectTable } from '../aws-target.ts';
import { defaultStorePath } from '../connect.ts';
import { localPublisher } from '../publishers.ts';
import { readRuntime } from '../runtime-file.ts';

export const summary =
  'create the armed breaker state, audited (an absent state is halted): --reason "..." [--config, --store | --table]';

/**
 * The only way a breaker becomes armed from nothing. A deploy does it in AWS; locally the first run
 * of `npm start`/`breaker watch` does it once. Run it by hand after a [TAMPER] page (the state item
 * was deleted): the tamper trip still halts until a reset.
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      store: { type: 'string' },
      table: { type: 'string' },
      region: { type: 'string' },
      topic: { type: 'string' },
      reason: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values.reason) {
    process.stderr.write(
      'breaker init --reason "<why>" [--config <file>] [--store <dir>] | --table <name> --region r --config <file> [--topic arn]\n',
    );
    return values.help ? 0 : 2;
  }
  const target = await openInitTarget(values);
  try {
    const outcome = await initialiseBreaker(
      { store: target.store, publisher: target.publisher, clock: systemClock },
      { actor: target.actor, reason: values.reason },
    );
    process.stdout.write(
      outcome === 'created'
        ? `Initialised ${target.where}: armed, audited as ${target.actor}.\n`
        : `${target.where} is already initialised; nothing written.\n`,
    );
    return 0;
  } finally {
    await target.close();
  }
}

async function openInitTarget(values: {
  config?: string;
  store?: string;
  table?: string;
  region?: string;
  topic?: string;
}) {
  if (values.table) {
    const t = await connectTable({
      table: values.table,
      region: values.region,
      config: values.config,
      topic: values.topic,
    });
    return { store: t.store, publisher: t.publisher, actor: t.operator, where: t.where, close: async () => t.close() };
  }
  const configPath = values.config ?? 'config/example.yaml';
  const config = loadConfigFile(configPath);
  const runtime = readRuntime();
  if (runtime && runtime.configPath === configPath && !values.store) {
    const client = localDynamoClient(runtime.endpoint);
    return {
      store: tableStores(client, runtime.tableName).store,
      publisher: localPublisher(config),
      actor: localOperator(),
      where: `the running runtime (pid ${runtime.pid})`,
      close: async () => client.destroy(),
    };
  }
  const path = values.store ?? defaultStorePath(config.name);
  const dynamo = await startLocalDynamo({ path });
  return {
    store: tableStores(dynamo.client, dynamo.tableName).store,
    publisher: localPublisher(config),
    actor: localOperator(),
    where: `the store at ${path}`,
    close: () => dynamo.close(),
  };
}
