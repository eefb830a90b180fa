import type { JsonRpcClient, RpcCall } from '../evm/json-rpc-client.ts';
import { checkWith, parseBalance, parseTokenAccounts } from './solana-rpc-shapes.ts';

const FINALIZED = 'finalized';

/**
 * The hot wallets' combined balances for the balance-drawdown rule, in one atomic batch: `getBalance`
 * per wallet (SOL, lamports) and `getTokenAccountsByOwner(wallet, { mint })` per wallet and token
 * (SPL and Token-2022 alike: the node finds the mint's program), all at `finalized` with
 * `minContextSlot` = the range's last slot. Solana serves balances only at a commitment, not at a past
 * slot, so the answer is the finalized state at or after the block: what left the wallets since can
 * only lower it (a drawdown reads larger, never smaller), but an inflow in the seconds between the
 * block and the answer's slot raises it by that much. Malformed answers fail the endpoint with the
 * reason (the batch moves to the next one); when all fail, the client throws ChainReadError.
 */
export async function readSolanaBalances(
  client: JsonRpcClient,
  hot: readonly string[],
  block: { number: number },
  contracts: readonly (string | null)[],
): Promise<Map<string | null, bigint>> {
  const config = { commitment: FINALIZED, minContextSlot: block.number };
  const asks = contracts.flatMap((contract) => hot.map((wallet) => ({ contract, wallet })));
  const calls = asks.map(
    ({ contract, wallet }): RpcCall =>
      contract === null
        ? {
            method: 'getBalance',
            params: [wallet, config],
            check: checkWith((v) => parseBalance(v, wallet, block.number)),
          }
        : {
            method: 'getTokenAccountsByOwner',
            params: [wallet, { mint: contract }, { ...config, encoding: 'jsonParsed' }],
            check: checkWith((v) => parseTokenAccounts(v, wallet, contract, block.number)),
          },
  );
  const answers = await client.batch(calls, { atomic: true });
  const balances = new Map<string | null, bigint>(contracts.map((c) => [c, 0n]));
  asks.forEach(({ contract, wallet }, i) => {
    const answer = answers[i];
    const amount =
      contract === null
        ? parseBalance(answer, wallet, block.number)
        : parseTokenAccounts(answer, wallet, contract, block.number);
    balances.set(contract, (balances.get(contract) as bigint) + amount);
  });
  return balances;
}
