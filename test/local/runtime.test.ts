import { afterEach, describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/core/config/compile.ts';
import type { BlockRef, ChainTransfer, RangeRead } from '../../functions/core/model.ts';
import type { ChainReader } from '../../functions/core/ports.ts';
import { type Runtime, startRuntime } from '../../functions/local/runtime.ts';
import { HOT, RecordingPublisher, startWebhookReceiver, WEBHOOK_SECRET } from '../actuators/support.ts';

const BASE_T = 1_700_000_000;
const CUSTOMER = '0x00000000000000000000000000000000000000c1';

/**
 * A scripted chain of 20 blocks whose block 5 holds one 1-ETH outflow of the hot wallet. Not a node:
 * what is under test is the runtime's wiring from a poller's trip to the kill-switch layers.
 */
class OneOutflowChain implements ChainReader {
  readonly chain = 'devnet';
  private ref(n: number): BlockRef {
    return { number: n, hash: hash(n), parentHash: hash(n - 1), time: BASE_T + n };
  }
  async head() {
    return 20;
  }
  async readRange(from: number, to: number): Promise<RangeRead> {
    const blocks: BlockRef[] = [];
    const transfers: ChainTransfer[] = [];
    for (let n = from; n <= to; n++) {
      blocks.push(this.ref(n));
      if (n === 5) {
        transfers.push({
          chain: 'devnet',
          block: 5,
          blockHash: hash(5),
          blockTime: BASE_T + 5,
          txHash: `0x${'ab'.repeat(32)}`,
          index: null,
          contract: null,
          from: HOT,
          to: CUSTOMER,
          amount: 10n ** 18n,
        });
      }
    }
    return { blocks, transfers };
  }
  async blockRefs(numbers: number[]) {
    return numbers.map((n) => this.ref(n));
  }
}

const hash = (n: number) => `0x${Math.max(n, 0).toString(16).padStart(64, '0')}`;

let runtime: Runtime | undefined;
let closeWebhook: (() => Promise<void>) | undefined;
afterEach(async () => {
  await runtime?.stop();
  await closeWebhook?.();
  runtime = undefined;
  closeWebhook = undefined;
});

describe('local runtime', () => {
  it('a trip by a local poller reaches the webhook kill-switch layer, signed, as under Lambda', async () => {
    // The receiver checks the deployment (the config name) as a signer must.
    const webhook = await startWebhookReceiver(WEBHOOK_SECRET, 'local-runtime-test');
    closeWebhook = webhook.close;
    const config = compileConfig(
      {
        name: 'local-runtime-test',
        chains: {
          devnet: {
            kind: 'evm',
            chainId: 31337,
            rpc: ['http://127.0.0.1:1'],
            confirmations: 0,
            blockTimeSeconds: 1,
            startBlock: 0,
            hotWallets: [HOT],
            native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
          },
        },
        limits: { global: { singleTxUsd: 100 } },
        actuators: { webhook: { url: webhook.url, secretEnv: 'LOCAL_RUNTIME_TEST_SECRET', timeoutMs: 2000 } },
      },
      'local-runtime-test',
    );
    const publisher = new RecordingPublisher();
    let tripped = false;
    runtime = await startRuntime({
      config,
      configPath: 'local-runtime-test.yaml',
      publisher,
      readers: new Map([['devnet', new OneOutflowChain()]]),
      env: { LOCAL_RUNTIME_TEST_SECRET: WEBHOOK_SECRET },
      onResult: (_chain, r) => {
        if (r.kind === 'advanced' && r.trips.length > 0) tripped = true;
      },
    });
    for (let i = 0; i < 100 && !(tripped && webhook.received.length > 0); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }

    expect(tripped).toBe(true);
    expect(publisher.ofKind('trip')).toHaveLength(1);
    expect(webhook.received.length).toBeGreaterThanOrEqual(1);
    const delivered = webhook.received.at(-1)!.parsed;
    expect(delivered.ok).toBe(true);
    if (delivered.ok) {
      expect(delivered.body.mode).toBe('engaged');
      expect(delivered.decide('devnet')).toMatchObject({ halted: true, scope: 'global' });
    }
  });
});
