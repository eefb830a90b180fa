/**
 * Builders for core tests: a small two-chain config (Ethereum + BNB Smart Chain) whose limits each
 * test states explicitly, and outflow records produced by the real classifier (so valuation and
 * own-address marking are the production ones, not hand-written numbers).
 */

import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { parseUnits } from '../../functions/core/amounts.ts';
import { classifyTransfers, UNKNOWN_ASSET } from '../../functions/core/classify.ts';
import type { ConfigInput } from '../../functions/core/config/schema.ts';
import type { BreakerConfig } from '../../functions/core/config/types.ts';
import type { ChainTransfer, OutflowRecord } from '../../functions/core/model.ts';
import type { AffectedSpan } from '../../functions/core/rules/breach.ts';

export const ADDR = {
  ethHot: '0x1111111111111111111111111111111111111111',
  ethHot2: '0xabcdefabcdefabcdefabcdefabcdefabcdef2222',
  bscHot: '0x3333333333333333333333333333333333333333',
  cold: '0xc01dc01dc01dc01dc01dc01dc01dc01dc01dc01d',
  ethUsdt: '0xdac17f958d2ee523a2206206994597c13d831ec7',
  ethUsdc: '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48',
  bscUsdt: '0x55d398326f99059ff775485246999027b3197955',
  unknownToken: '0x9999999999999999999999999999999999999999',
  /** An outside destination: what a thief (or a customer) receives at. */
  stranger: '0xbad0bad0bad0bad0bad0bad0bad0bad0bad0bad0',
} as const;

/** USD → micro-USD, for readable expectations. */
export function usd(dollars: number | bigint): bigint {
  return BigInt(dollars) * 1_000_000n;
}

export type LimitsInput = ConfigInput['limits'];

/**
 * A valid config input. ETH is $1,000, BNB $500, every USDT/USDC $1, an unknown token $1,000 per
 * transfer. `limits` defaults to a single generous global limit so the config compiles.
 */
export function configInput(limits: LimitsInput = { global: { usd: { '1h': 1_000_000_000 } } }): ConfigInput {
  return {
    name: 'test-exchange',
    chains: {
      ethereum: {
        kind: 'evm',
        chainId: 1,
        rpc: ['https://eth.example.test'],
        confirmations: 2,
        blockTimeSeconds: 12,
        explorer: 'https://etherscan.io/',
        hotWallets: [ADDR.ethHot, ADDR.ethHot2.toUpperCase().replace('0X', '0x')],
        ownAddresses: [ADDR.cold],
        native: { symbol: 'ETH', decimals: 18, usdPrice: 1000 },
        tokens: [
          { symbol: 'USDT', contract: ADDR.ethUsdt, decimals: 6, usdPrice: 1 },
          { symbol: 'USDC', contract: ADDR.ethUsdc, decimals: 6, usdPrice: 1 },
        ],
      },
      bsc: {
        kind: 'evm',
        chainId: 56,
        rpc: ['https://bsc.example.test'],
        confirmations: 3,
        blockTimeSeconds: 3,
        explorer: 'https://bscscan.com',
        hotWallets: [ADDR.bscHot],
        native: { symbol: 'BNB', decimals: 18, usdPrice: 500 },
        tokens: [{ symbol: 'USDT', contract: ADDR.bscUsdt, decimals: 18, usdPrice: 1 }],
      },
    },
    unknownAssets: { usdPerTransfer: 1000 },
    limits,
  };
}

export function compile(limits?: LimitsInput): BreakerConfig {
  return compileConfig(configInput(limits), 'test');
}

export interface OutflowSpec {
  /** Window time (and block time) in Unix seconds. */
  t: number;
  chain?: string;
  /** A configured symbol, or `UNKNOWN` for a token the config does not know. */
  asset?: string;
  /** Whole units as a decimal string ("1.5"); base units for UNKNOWN. */
  units?: string;
  /** Defaults to `t`, so blocks grow with time. */
  block?: number;
  to?: string;
  from?: string;
  /** Makes the tx hash; defaults to a fresh number. */
  tx?: number;
  index?: number | null;
}

let nextTx = 1;

/** One hot-wallet outflow, classified and valued by the production classifier. */
export function outflow(config: BreakerConfig, spec: OutflowSpec): OutflowRecord {
  const chainId = spec.chain ?? 'ethereum';
  const chain = config.chains.get(chainId);
  if (!chain) throw new Error(`fixture: no chain ${chainId}`);
  const symbol = spec.asset ?? chain.native.symbol;
  let contract: string | null;
  let amount: bigint;
  if (symbol === UNKNOWN_ASSET) {
    contract = ADDR.unknownToken;
    amount = BigInt(spec.units ?? '1');
  } else {
    const asset = [chain.native, ...chain.tokens.values()].find((a) => a.symbol === symbol);
    if (!asset) throw new Error(`fixture: no asset ${symbol} on ${chainId}`);
    contract = asset.contract;
    amount = parseUnits(spec.units ?? '1', asset.decimals);
  }
  const block = spec.block ?? spec.t;
  const transfer: ChainTransfer = {
    chain: chainId,
    block,
    blockHash: `0x${block.toString(16).padStart(64, '0')}`,
    blockTime: spec.t,
    txHash: `0x${(spec.tx ?? nextTx++).toString(16).padStart(64, '0')}`,
    index: spec.index === undefined ? (contract === null ? null : 0) : spec.index,
    contract,
    from: spec.from ?? chain.hotWallets[0] ?? ADDR.ethHot,
    to: spec.to ?? ADDR.stranger,
    amount,
  };
  const [record] = classifyTransfers(config, chain, [transfer], () => spec.t);
  return record as OutflowRecord;
}

/** The span evaluateAndTransition passes for a batch of fresh outflows (own transfers do not count). */
export function spanOf(fresh: readonly OutflowRecord[]): AffectedSpan {
  const countable = fresh.filter((r) => !r.own);
  const ts = countable.map((r) => r.t);
  return {
    fromT: ts.length ? Math.min(...ts) : 0,
    toT: ts.length ? Math.max(...ts) : 0,
    newIds: new Set(countable.map((r) => r.id)),
  };
}
