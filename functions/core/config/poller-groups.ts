import { ConfigError } from '../errors.ts';
import type { BreakerConfig, PollerGroup } from './types.ts';

/** A group's name ends up in construct ids, alarm names and logs. */
const GROUP_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

/**
 * Which chains one poller polls together (config `pollerGroups`): one function, one role, one loop per chain inside
 * one invocation. A chain in no group gets a poller of its own, named after it. The grouping decides who runs a
 * chain's loop, never what trips: it is not part of the config's strictness summary.
 */
export function compilePollerGroups(
  input: Readonly<Record<string, readonly string[]>>,
  chainIds: readonly string[],
  issues: string[],
): PollerGroup[] {
  const known = new Set(chainIds);
  const groupOf = new Map<string, string>();
  const groups: PollerGroup[] = [];
  for (const [id, chains] of Object.entries(input)) {
    const path = `pollerGroups.${id}`;
    if (!GROUP_NAME.test(id)) {
      issues.push(`${path}: group names are lower-case letters, digits and dashes, like "all" (up to 32)`);
    }
    chains.forEach((chain, i) => {
      const at = `${path}[${i}]`;
      if (!known.has(chain)) {
        issues.push(`${at}: no chain "${chain}" under chains (known: ${chainIds.join(', ')})`);
      } else if (groupOf.has(chain)) {
        issues.push(`${at}: "${chain}" is already polled by group "${groupOf.get(chain)}" (a chain has one poller)`);
      } else {
        groupOf.set(chain, id);
      }
    });
    // The lone poller of a chain in no group is named after the chain: a group by that name must be that poller.
    if (known.has(id) && (chains.length !== 1 || chains[0] !== id)) {
      issues.push(`${path}: a group named after chain "${id}" may poll only that chain (rename the group)`);
    }
    groups.push({ id, chains: [...chains] });
  }
  for (const chain of chainIds) {
    if (!groupOf.has(chain)) groups.push({ id: chain, chains: [chain] });
  }
  return groups;
}

/** The group whose poller polls `chainId`. */
export function pollerGroupOf(config: Pick<BreakerConfig, 'pollerGroups'>, chainId: string): PollerGroup {
  const group = config.pollerGroups.find((g) => g.chains.includes(chainId));
  if (!group) throw new ConfigError('pollerGroups', [`no poller polls chain "${chainId}": it is not in the config`]);
  return group;
}
