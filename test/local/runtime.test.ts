import { afterEach, describe, expect, it } from 'vitest';
import { type Runtime, startRuntime } from '../../functions/local/runtime.ts';
import { HOT, RecordingPublisher, startWebhookReceiver, WEBHOOK_SECRET } from '../actuators/support.ts';
import { ScriptedChain, scriptedChainConfig } from '../support/scripted-chain.ts';

const CUSTOMER = '0x00000000000000000000000000000000000000c1';

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
    const webhook = await startWebhookReceiver(WEBHOOK_SECRET, 'local-runtime-test');
    closeWebhook = webhook.close;
    const config = scriptedChainConfig({
      name: 'local-runtime-test',
      hotWallet: HOT,
      actuators: { webhook: { url: webhook.url, secretEnv: 'LOCAL_RUNTIME_TEST_SECRET', timeoutMs: 2000 } },
    });
    const publisher = new RecordingPublisher();
    let tripped = false;
    runtime = await startRuntime({
      config,
      configPath: 'local-runtime-test.yaml',
      publisher,
      // Twenty blocks, block 5 holding one 1-ETH outflow: what is under test is the wiring from a
      // poller's trip to the kill-switch layers, not the chain adapter.
      readers: new Map([
        [
          'devnet',
          new ScriptedChain('devnet', 20, { from: HOT, to: CUSTOMER, amount: 10n ** 18n, outflows: { 5: 1 } }),
        ],
      ]),
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
