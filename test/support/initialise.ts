/**
 * A test's breaker starts the way a deployed one does: initialised (an absent state is halted and no
 * transition creates it; test/security/absent-state.test.ts). Audited like any initialisation.
 */
import type { AuditLog, BreakerStateStore } from '../../functions/core/ports.ts';
import type { Clock } from '../../functions/core/time.ts';
import { initialiseBreaker } from '../../functions/core/use-cases/initialise-breaker.ts';

export async function initialiseForTest(
  store: BreakerStateStore & AuditLog,
  clock: Clock = { now: () => Date.now() },
): Promise<void> {
  await initialiseBreaker(
    { store, clock, publisher: { publish: async () => {} } },
    { actor: 'test', reason: 'test setup' },
  );
}
