import { parseArgs } from 'node:util';
import { loadConfigFile } from '../../adapters/config/config-file.ts';
import { startRuntimeConsole } from '../../console/runtime-console.ts';
import { consoleDeps } from '../../runtime/compose.ts';
import { defaultStorePath } from '../connect.ts';
import { outflowSummary } from '../format.ts';
import { localPublisher } from '../publishers.ts';
import { startRuntime } from '../runtime.ts';

export const summary = 'watch real chains from a config with the embedded store: --config my.yaml';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string' }, store: { type: 'string' }, quiet: { type: 'boolean' } },
  });
  if (!values.config) {
    process.stderr.write('breaker watch: --config <file> is required (start from config/example.yaml)\n');
    return 2;
  }
  const config = loadConfigFile(values.config);
  const storePath = values.store ?? defaultStorePath(config.name);
  const runtime = await startRuntime({
    config,
    configPath: values.config,
    publisher: localPublisher(config),
    storePath,
    onResult: (chain, r) => {
      if (r.kind === 'advanced') {
        if (!values.quiet || r.outflows.length > 0) {
          process.stdout.write(
            `${chain}: blocks ${r.from}–${r.to} (head ${r.head}), ${r.outflows.length} outflow(s)\n`,
          );
        }
        for (const o of r.outflows) process.stdout.write(`  ${outflowSummary(o)}\n`);
      } else if (r.kind === 'reorg') {
        process.stdout.write(
          `${chain}: REORG — rewound to block ${r.rewoundTo}, ${r.removed} orphaned outflow(s) removed\n`,
        );
      }
    },
    // Being blind is never silent.
    onError: (chain, e) => process.stderr.write(`${chain}: POLL FAILED — ${(e as Error).message}\n`),
  });
  const opsConsole = await startRuntimeConsole(consoleDeps(runtime.composed));
  process.stdout.write(
    `Watching ${[...config.chains.keys()].join(', ')} for ${config.name}; store ${storePath}. ` +
      'In another terminal: `npx breaker status` / `npx breaker reset --reason "..."`. Ctrl-C to stop.\n' +
      `Web console (this run only): ${opsConsole.url}\n`,
  );
  await waitForSignal();
  await opsConsole.close();
  await runtime.stop();
  return 0;
}

export function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
