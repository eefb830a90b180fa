import type { ChainConfig } from './config/types.ts';
import { ChainReadError } from './errors.ts';
import type { OutflowRecord } from './model.ts';
import { balanceAssetKey, balanceDrawdown } from './rules/kinds/balance-drawdown.ts';
import type { Rule } from './rules/rule.ts';
import { ruleKindOf } from './rules/rule-kinds.ts';

/**
 * Balances after each outflow of a poll's range, from the hot wallets' balances at the range's end
 * (ports.ts BalanceReader), block by block: the outflows in the range's last block with the asset leave
 * the end balance; those in an earlier block leave that plus what the later blocks' outflows of the
 * asset took (own transfers too, since they left the hot wallets; a transfer between two hot wallets
 * moved nothing). Every outflow of a block gets the balance after the whole block, since evaluators
 * order a block's outflows by id, not by position. An inflow later in the range, or a later network
 * fee, is not added back, so a balance inside a range can read lower than it was — never higher, so a
 * drawdown never reads smaller than it is.
 */
export function setBalancesAfter(
  chain: ChainConfig,
  records: readonly OutflowRecord[],
  endBalances: ReadonlyMap<string | null, bigint>,
): void {
  const running = new Map<string, bigint>();
  for (const [contract, balance] of endBalances) running.set(balanceAssetKey({ contract }), balance);
  const hot = new Set(chain.hotWallets);
  const byBlock = [...records].sort((a, b) => b.block - a.block);
  for (let i = 0; i < byBlock.length; ) {
    const block = (byBlock[i] as OutflowRecord).block;
    const taken = new Map<string, bigint>();
    for (; i < byBlock.length && (byBlock[i] as OutflowRecord).block === block; i++) {
      const r = byBlock[i] as OutflowRecord;
      const key = balanceAssetKey(r);
      const after = running.get(key);
      if (after === undefined) continue;
      r.balanceAfter = after;
      if (!hot.has(r.to)) taken.set(key, (taken.get(key) ?? 0n) + r.amount);
    }
    for (const [key, amount] of taken) running.set(key, (running.get(key) as bigint) + amount);
  }
}

/**
 * The end balances a BalanceReader read, refused when one of the chain's own assets (its native coin or
 * a listed token) is missing: only a contract the config does not list may go without a balance
 * (its balance rules then stay silent about it), never an asset the exchange knows it holds.
 */
export function checkedBalances(
  chain: ChainConfig,
  asked: readonly (string | null)[],
  read: ReadonlyMap<string | null, bigint>,
): ReadonlyMap<string | null, bigint> {
  for (const contract of asked) {
    if (read.has(contract) || (contract !== null && !chain.tokens.has(contract))) continue;
    const name = contract === null ? chain.native.symbol : `${chain.tokens.get(contract)?.symbol} (${contract})`;
    throw new ChainReadError(`chain ${chain.id}: the hot wallets' ${name} balance could not be read`);
  }
  return read;
}

/** The assets (`contract`, null = native) a range's outflows moved, each once. */
export function touchedAssets(records: readonly OutflowRecord[]): (string | null)[] {
  return [...new Set(records.map((r) => r.contract))];
}

/** Does any rule measure this chain's balances (so its poller reads them)? */
export function watchesBalances(rules: readonly Rule[], chain: string): boolean {
  return rules.some(
    (r) =>
      ruleKindOf(r) === balanceDrawdown &&
      (r.subject.kind === 'global' || (r.subject.kind === 'chain' && r.subject.chain === chain)),
  );
}
