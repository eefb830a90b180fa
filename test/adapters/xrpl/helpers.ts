import type { Wallet } from 'xrpl';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import { XrplChainReader } from '../../../functions/adapters/xrpl/xrpl-chain-reader.ts';
import type { ChainConfig } from '../../../functions/core/config/types.ts';
import type { ChainTransfer } from '../../../functions/core/model.ts';
import { type ClosedLedger, oracleChanges, XrplLedgerEngine } from '../../support/xrpl/ledger-engine.ts';
import { XrplLedgerServer } from '../../support/xrpl/ledger-server.ts';

export interface XrplChainInput {
  rpc: string[];
  hotWallets: string[];
  ownAddresses?: string[];
  tokens?: { symbol: string; contract: string; decimals: number; usdPrice: number }[];
  [setting: string]: unknown;
}

/** An xrpl ChainConfig as the core compiles it from a config file (chain id `xrpl`). */
export function xrplChainConfig(input: XrplChainInput): ChainConfig {
  const config = compileConfig(
    {
      name: 'xrpl-test',
      chains: {
        xrpl: {
          kind: 'xrpl',
          rpcTimeoutMs: 5_000,
          confirmations: 0,
          blockTimeSeconds: 4,
          ownAddresses: [],
          native: { symbol: 'XRP', decimals: 6, usdPrice: 2 },
          ...input,
        },
      },
      limits: { global: { usd: { '1h': 1_000_000 } } },
    },
    'xrpl-test',
  );
  return config.chains.get('xrpl') as ChainConfig;
}

/** A ledger world: an engine, its server, a hot wallet, a cold (own) wallet, a customer and an issuer of USD. */
export interface XrplWorld {
  engine: XrplLedgerEngine;
  server: XrplLedgerServer;
  hot: Wallet;
  cold: Wallet;
  customer: Wallet;
  issuer: Wallet;
  usd: string;
  chain(extra?: Partial<XrplChainInput>): ChainConfig;
  reader(extra?: Partial<XrplChainInput>): XrplChainReader;
  stop(): Promise<void>;
}

export const USD_DECIMALS = 6;

export async function startXrplWorld(): Promise<XrplWorld> {
  const engine = new XrplLedgerEngine();
  const hot = engine.fund(10_000_000_000n);
  const cold = engine.fund(50_000_000n);
  const customer = engine.fund(50_000_000n);
  const issuer = engine.fund(100_000_000n);
  engine.trustSet(hot, 'USD', issuer.classicAddress);
  engine.trustSet(cold, 'USD', issuer.classicAddress);
  engine.trustSet(customer, 'USD', issuer.classicAddress);
  engine.close();
  engine.payIou(issuer, hot.classicAddress, 'USD', issuer.classicAddress, '1000000');
  engine.close();
  const server = new XrplLedgerServer(engine);
  await server.start();
  const usd = `USD.${issuer.classicAddress}`;
  const chain = (extra: Partial<XrplChainInput> = {}) =>
    xrplChainConfig({
      rpc: [server.url],
      hotWallets: [hot.classicAddress],
      ownAddresses: [cold.classicAddress],
      tokens: [{ symbol: 'USD', contract: usd, decimals: USD_DECIMALS, usdPrice: 1 }],
      ...extra,
    });
  return {
    engine,
    server,
    hot,
    cold,
    customer,
    issuer,
    usd,
    chain,
    reader: (extra) => new XrplChainReader(chain(extra)),
    stop: () => server.stop(),
  };
}

/**
 * xrpl.js's getBalanceChanges as the oracle: for every transaction of `ledgers`, what each hot
 * wallet lost per asset (XRP in drops with the fee it paid added back; IOUs as decimal text) must
 * be what our transfers from it add up to, in base units.
 */
export function oracleLosses(
  ledgers: readonly ClosedLedger[],
  hot: ReadonlySet<string>,
  decimalsOf: (asset: string) => number,
): Map<string, bigint> {
  const losses = new Map<string, bigint>();
  for (const ledger of ledgers) {
    for (const tx of ledger.transactions) {
      for (const [account, byAsset] of oracleChanges(tx.meta)) {
        if (!hot.has(account)) continue;
        for (const [asset, value] of byAsset) {
          const decimals = asset === 'XRP' ? 6 : decimalsOf(asset);
          let units = decimalToUnits(value, decimals);
          if (asset === 'XRP' && tx.tx_json.Account === account) units += BigInt(tx.tx_json.Fee as string);
          if (units < 0n) {
            const key = `${tx.hash}|${account}|${asset === 'XRP' ? 'native' : asset}`;
            losses.set(key, (losses.get(key) ?? 0n) - units);
          }
        }
      }
    }
  }
  return losses;
}

/** Our transfers summed the oracle's way. */
export function transferLosses(transfers: readonly ChainTransfer[]): Map<string, bigint> {
  const losses = new Map<string, bigint>();
  for (const t of transfers) {
    const key = `${t.txHash}|${t.from}|${t.contract ?? 'native'}`;
    losses.set(key, (losses.get(key) ?? 0n) + t.amount);
  }
  return losses;
}

/** A decimal string in base units, magnitude rounded up (the oracle's values are exact decimals). */
function decimalToUnits(text: string, decimals: number): bigint {
  const negative = text.startsWith('-');
  const [whole = '0', frac = ''] = text.replace(/^-/, '').split('.');
  const kept = frac.slice(0, decimals).padEnd(decimals, '0');
  let units = BigInt(whole + kept);
  if (/[1-9]/.test(frac.slice(decimals))) units += 1n;
  return negative ? -units : units;
}
