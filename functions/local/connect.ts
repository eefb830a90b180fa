import { existsSync } from 'node:fs';
import { loadConfigFile } from '../adapters/config/config-file.ts';
import type { DynamoDbBreakerStore } from '../adapters/dynamodb/dynamodb-breaker-store.ts';
import { localDynamoClient, startLocalDynamo } from '../adapters/dynamodb/local-dynamo.ts';
import type { BreakerConfig } from '../core/config/types.ts';
import { tableStores } from '../runtime/table-stores.ts';
import { readRuntime } from './runtime-file.ts';

export interface Connection {
  config: BreakerConfig;
  configPath: string;
  store: DynamoDbBreakerStore;
  /** Where the store lives, for messages. */
  where: string;
  close(): Promise<void>;
}

/** Default on-disk store of `breaker watch` for a config name. */
export function defaultStorePath(configName: string): string {
  return `.local/store/${configName}`;
}

/**
 * Reach the local store the operator means: the running runtime's (npm start / breaker watch in
 * another terminal), else the on-disk store of `breaker watch` for this config.
 */
export async function connectLocal(opts: { config?: string; store?: string }): Promise<Connection> {
  const runtime = readRuntime();
  if (runtime && (!opts.config || opts.config === runtime.configPath) && !opts.store) {
    const client = localDynamoClient(runtime.endpoint, runtime.token);
    return {
      config: loadConfigFile(runtime.configPath),
      configPath: runtime.configPath,
      store: tableStores(client, runtime.tableName).store,
      where: `the running runtime (pid ${runtime.pid}, ${runtime.endpoint})`,
      close: async () => client.destroy(),
    };
  }
  const configPath = opts.config ?? 'config/example.yaml';
  const config = loadConfigFile(configPath);
  const path = opts.store ?? defaultStorePath(config.name);
  if (!existsSync(path)) {
    throw new Error(
      `no local breaker found: no runtime is running (start one with \`npm start\` or \`breaker watch --config ${configPath}\`) and no store at ${path}`,
    );
  }
  const dynamo = await startLocalDynamo({ path });
  return {
    config,
    configPath,
    store: tableStores(dynamo.client, dynamo.tableName).store,
    where: `the store at ${path}`,
    close: () => dynamo.close(),
  };
}
