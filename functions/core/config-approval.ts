/**
 * Two people may let a loosened config take effect before operations.loosenDelaySeconds has passed.
 * The breaker cannot tell who deployed a change (a thief with a stolen deploy role looks like anyone
 * else), so the deployer's word counts for nothing: two approvals by different people (core/people.ts),
 * each through a verified operator identity, each naming the digest of the config now deployed. The
 * first approval is recorded and paged; the second ends the wait. One person approving twice, or two
 * sessions of one role, is one person.
 */
import type { BreakerConfig } from './config/types.ts';
import { effectiveOperations } from './config-record.ts';
import { ResetRejectedError } from './errors.ts';
import { samePerson } from './people.ts';
import type { AuditRecord, BreakerState, Page } from './state.ts';

export interface LooseningApprovalInput {
  /** The digest of the config whose loosening is approved (the [CONFIG] page names it). */
  digest: string;
  actor: string;
  nowMs: number;
}

export function approveLoosening(prev: BreakerState, req: LooseningApprovalInput, config: BreakerConfig): BreakerState {
  const recorded = prev.config;
  const pending = recorded?.pending;
  if (!recorded || !pending || req.nowMs >= pending.effectiveAtMs) {
    throw new ResetRejectedError('no loosened config is waiting for its delay: there is nothing to approve');
  }
  if (!matchesDigest(recorded.digest, req.digest)) {
    throw new ResetRejectedError(
      `digest ${req.digest} is not the config now deployed (${recorded.digest.slice(0, 12)}…): approve what the latest [CONFIG] page names`,
    );
  }
  const operations = effectiveOperations(prev, config);
  const earlier = pending.approvals ?? [];
  const same = earlier.find((a) => samePerson(a.actor, req.actor, operations));
  if (same) {
    throw new ResetRejectedError(
      `${req.actor} is the same person as ${same.actor}, who already approved: a different operator must approve`,
    );
  }
  const approvals = [...earlier, { actor: req.actor, atMs: req.nowMs }];
  const done = approvals.length >= 2;
  const id = `config-approval-${req.nowMs}`;
  const record: AuditRecord = {
    id: `audit-${id}`,
    atMs: req.nowMs,
    action: done ? 'config-loosening-approved' : 'config-loosening-approval',
    actor: req.actor,
    details: { digest: recorded.digest, loosened: pending.loosened, approvals },
  };
  const page = approvalPage(id, config.name, recorded.digest, pending.loosened, approvals, done);
  const { pending: _waiting, ...settled } = recorded;
  return {
    ...prev,
    version: prev.version + 1,
    updatedAtMs: req.nowMs,
    config: done ? settled : { ...recorded, pending: { ...pending, approvals } },
    outbox: [...prev.outbox, { kind: 'audit', id: record.id, record }, { kind: 'page', id: page.id, page }],
  };
}

/** The full digest, or a prefix of at least 12 hex digits as pages print it. */
function matchesDigest(digest: string, given: string): boolean {
  return /^[0-9a-f]{12,64}$/.test(given) && digest.startsWith(given);
}

function approvalPage(
  id: string,
  name: string,
  digest: string,
  loosened: readonly string[],
  approvals: readonly { actor: string; atMs: number }[],
  done: boolean,
): Page {
  const by = approvals.map((a) => a.actor).join(' and ');
  return {
    id: `page-${id}`,
    kind: 'config',
    subject:
      `[CONFIG] ${name}: loosening ${done ? 'approved, in effect now' : `approved by ${by}; one more needed`}`.slice(
        0,
        100,
      ),
    text: [
      done
        ? `Approved by ${by}: the loosened config ${digest.slice(0, 12)} is in effect now, before its delay ran out.`
        : `${by} approved the loosened config ${digest.slice(0, 12)}. It takes effect early only when a different person approves too; otherwise at the end of its delay.`,
      'Looser than before:',
      ...loosened.map((l) => `  - ${l}`),
      'If you did not expect this, trip the breaker and find who deployed and who approved.',
    ].join('\n'),
    details: { digest, loosened: [...loosened], approvals: [...approvals], done },
  };
}
