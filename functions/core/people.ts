/**
 * Who is a person, for the two-person rule. Principals are strings a caller partly chooses: an
 * assumed-role session name is picked by whoever calls sts:AssumeRole, and one person may hold a
 * user and several roles. So principals are normalised before they are compared:
 *
 * - an assumed-role session is its role (`arn:aws:iam::<account>:role/<name>`), unless the role is
 *   listed in `operations.personalSessionRoles` (its trust policy pins the session to the person);
 * - IAM names compare without case, as IAM treats them;
 * - principals listed under one person in `operations.people` are that person.
 */
import type { BreakerConfig } from './config/types.ts';

type Operations = Pick<BreakerConfig['operations'], 'people' | 'personalSessionRoles'>;

const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/;
const IAM_PRINCIPAL = /^arn:(aws[a-z-]*):iam::(\d{12}):(user|role)\/(.+)$/;

/** The principal as the identity it stands for (see the module comment). */
export function normalisePrincipal(principal: string, personalSessionRoles: readonly string[] = []): string {
  const p = principal.trim();
  const session = ASSUMED_ROLE.exec(p);
  if (session) {
    const [, partition, account, role, name] = session as unknown as [string, string, string, string, string];
    const roleArn = `arn:${partition}:iam::${account}:role/${role.toLowerCase()}`;
    const personal = personalSessionRoles.some((r) => normalisePrincipal(r) === roleArn);
    return personal ? `${roleArn}/session/${name.toLowerCase()}` : roleArn;
  }
  const iam = IAM_PRINCIPAL.exec(p);
  if (iam) {
    const [, partition, account, kind, path] = iam as unknown as [string, string, string, string, string];
    // Paths are part of the ARN but not of the name's uniqueness: keep only the name.
    return `arn:${partition}:iam::${account}:${kind}/${(path.split('/').at(-1) ?? path).toLowerCase()}`;
  }
  return p;
}

/** The person a principal belongs to: a name from `operations.people`, else the normalised principal. */
export function personOf(principal: string, operations: Operations): string {
  const roles = operations.personalSessionRoles ?? [];
  const normal = normalisePrincipal(principal, roles);
  for (const [person, principals] of Object.entries(operations.people ?? {})) {
    if (principals.some((q) => normalisePrincipal(q, roles) === normal)) return `person:${person}`;
  }
  return normal;
}

export function samePerson(a: string, b: string, operations: Operations): boolean {
  return personOf(a, operations) === personOf(b, operations);
}
