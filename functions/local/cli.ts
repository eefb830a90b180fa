import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isBreakerError } from '../core/errors.ts';

/**
 * `breaker <command> [...args]`: each command is a module in ./commands exporting
 * `run(argv): Promise<number>` and a one-line `summary`.
 */
const commandsDir = join(dirname(fileURLToPath(import.meta.url)), 'commands');

interface Command {
  run(argv: string[]): Promise<number>;
  summary: string;
}

function commandNames(): string[] {
  return readdirSync(commandsDir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function usage(): Promise<string> {
  const lines = ['usage: breaker <command> [options]', '', 'commands:'];
  for (const name of commandNames()) {
    const mod = (await import(join(commandsDir, `${name}.ts`))) as Command;
    lines.push(`  ${name.padEnd(8)} ${mod.summary}`);
  }
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${await usage()}\n`);
    return name ? 0 : 2;
  }
  if (!commandNames().includes(name)) {
    process.stderr.write(`breaker: unknown command "${name}"\n${await usage()}\n`);
    return 2;
  }
  const mod = (await import(join(commandsDir, `${name}.ts`))) as Command;
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // Expected failures (bad config, rejected reset, unreadable chain) print their message only.
    const message =
      isBreakerError(e) || (e instanceof Error && e.name === 'TypeError' && e.message.startsWith('Unknown option'))
        ? (e as Error).message
        : e instanceof Error && !process.env.BREAKER_DEBUG
          ? `${e.message}\n(set BREAKER_DEBUG=1 for the stack)`
          : String((e as Error)?.stack ?? e);
    process.stderr.write(`breaker: ${message}\n`);
    process.exitCode = isBreakerError(e, 'CONFIG_INVALID') || isBreakerError(e, 'RESET_REJECTED') ? 2 : 1;
  },
);
