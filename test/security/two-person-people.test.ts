/**
 * Issue 11 item 4 (review finding 5): the two-person rule compares people, not principal strings.
 * Pure core: the decisions are what every path (function URL, console, --table, local) commits.
 */
import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { resetBreaker } from '../../functions/core/breaker.ts';
import { isBreakerError } from '../../functions/core/errors.ts';
import { manualTrip } from '../../functions/core/manual-trip.ts';
import { samePerson } from '../../functions/core/people.ts';
import { type BreakerState, initialState } from '../../functions/core/state.ts';
import { approveReset, requestReset } from '../../functions/core/two-person-reset.ts';
import { configInput } from '../support/fixtures.ts';

const ACCOUNT = '123456789012';
const session = (role: string, name: string) => `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${name}`;
const REASON = 'reviewed the outflows, all ours';

function config(operations: Record<string, unknown> = {}) {
  return compileConfig(
    { ...configInput(), operations: { twoPersonReset: true, approvalWindowSeconds: 900, ...operations } },
    'people-test',
  );
}

function tripped(cfg = config()): BreakerState {
  return manualTrip({ ...initialState(), version: 1 }, { scope: 'global', reason: REASON, actor: 'x', nowMs: 1 }, cfg);
}

/** Request as one principal, approve as another: the approval's outcome. */
function approveAs(requester: string, approver: string, cfg = config()): unknown {
  const requested = requestReset(tripped(cfg), { reason: REASON, actor: requester, nowMs: 10 }, cfg);
  try {
    return approveReset(
      requested,
      {
        requestId: requested.pendingReset?.requestId as string,
        actor: approver,
        nowMs: 20,
        processedThrough: {},
      },
      cfg,
    );
  } catch (e) {
    return e;
  }
}

describe('two-person reset means two people', () => {
  it('two sessions of one role are one person (the caller picks the session name)', () => {
    const outcome = approveAs(session('OnCall', 'alice'), session('OnCall', 'alice-2'));
    expect(isBreakerError(outcome, 'RESET_REJECTED')).toBe(true);
    expect((outcome as Error).message).toContain('same person');
  });

  it('role and user names compare without case, as IAM does', () => {
    expect(samePerson(session('oncall', 'Alice'), session('OnCall', 'bob'), config().operations)).toBe(true);
    expect(
      samePerson(`arn:aws:iam::${ACCOUNT}:user/Alice`, `arn:aws:iam::${ACCOUNT}:user/alice`, config().operations),
    ).toBe(true);
  });

  it('a user and a role mapped to one person in operations.people are one person', () => {
    const cfg = config({
      people: { alice: [`arn:aws:iam::${ACCOUNT}:user/alice`, `arn:aws:iam::${ACCOUNT}:role/AliceAdmin`] },
    });
    const outcome = approveAs(`arn:aws:iam::${ACCOUNT}:user/alice`, session('AliceAdmin', 'anything'), cfg);
    expect(isBreakerError(outcome, 'RESET_REJECTED')).toBe(true);
  });

  it('sessions of a role listed in personalSessionRoles are different people (the trust policy pins the session name)', () => {
    const cfg = config({ personalSessionRoles: [`arn:aws:iam::${ACCOUNT}:role/SSO-OnCall`] });
    const outcome = approveAs(session('SSO-OnCall', 'alice'), session('SSO-OnCall', 'bob'), cfg) as BreakerState;
    expect(outcome.tripped).toEqual({});
    // …but not when the people map says they are one person.
    const mapped = config({
      personalSessionRoles: [`arn:aws:iam::${ACCOUNT}:role/SSO-OnCall`],
      people: { alice: [session('SSO-OnCall', 'alice'), session('SSO-OnCall', 'alice.admin')] },
    });
    expect(
      isBreakerError(
        approveAs(session('SSO-OnCall', 'alice'), session('SSO-OnCall', 'alice.admin'), mapped),
        'RESET_REJECTED',
      ),
    ).toBe(true);
  });

  it('different roles held by different people still pass', () => {
    const outcome = approveAs(session('OnCall', 'alice'), session('Security', 'bob')) as BreakerState;
    expect(outcome.tripped).toEqual({});
  });

  it('the rule the deployed functions recorded in the state applies, not a local config that turned it off (--table)', () => {
    const deployed = tripped(config());
    const recorded: BreakerState = {
      ...deployed,
      config: {
        digest: 'deployed',
        recordedAtMs: 1,
        summary: { operations: { ...config().operations }, rules: {}, ownAddresses: {}, hotWallets: {}, actuators: {} },
      },
    };
    const local = config({ twoPersonReset: false });
    const e = (() => {
      try {
        return resetBreaker(recorded, { reason: REASON, actor: 'alice', nowMs: 5, processedThrough: {} }, local);
      } catch (err) {
        return err;
      }
    })();
    expect(isBreakerError(e, 'RESET_REJECTED')).toBe(true);
    expect((e as Error).message).toContain('two-person');
  });
});
