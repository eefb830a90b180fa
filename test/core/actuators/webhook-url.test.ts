/**
 * The kill-switch webhook carries the "released" message that re-arms a signer: over plain http a
 * network observer can read and replay it. Only https, or http to the same machine, is accepted.
 */
import { describe, expect, it } from 'vitest';
import { WebhookActuator } from '../../../functions/adapters/actuators/webhook-actuator.ts';
import { compileConfig } from '../../../functions/adapters/config/config-file.ts';
import { ConfigError } from '../../../functions/core/errors.ts';

const SECRET = 'whsec-0123456789abcdef';

function configWith(url: string) {
  return compileConfig(
    {
      name: 'wh',
      chains: {
        devnet: {
          kind: 'evm',
          chainId: 31337,
          rpc: ['http://127.0.0.1:1'],
          confirmations: 0,
          blockTimeSeconds: 1,
          hotWallets: ['0x70997970c51812dc3a010c7d01b50e0d17dc79c8'],
          native: { symbol: 'ETH', decimals: 18, usdPrice: 2000 },
        },
      },
      limits: { global: { usd: { '10m': 1000 } } },
      actuators: { webhook: { url, secretEnv: 'SIGNER_WEBHOOK_SECRET' } },
    },
    'wh.yaml',
  );
}

describe('kill-switch webhook URL', () => {
  const accepted = [
    'https://signer.internal.example/breaker-webhook',
    'http://127.0.0.1:8080/hook',
    'http://127.8.9.10/hook',
    'http://localhost:3000/hook',
    'http://[::1]:3000/hook',
  ];
  for (const url of accepted) {
    it(`accepts ${url}`, () => {
      expect(configWith(url).actuators.webhook?.url).toBe(url);
      expect(() => new WebhookActuator({ deploymentName: 'wh', url, secret: SECRET })).not.toThrow();
    });
  }

  const refused = [
    'http://signer.internal.example/breaker-webhook',
    'http://10.0.0.5/hook',
    'http://localhost.evil.example/hook',
    'http://127.0.0.1.evil.example/hook',
    'ftp://signer.example/hook',
  ];
  for (const url of refused) {
    it(`refuses ${url}, naming the path`, () => {
      let error: unknown;
      try {
        configWith(url);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).issues.join('\n')).toMatch(/actuators\.webhook\.url: .*(https|not an http)/);
      expect(() => new WebhookActuator({ deploymentName: 'wh', url, secret: SECRET })).toThrow(TypeError);
    });
  }
});
