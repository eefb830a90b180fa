import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import type { ChainReader } from '../../functions/core/chain-kind.ts';
import type { ConfigInput } from '../../functions/core/config/schema.ts';
import type { BlockRef, ChainTransfer, RangeRead } from '../../functions/core/model.ts';

export const SCRIPTED_BASE_T = 1_700_000_000;

const hash = (n: number) => `0x${Math.max(n, 0).toString(16).padStart(64, '0')}`;

/**
 * A scripted chain (not a node, for tests about what the breaker does with what it reads): blocks
 * 0…head, 12 s apart, and in each block of `outflows` that many native-coin outflows of `amount`
 * from `from` to `to`. Deterministic, so two processes running it see the same chain.
 */
export class ScriptedChain implements ChainReader {
  constructor(
    readonly chain: string,
    public headNumber: number,
    private readonly script: {
      from: string;
      to: string;
      amount: bigint;
      /** block → how many outflows it holds */
      outflows: Record<number, number>;
    },
  ) {}

  private ref(n: number): BlockRef {
    return { number: n, hash: hash(n), parentHash: hash(n - 1), time: SCRIPTED_BASE_T + n * 12 };
  }

  async head() {
    return this.headNumber;
  }

  async readRange(from: number, to: number): Promise<RangeRead> {
    const blocks: BlockRef[] = [];
    const transfers: ChainTransfer[] = [];
    for (let n = from; n <= to; n++) {
      blocks.push(this.ref(n));
      for (let i = 0; i < (this.script.outflows[n] ?? 0); i++) {
        transfers.push({
          chain: this.chain,
          block: n,
          blockHash: hash(n),
          blockTime: SCRIPTED_BASE_T + n * 12,
          txHash: `0x${n.toString(16).padStart(32, '0')}${i.toString(16).padStart(32, '0')}`,
          index: null,
          contract: null,
          from: this.script.from,
          to: this.script.to,
          amount: this.script.amount,
        });
      }
    }
    return { blocks, transfers };
  }

  async blockRefs(numbers: number[]) {
    return numbers.map((n) => this.ref(n));
  }
}

/**
 * A one-chain config for a scripted chain: `devnet` (EVM, 1 s blocks, no confirmations, from block 0),
 * ETH at $2,000, and a $100 single-transfer limit, so any scripted 1-ETH outflow trips.
 */
export function scriptedChainConfig(opts: { name: string; hotWallet: string; actuators?: ConfigInput['actuators'] }) {
  return compileConfig(
    {
      name: opts.name,
      chains: {
        devnet: {
          kind: 'evm',
          chainId: 31337,
          rpc: ['http://127.0.0.1:1'],
          confirmations: 0,
          blockTimeSeconds: 1,
          startBlock: 0,
          maxBlocksPerPoll: 100,
          hotWallets: [opts.hotWallet],
          native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
        },
      },
      limits: { global: { singleTxUsd: 100 } },
      ...(opts.actuators ? { actuators: opts.actuators } : {}),
    },
    opts.name,
  );
}
