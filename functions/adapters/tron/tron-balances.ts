import { EndpointError } from '../http/http-request.ts';
import { evmHexOf } from './addresses.ts';
import type { TronHttpApi } from './http-api.ts';
import { arr, obj } from './wire.ts';

/**
 * The hot wallets' combined balances for the balance-drawdown rule, from one endpoint's solidified
 * state: TRX (sun) and TRC-10 tokens (numeric ids) from `getaccount`, TRC-20 tokens (T… contracts) from
 * `balanceOf(wallet)` through `triggerconstantcontract`. java-tron serves these at its solidified head,
 * not at a past block, so the endpoint's solidified head must first be at or past the block: the state
 * read is then at or after it (solidified state only moves forward). What left the wallets since can
 * only lower the figure (a drawdown reads larger, never smaller); an inflow since raises it by that
 * much. A TRC-20 contract whose `balanceOf` fails is left out (anyone can deploy a contract that emits
 * Transfer events "from" a hot wallet); a malformed answer throws (the reader fails over).
 */
export async function readTronBalances(
  api: TronHttpApi,
  hot: readonly string[],
  block: { number: number },
  contracts: readonly (string | null)[],
): Promise<Map<string | null, bigint>> {
  const head = await api.solidHead();
  if (head.number < block.number) {
    throw new EndpointError(
      `solidified head ${head.number} is behind block ${block.number}: balances would predate it`,
    );
  }
  const balances = new Map<string | null, bigint>();
  const native = contracts.filter((c) => c === null || isTrc10(c));
  if (native.length > 0) {
    const accounts = await Promise.all(hot.map((a) => api.account(a)));
    for (const contract of native) {
      let sum = 0n;
      accounts.forEach((account, i) => {
        sum += contract === null ? sunOf(account, hot[i] as string) : trc10Of(account, contract, hot[i] as string);
      });
      balances.set(contract, sum);
    }
  }
  for (const contract of contracts.filter((c): c is string => c !== null && !isTrc10(c))) {
    const answers = await Promise.all(
      hot.map((a) => api.constantCall(contract, 'balanceOf(address)', evmHexOf(a).padStart(64, '0'))),
    );
    const amounts = answers.map((answer, i) => balanceOfAnswer(answer, `balanceOf(${hot[i]}) on ${contract}`));
    if (amounts.some((a) => a === undefined)) continue;
    balances.set(
      contract,
      (amounts as bigint[]).reduce((s, a) => s + a, 0n),
    );
  }
  return balances;
}

function isTrc10(contract: string): boolean {
  return /^\d+$/.test(contract);
}

/** An int64 amount as the lossless parser gives it (number, or bigint beyond 2^53). */
function amount(value: unknown, what: string): bigint {
  if (typeof value === 'bigint' && value >= 0n) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  throw new EndpointError(`malformed response: ${what} is not an amount (${String(value).slice(0, 60)})`);
}

function sunOf(account: Record<string, unknown>, address: string): bigint {
  // java-tron leaves `balance` out at zero, and answers {} for an account that does not exist.
  return account.balance === undefined ? 0n : amount(account.balance, `getaccount(${address}).balance`);
}

function trc10Of(account: Record<string, unknown>, id: string, address: string): bigint {
  const what = `getaccount(${address}).assetV2`;
  for (const [i, entry] of arr(account.assetV2 ?? [], what).entries()) {
    const holding = obj(entry, `${what}[${i}]`);
    if (String(holding.key) === id) return amount(holding.value, `${what}[${i}].value`);
  }
  return 0n;
}

/** The uint256 a successful `balanceOf` returned; undefined when the contract refused (reverted, no code). */
function balanceOfAnswer(answer: Record<string, unknown>, what: string): bigint | undefined {
  if (obj(answer.result ?? {}, `${what} result`).result !== true) return undefined;
  const [word] = arr(answer.constant_result, `${what} constant_result`);
  if (typeof word !== 'string' || !/^[0-9a-fA-F]{64}$/.test(word)) {
    if (word === '' || word === undefined) return undefined;
    throw new EndpointError(`malformed response: ${what} constant_result is not one 32-byte word`);
  }
  return BigInt(`0x${word}`);
}
