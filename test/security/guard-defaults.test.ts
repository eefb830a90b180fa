/**
 * Issue 11 item 12 (review finding 11): the guard's protections are not optional. The HTTP endpoint
 * refuses to start without authentication, and the guard refuses to start without the config (so an
 * unwatched chain id such as "eth" is refused, never approved past "ethereum"'s halts).
 */
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initialiseBreaker } from '../../functions/core/use-cases/initialise-breaker.ts';
import { WithdrawalHaltedError } from '../../functions/guard/errors.ts';
import { createBreakerGuard } from '../../functions/guard/guard.ts';
import { createGuardHttpHandler, guardFunctionUrlHandler } from '../../functions/guard/http-endpoint.ts';
import { actuatorConfig } from '../actuators/support.ts';
import { startTestStore, type TestStore } from '../support/dynamo.ts';

const config = actuatorConfig('http://127.0.0.1:1/hook', {});
const quiet = { warn() {}, error() {} };
const body = JSON.stringify({
  withdrawalId: 'w-1',
  chain: 'devnet',
  asset: 'ETH',
  destination: '0x2222222222222222222222222222222222222222',
  amount: '1',
});

describe('guard defaults fail closed', () => {
  let db: TestStore;
  beforeEach(async () => {
    db = await startTestStore();
    const clock = { now: () => Date.now() };
    await initialiseBreaker(
      { store: db.store, publisher: { publish: async () => {} }, clock },
      { actor: 't', reason: 'test' },
    );
  });
  afterEach(async () => {
    await db.close();
  });

  it('the guard will not start without the config', () => {
    expect(() => createBreakerGuard({ store: db.store, logger: quiet } as never)).toThrow(/config .* is required/);
  });

  it('with the config, a chain id the breaker does not watch is refused', async () => {
    const e = await createBreakerGuard({ store: db.store, config, logger: quiet })
      .check({ ...JSON.parse(body), chain: 'eth' })
      .catch((err: unknown) => err);
    expect(e).toBeInstanceOf(WithdrawalHaltedError);
    expect((e as WithdrawalHaltedError).rejection).toBe('unknown-chain');
  });

  it('the HTTP endpoint will not start without secrets or a named upstream authentication', () => {
    const guard = createBreakerGuard({ store: db.store, config, logger: quiet });
    expect(() => createGuardHttpHandler({ guard })).toThrow(/authentication/);
    expect(() => createGuardHttpHandler({ guard, secrets: [] })).toThrow();
  });

  it('behind an AWS_IAM function URL, an event without the IAM caller (a URL left open, AuthType NONE) is refused', async () => {
    const guard = createBreakerGuard({ store: db.store, config, logger: quiet });
    const handler = guardFunctionUrlHandler(
      createGuardHttpHandler({ guard, upstreamAuthentication: 'aws-iam-function-url' }),
    );
    const event = (requestContext: Record<string, unknown>) =>
      ({
        rawPath: '/authorize',
        headers: { 'content-type': 'application/json' },
        requestContext: { http: { method: 'POST' }, ...requestContext },
        body,
        isBase64Encoded: false,
      }) as unknown as LambdaFunctionURLEvent;
    expect((await handler(event({}))).statusCode).toBe(401);
    const signed = await handler(event({ authorizer: { iam: { userArn: 'arn:aws:iam::123456789012:role/signer' } } }));
    expect(signed.statusCode).toBe(200);
  });
});
