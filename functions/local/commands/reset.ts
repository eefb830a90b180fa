import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { systemClock } from '../../core/time.ts';
import { resetBreakerUseCase } from '../../core/use-cases/reset-breaker.ts';
import { connectLocal } from '../connect.ts';
import { localPublisher } from '../publishers.ts';

export const summary = 're-arm the breaker after review: --reason "..." [--scope global|chain:<id>]';

/** The operator's identity locally is the OS account running the command (never a typed name). */
export function localOperator(): string {
  return `local:${userInfo().username}@${hostname()}`;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      reason: { type: 'string' },
      scope: { type: 'string' },
      config: { type: 'string' },
      store: { type: 'string' },
    },
  });
  if (!values.reason) {
    process.stderr.write('breaker reset: --reason "<what was reviewed and why it is safe>" is required\n');
    return 2;
  }
  const conn = await connectLocal(values);
  try {
    const before = await conn.store.getState();
    const reviewed = Object.values(before.tripped).map((t) => t.tripId);
    const state = await resetBreakerUseCase(
      { config: conn.config, store: conn.store, publisher: localPublisher(conn.config), clock: systemClock },
      { reason: values.reason, scope: values.scope, actor: localOperator(), reviewedTripIds: reviewed },
    );
    const still = Object.keys(state.tripped);
    process.stdout.write(
      `Re-armed by ${localOperator()} (${conn.where}). ${still.length ? `Still tripped: ${still.join(', ')}` : 'The breaker is armed.'}\n`,
    );
    return 0;
  } finally {
    await conn.close();
  }
}
