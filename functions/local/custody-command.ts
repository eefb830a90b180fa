import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loadConfigFile } from '../adapters/config/config-file.ts';
import type { BreakerConfig } from '../core/config/types.ts';
import type { CustodySettings } from '../core/custody/config.ts';
import { ConfigError } from '../core/errors.ts';
import { type CustodyHandler, custodyListener } from '../custody/transport.ts';
import type { GuardLogger, GuardStore } from '../guard/guard.ts';
import { tableStores } from '../runtime/table-stores.ts';
import { connectLocal } from './connect.ts';

/**
 * What `breaker fireblocks-callback|cobo-callback|bitgo-policy` share: which breaker store the
 * guard reads (the local runtime's, or a deployed table), and serving a callback until a signal.
 */
const custodyCommandOptions = {
  config: { type: 'string' },
  port: { type: 'string', default: '8443' },
  host: { type: 'string', default: '127.0.0.1' },
  store: { type: 'string' },
  table: { type: 'string' },
  region: { type: 'string' },
  help: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

const custodyCommandHelp = `  --config <file>    the breaker config with a custody: section (required)
  --port <n>         where to listen (0: any free port) [8443]
  --host <addr>      bind address [127.0.0.1]; terminate TLS in front of it
  store: the local runtime's (default; --store <dir> for breaker watch's on-disk store), or
         --table <name> [--region r] for a deployed breaker table (the guard's IAM grants)`;

/** Every refusal and fault as one JSON line on stderr, for the operator's log shipper. */
export const custodyLogger: GuardLogger = {
  warn: (message, ...extra) => writeLine('WARN', message, extra),
  error: (message, ...extra) => writeLine('ERROR', message, extra),
};

function writeLine(level: string, message: string, extra: Record<string, unknown>[]): void {
  process.stderr.write(
    `${JSON.stringify({ level, time: new Date().toISOString(), message, ...Object.assign({}, ...extra) })}\n`,
  );
}

type Values = { [K in keyof typeof custodyCommandOptions]?: string | boolean };

export interface CustodyTarget {
  config: BreakerConfig;
  /** The `custody:` section as validated. */
  custody: NonNullable<CustodySettings>;
  /** Where key files named in the config are read from: its own folder. */
  configDir: string;
  store: GuardStore;
  where: string;
  close(): Promise<void>;
}

async function openCustodyTarget(values: Values): Promise<CustodyTarget> {
  const configPath = values.config;
  if (typeof configPath !== 'string') throw new TypeError('--config <file> is required');
  const configDir = dirname(resolve(configPath));
  if (typeof values.table === 'string') {
    const config = loadConfigFile(configPath);
    const client = new DynamoDBClient({ region: typeof values.region === 'string' ? values.region : undefined });
    return {
      config,
      custody: custodyOf(config),
      configDir,
      store: tableStores(client, values.table).store,
      where: `table ${values.table}`,
      close: async () => client.destroy(),
    };
  }
  const conn = await connectLocal({
    config: configPath,
    store: typeof values.store === 'string' ? values.store : undefined,
  });
  return { ...conn, custody: custodyOf(conn.config), configDir };
}

function custodyOf(config: BreakerConfig): NonNullable<CustodySettings> {
  const custody = (config.source as { custody?: CustodySettings }).custody;
  if (!custody) throw new ConfigError(config.name, ['custody: missing (see docs/CUSTODY.md)']);
  return custody;
}

/** A key file named in the config, relative to the config's folder. */
export function readKeyFile(configDir: string, path: string, what: string): string {
  try {
    return readFileSync(resolve(configDir, path), 'utf8');
  } catch (e) {
    throw new ConfigError(what, [`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
  }
}

/** Listen, print where, and serve until SIGINT/SIGTERM. */
async function serveCustody(
  handler: CustodyHandler,
  values: Values,
  describe: (baseUrl: string) => string,
  target: CustodyTarget,
): Promise<number> {
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new TypeError(`--port: not a port: ${values.port}`);
  const server = createServer(custodyListener(handler));
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, String(values.host), () => ok());
  });
  const { address, port: bound } = server.address() as AddressInfo;
  process.stdout.write(`${describe(`http://${address}:${bound}`)}\n  guard store: ${target.where}\n`);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await target.close();
  return 0;
}

type Platform = keyof NonNullable<CustodySettings>;

/**
 * One custody command from argv to a served callback: usage, the store the guard reads, the
 * platform's section of `custody:` (required), then `start` builds the handler and says where it listens.
 */
export async function runCustodyCommand<P extends Platform>(
  argv: string[],
  command: string,
  platform: P,
  start: (
    target: CustodyTarget,
    settings: NonNullable<NonNullable<CustodySettings>[P]>,
  ) => Promise<{ handler: CustodyHandler; describe: (baseUrl: string) => string }>,
): Promise<number> {
  const { values } = parseArgs({ args: argv, options: custodyCommandOptions });
  if (values.help || !values.config) {
    process.stderr.write(`breaker ${command} --config <file> [--port n]\n${custodyCommandHelp}\n`);
    return values.help ? 0 : 2;
  }
  const target = await openCustodyTarget(values);
  const settings = target.custody[platform];
  if (!settings) throw new ConfigError(target.config.name, [`custody.${platform}: missing`]);
  const { handler, describe } = await start(target, settings as NonNullable<NonNullable<CustodySettings>[P]>);
  return serveCustody(handler, values, describe, target);
}
