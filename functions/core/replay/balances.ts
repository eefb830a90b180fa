import type { BreakerConfig, ChainConfig } from '../config/types.ts';
import type { OutflowRecord } from '../model.ts';
import { balanceAssetKey } from '../rules/kinds/balance-drawdown.ts';
import { symbolsOf, unitsRoundedDown, unknownContract } from './assets.ts';
import type { Scenario, ScenarioEvent } from './scenario.ts';

/**
 * The hot wallets' combined balances through a replay (FORMAT.md `balances`, `direction: "in"`): per
 * watched chain and asset, the scenario's starting balance, raised by each inflow at its time and
 * lowered by each outflow the hot wallets actually sent (not a prevented one; a transfer between two
 * hot wallets leaves the combined balance as it is). Each outflow record gets the balance right after
 * it (`balanceAfter`), which balance rules measure against. A balance never goes below zero: an
 * outflow larger than what is left is noted (the starting balance was unknown or wrong) and the
 * balance counted from zero. Assets without a starting balance stay unknown, and are noted once.
 *
 * Outflows must be given in chain-time order per chain, as the replay observes them (every event of
 * one chain has the same detection delay).
 */
export class ReplayBalances {
  /** What a reader of the replay should know about the balances (shortfalls, unknown assets). */
  readonly notes: string[] = [];
  private readonly chains = new Map<string, ChainBalances>();

  constructor(config: BreakerConfig, scenario: Scenario) {
    if (!scenario.balances) return;
    for (const [chainId, assets] of scenario.balances) {
      const chain = config.chains.get(chainId);
      if (!chain) continue; // balances of a chain the config does not watch have nothing to judge
      const balances = new Map<string, bigint>();
      for (const [symbol, text] of assets) balances.set(keyOf(chain, symbol), unitsOf(text, chain, symbol));
      const inflows = scenario.events
        .filter((e) => e.direction === 'in' && e.chain === chainId)
        .sort((a, b) => a.t - b.t || a.index - b.index);
      this.chains.set(chainId, { chain, balances, inflows, next: 0, unknown: new Set() });
    }
  }

  /** Move the balances past an outflow the hot wallets sent at scenario time `t`; sets its `balanceAfter`. */
  sent(record: OutflowRecord, event: ScenarioEvent): void {
    const state = this.chains.get(record.chain);
    if (!state) return;
    this.inflowsUntil(state, event.t);
    const key = balanceAssetKey(record);
    const before = state.balances.get(key);
    if (before === undefined) {
      if (!state.unknown.has(key)) {
        state.unknown.add(key);
        this.notes.push(
          `balances.${record.chain} has no ${event.asset}: its balance is unknown, so balance rules stay silent about it`,
        );
      }
      return;
    }
    // A transfer to another hot wallet of the chain keeps the combined balance.
    const moved = state.chain.hotWallets.includes(record.to) ? 0n : record.amount;
    if (moved > before) {
      this.notes.push(
        `events[${event.index}]: ${record.chain} ${event.asset} outflow of ${event.amount ?? `${record.amount} base units`} is more than the hot wallets had left — the starting balance is unknown or wrong; counted from 0`,
      );
    }
    const after = moved > before ? 0n : before - moved;
    state.balances.set(key, after);
    record.balanceAfter = after;
  }

  /** Each tracked balance at the end (after every inflow), in base units, by chain then asset key. */
  final(): Map<string, Map<string, bigint>> {
    const out = new Map<string, Map<string, bigint>>();
    for (const [id, state] of this.chains) {
      this.inflowsUntil(state, Number.POSITIVE_INFINITY);
      out.set(id, new Map(state.balances));
    }
    return out;
  }

  private inflowsUntil(state: ChainBalances, t: number): void {
    // Inflows at the same moment as an outflow land first: a refill never makes a drain look larger.
    while (state.next < state.inflows.length && (state.inflows[state.next] as ScenarioEvent).t <= t) {
      const e = state.inflows[state.next++] as ScenarioEvent;
      const key = keyOf(state.chain, e.asset);
      const before = state.balances.get(key);
      if (before !== undefined) state.balances.set(key, before + unitsOf(e.amount as string, state.chain, e.asset));
    }
  }
}

interface ChainBalances {
  chain: ChainConfig;
  /** Base units by asset key (balanceAssetKey). */
  balances: Map<string, bigint>;
  /** The chain's inflows, ascending by time; `next` is the first not yet applied. */
  inflows: ScenarioEvent[];
  next: number;
  unknown: Set<string>;
}

/** The asset key a scenario symbol has on the chain: what its records carry as `contract`. */
function keyOf(chain: ChainConfig, symbol: string): string {
  const asset = symbolsOf(chain).get(symbol);
  return balanceAssetKey({ contract: asset ? asset.contract : unknownContract(symbol) });
}

/** Whole units → base units at the asset's decimals (18 for an unlisted one, as the replay's outflows). */
function unitsOf(text: string, chain: ChainConfig, symbol: string): bigint {
  return unitsRoundedDown(text, symbolsOf(chain).get(symbol)?.decimals ?? 18);
}
