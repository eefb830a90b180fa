/**
 * Outflows found versus outflows sent, matched exactly by id (`chain:txHash:logIndex|native`), with the
 * token, sender, recipient and amount checked too. Anything missed, doubled, extra or different is a
 * correctness failure: the bench stops loudly rather than print a throughput for a wrong answer.
 */
import type { ExpectedOutflow } from './traffic.ts';

export interface FoundOutflow {
  id: string;
  block: number;
  contract: string | null;
  from: string;
  to: string;
  amount: bigint;
}

export interface Exactness {
  sent: number;
  found: number;
  missing: string[];
  doubled: string[];
  extra: string[];
  different: string[];
  exact: boolean;
}

/** Compare within blocks [from, to] (default: everything expected). */
export function compareOutflows(
  found: readonly FoundOutflow[],
  expected: readonly ExpectedOutflow[],
  range?: { from: number; to: number },
): Exactness {
  const inRange = (b: number) => !range || (b >= range.from && b <= range.to);
  const want = new Map(expected.filter((e) => inRange(e.block)).map((e) => [e.id, e]));
  const seen = new Map<string, number>();
  const extra: string[] = [];
  const different: string[] = [];
  for (const f of found) {
    seen.set(f.id, (seen.get(f.id) ?? 0) + 1);
    const e = want.get(f.id);
    if (!e) {
      extra.push(f.id);
      continue;
    }
    if (
      e.contract !== f.contract ||
      e.from !== f.from ||
      e.to !== f.to ||
      e.amount !== f.amount ||
      e.block !== f.block
    ) {
      different.push(`${f.id}: found ${describe(f)}, sent ${describe(e)}`);
    }
  }
  const missing = [...want.keys()].filter((id) => !seen.has(id));
  const doubled = [...seen.entries()].filter(([, n]) => n > 1).map(([id]) => id);
  return {
    sent: want.size,
    found: found.length,
    missing,
    doubled,
    extra,
    different,
    exact: missing.length + doubled.length + extra.length + different.length === 0 && found.length === want.size,
  };
}

export function assertExact(label: string, result: Exactness): void {
  if (result.exact) return;
  const sample = (name: string, ids: string[]) =>
    ids.length === 0 ? '' : `\n  ${name} (${ids.length}): ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ' …' : ''}`;
  throw new Error(
    `${label}: NOT EXACT — found ${result.found} outflows, sent ${result.sent}` +
      sample('missing', result.missing) +
      sample('doubled', result.doubled) +
      sample('extra', result.extra) +
      sample('different', result.different),
  );
}

function describe(o: { contract: string | null; from: string; to: string; amount: bigint; block: number }): string {
  return `${o.amount} ${o.contract ?? 'ETH'} ${o.from}→${o.to} in block ${o.block}`;
}
