import { z } from 'zod';
import { formatPath, isBreakerError } from '../core/errors.ts';
import { systemClock } from '../core/time.ts';
import { resetBreakerUseCase } from '../core/use-cases/reset-breaker.ts';
import { type HandlerDeps, requirePublisher } from './runtime-deps.ts';

/** What an operator sends to reset, through the function URL or as a break-glass Invoke payload. */
const resetBody = z
  .object({
    reason: z.string({ error: 'required: what was reviewed and why re-arming is safe' }),
    scope: z.string().optional(),
    reviewedTripIds: z.array(z.string()).optional(),
  })
  .strict();

export interface ResetAnswer {
  statusCode: number;
  body: Record<string, unknown>;
}

/**
 * Validate a reset request and carry it out as `actor`. The caller (reset-breaker, reset-breaker-direct) has
 * already decided who the actor is from what AWS verified; nothing in `payload` can name one (the schema is strict).
 * Rejections (no reason, nothing tripped, tripped again since review) are answers, not errors.
 */
export async function runReset(deps: HandlerDeps, actor: string, payload: unknown): Promise<ResetAnswer> {
  const body = resetBody.safeParse(payload);
  if (!body.success) {
    return {
      statusCode: 400,
      body: { ok: false, error: body.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ') },
    };
  }
  try {
    const state = await resetBreakerUseCase(
      {
        config: deps.config,
        store: deps.store,
        publisher: requirePublisher(deps),
        mirror: deps.mirror,
        clock: systemClock,
      },
      { ...body.data, actor },
    );
    deps.logger.info('breaker reset', { actor, scope: body.data.scope ?? 'all', version: state.version });
    return {
      statusCode: 200,
      body: { ok: true, actor, stillTripped: Object.keys(state.tripped), version: state.version },
    };
  } catch (e) {
    if (isBreakerError(e, 'RESET_REJECTED')) return { statusCode: 409, body: { ok: false, error: e.message } };
    throw e;
  }
}
