import { describe, expect, it } from 'vitest';
import { resolvePlatformAssets, wholeUnitsToBase } from '../../functions/custody/assets.ts';
import { custodyTestConfig } from './support.ts';

describe('platform amounts to base units', () => {
  it.each([
    ['0.010000000000000000', 18, 10_000_000_000_000_000n],
    ['2500.5', 6, 2_500_500_000n],
    ['2500.500000000000000000', 6, 2_500_500_000n],
    ['1', 8, 100_000_000n],
    ['0.00000001', 8, 1n],
    ['123456789012345678901234567890.123456789012345678', 18, 123456789012345678901234567890123456789012345678n],
    ['0', 18, 0n],
  ])('%s with %i decimals → %s, exactly', (text, decimals, expected) => {
    expect(wholeUnitsToBase(text, decimals)).toBe(expected);
  });

  it.each([
    ['1.0000001', 6, 'more than 6 decimal places'],
    ['0.000000001', 8, 'more than 8 decimal places'],
    ['1e18', 18, 'not a plain non-negative decimal'],
    ['-1', 18, 'not a plain non-negative decimal'],
    ['.5', 18, 'not a plain non-negative decimal'],
    ['1.', 18, 'not a plain non-negative decimal'],
    [' 1', 18, 'not a plain non-negative decimal'],
    ['0x10', 18, 'not a plain non-negative decimal'],
  ])('%s with %i decimals is refused (%s), never rounded', (text, decimals, message) => {
    expect(() => wholeUnitsToBase(text, decimals)).toThrow(message);
  });
});

describe('platform asset maps', () => {
  it('name every entry that does not match the config', () => {
    expect(() =>
      resolvePlatformAssets(
        {
          SOL: { chain: 'solana', asset: 'SOL', decimals: 9 },
          DAI: { chain: 'devnet', asset: 'DAI', decimals: 18 },
          USDT: { chain: 'devnet', asset: 'USDT', decimals: 18 },
          ETH: { chain: 'devnet', asset: 'ETH', decimals: 18 },
        },
        custodyTestConfig(),
        'custody.cobo.tokens',
      ),
    ).toThrow(
      [
        'custody.cobo.tokens.SOL.chain: "solana" is not a chain of this config',
        'custody.cobo.tokens.DAI.asset: "DAI" is not an asset of devnet',
        'custody.cobo.tokens.USDT.decimals: 18, but devnet USDT has 6 in this config',
      ].join('\n  - '),
    );
  });
});

describe('the custody: config section', () => {
  it('applies the documented defaults', () => {
    const config = custodyTestConfig({
      fireblocks: {
        cosignerPublicKeyFile: 'c.pem',
        callbackPrivateKeyFile: 'k.pem',
        assets: { ETH: { chain: 'devnet', asset: 'ETH', decimals: 18 } },
      },
      cobo: {
        signature: 'ed25519',
        publicKey: 'ab'.repeat(32),
        tokens: { ETH: { chain: 'devnet', asset: 'ETH', decimals: 18 } },
      },
      bitgo: { pathTokenEnv: 'BITGO_POLICY_TOKEN', wallets: { w1: { chain: 'btc', asset: 'BTC', decimals: 8 } } },
    });
    const custody = (config.source as { custody?: Record<string, Record<string, unknown>> }).custody;
    expect(custody?.fireblocks).toMatchObject({
      pathPrefix: '',
      timeoutMs: 10_000,
      onFault: 'REJECT',
      operations: ['TRANSFER'],
      configChanges: 'REJECT',
    });
    expect(custody?.cobo).toMatchObject({ toleranceSeconds: 300, timeoutMs: 10_000, onFault: 'deny' });
    expect(custody?.bitgo).toMatchObject({
      timeoutMs: 10_000,
      fields: { walletId: 'walletId', outputs: 'outputs', outputAddress: 'address', outputAmount: 'amount' },
    });
  });

  it('names the bad path', () => {
    expect(() =>
      custodyTestConfig({
        fireblocks: {
          cosignerPublicKeyFile: 'c.pem',
          callbackPrivateKeyFile: 'k.pem',
          onFault: 'APPROVE',
          timeoutMs: 30_000,
          assets: { ETH: { chain: 'devnet', asset: 'ETH', decimals: 18 } },
        },
      }),
    ).toThrow(
      /custody\.fireblocks\.timeoutMs: must be ≤ 25000[\s\S]*custody\.fireblocks\.onFault: expected "REJECT" or "RETRY"|custody\.fireblocks\.onFault: expected "REJECT" or "RETRY"[\s\S]*custody\.fireblocks\.timeoutMs: must be ≤ 25000/,
    );
  });
});
