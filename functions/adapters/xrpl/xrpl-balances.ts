import { EndpointError } from '../http/http-request.ts';
import { classicAddress } from './addresses.ts';
import {
  add,
  canonicalCurrency,
  type Decimal,
  parseDecimal,
  parseDrops,
  sign,
  tokenId,
  toUnits,
  ZERO,
} from './amounts.ts';
import { expectObject } from './ledger-shapes.ts';
import { UNKNOWN_IOU_DECIMALS, type XrplWalletView } from './outflows.ts';
import { XrplErrorReply, type XrplRpcEndpoint } from './xrpl-rpc.ts';

/** account_lines pages per hot wallet, at 400 lines a page: a bound no exchange wallet reaches. */
const MAX_LINE_PAGES = 100;

/**
 * The hot wallets' combined balances at one validated ledger, named by its hash (so never another
 * server's or another ledger's view): XRP from `account_info` (drops; one batch for every wallet when
 * the endpoint batches), issued currencies from `account_lines` (one call per wallet per 400 lines),
 * summed exactly and turned into the base units the outflows use (the configured decimals, or
 * UNKNOWN_IOU_DECIMALS for a currency the config does not list), rounded down — a balance never reads
 * higher than it is, so a drawdown never reads smaller. A hot wallet that does not exist at the ledger
 * (never funded, or deleted by AccountDelete) holds nothing. Anything malformed, or an answer for
 * another ledger, throws (the reader fails over to the next endpoint).
 */
export async function readXrplBalances(
  endpoint: XrplRpcEndpoint,
  wallets: XrplWalletView,
  block: { number: number; hash: string },
  contracts: readonly (string | null)[],
): Promise<Map<string | null, bigint>> {
  const hot = [...wallets.hot];
  const balances = new Map<string | null, bigint>();
  if (contracts.includes(null)) {
    const infos = await accountInfos(endpoint, hot, block);
    let drops = 0n;
    for (const [i, info] of infos.entries()) {
      if (info === undefined) continue;
      const data = expectObject(checkLedger(info, block, `account_info ${hot[i]}`).account_data, 'account_data');
      drops += parseDrops(data.Balance);
    }
    balances.set(null, drops);
  }
  const tokens = contracts.filter((c): c is string => c !== null);
  if (tokens.length === 0) return balances;
  const sums = new Map<string, Decimal>(tokens.map((t) => [t, ZERO]));
  for (const account of hot) {
    for (const line of await accountLines(endpoint, account, block)) {
      const id = tokenId(canonicalCurrency(String(line.currency)), classicAddress(String(line.account)));
      const sum = sums.get(id);
      if (sum === undefined) continue;
      const held = parseDecimal(String(line.balance));
      // A negative balance is what the hot wallet owes on the line, not a holding.
      if (sign(held) > 0n) sums.set(id, add(sum, held));
    }
  }
  for (const [id, sum] of sums)
    balances.set(id, toUnits(sum, wallets.decimals.get(id) ?? UNKNOWN_IOU_DECIMALS, 'down'));
  return balances;
}

/** account_info per wallet at the ledger; undefined for a wallet the ledger does not hold (actNotFound). */
async function accountInfos(
  endpoint: XrplRpcEndpoint,
  hot: readonly string[],
  block: { hash: string },
): Promise<(Record<string, unknown> | undefined)[]> {
  const params = (account: string) => ({ account, ledger_hash: block.hash });
  try {
    return await endpoint.calls('account_info', hot.map(params));
  } catch (e) {
    if (!isMissingAccount(e)) throw e;
  }
  // One wallet is missing: ask each alone, so the others still count.
  return Promise.all(
    hot.map((account) =>
      endpoint.call('account_info', params(account)).catch((e: unknown) => {
        if (isMissingAccount(e)) return undefined;
        throw e;
      }),
    ),
  );
}

async function accountLines(
  endpoint: XrplRpcEndpoint,
  account: string,
  block: { number: number; hash: string },
): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = [];
  let marker: unknown;
  for (let page = 0; ; page++) {
    if (page === MAX_LINE_PAGES) throw new EndpointError(`account_lines ${account}: more than ${MAX_LINE_PAGES} pages`);
    let result: Record<string, unknown>;
    try {
      result = await endpoint.call('account_lines', {
        account,
        ledger_hash: block.hash,
        limit: 400,
        ...(marker === undefined ? {} : { marker }),
      });
    } catch (e) {
      if (isMissingAccount(e)) return [];
      throw e;
    }
    checkLedger(result, block, `account_lines ${account}`);
    if (!Array.isArray(result.lines)) throw new EndpointError(`account_lines ${account}: lines is not an array`);
    for (const line of result.lines) lines.push(expectObject(line, `account_lines ${account}: a line`));
    marker = result.marker;
    if (marker === undefined) return lines;
  }
}

function checkLedger(
  result: Record<string, unknown>,
  block: { number: number; hash: string },
  what: string,
): Record<string, unknown> {
  if (result.validated !== true || String(result.ledger_hash).toUpperCase() !== block.hash.toUpperCase()) {
    throw new EndpointError(
      `${what}: answered for ledger ${String(result.ledger_index)} (${String(result.ledger_hash)}, validated ${String(result.validated)}), not validated ledger ${block.number} (${block.hash})`,
    );
  }
  return result;
}

function isMissingAccount(e: unknown): boolean {
  return e instanceof XrplErrorReply && e.code === 'actNotFound';
}
