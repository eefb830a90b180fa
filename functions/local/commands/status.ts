import { parseArgs } from 'node:util';
import { systemClock } from '../../core/time.ts';
import { breakerStatus } from '../../core/use-cases/breaker-status.ts';
import { connectLocal } from '../connect.ts';
import { statusText } from '../format.ts';
import { jsonReplacer } from '../json.ts';

export const summary = 'show the breaker state, chains and recent audit (local store)';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string' }, store: { type: 'string' }, json: { type: 'boolean' } },
  });
  const conn = await connectLocal(values);
  try {
    const status = await breakerStatus({ config: conn.config, store: conn.store, clock: systemClock });
    if (values.json) {
      const { state: _state, ...rest } = status;
      process.stdout.write(`${JSON.stringify(rest, jsonReplacer, 2)}\n`);
    } else process.stdout.write(`${statusText(status)}\n(from ${conn.where})\n`);
    return status.armed ? 0 : 3;
  } finally {
    await conn.close();
  }
}
