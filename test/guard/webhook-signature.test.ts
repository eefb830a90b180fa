import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import { encodeKillSwitchWebhook, parseKillSwitchWebhook } from '../../functions/guard/webhook-receiver.ts';
import { SIGNATURE_HEADER, signatureOf, signBody, verifySignature } from '../../functions/guard/webhook-signature.ts';
import { ReferenceSigningService } from '../../functions/local/signing-service.ts';
import { haltedChain, haltedGlobal, stateAt } from '../actuators/support.ts';

const SECRET = 'whsec-0123456789abcdef';
const OLD = 'whsec-old-0123456789abc';
const NOW = 1_800_000_000_000;

describe('X-Breaker-Signature (HMAC-SHA256 over "<t>.<raw body>")', () => {
  const body = '{"type":"breaker.kill-switch"}';

  it('is the documented HMAC, so any language can verify it', () => {
    const header = signBody(SECRET, body, NOW);
    expect(header).toBe(`t=${NOW / 1000},v1=${signatureOf(SECRET, NOW / 1000, body)}`);
    // node -e "require('crypto').createHmac('sha256', secret).update(t + '.' + body).digest('hex')"
    expect(signatureOf('k'.repeat(16), 1, 'x')).toMatch(/^[0-9a-f]{64}$/);
  });

  const cases: [string, string | undefined, number, string][] = [
    ['a fresh signature', signBody(SECRET, body, NOW), NOW, 'ok'],
    ['5 minutes old', signBody(SECRET, body, NOW - 300_000), NOW, 'ok'],
    ['older than 5 minutes', signBody(SECRET, body, NOW - 301_000), NOW, 'expired'],
    ['from the future beyond the tolerance', signBody(SECRET, body, NOW + 301_000), NOW, 'expired'],
    ['another secret', signBody('another-secret-0123', body, NOW), NOW, 'mismatch'],
    ['no header', undefined, NOW, 'missing'],
    ['garbage', 'sha256=abc', NOW, 'malformed'],
  ];
  for (const [name, header, now, expected] of cases) {
    it(`${name} → ${expected}`, () => {
      const check = verifySignature(SECRET, body, header, now);
      expect(check.ok ? 'ok' : check.reason).toBe(expected);
    });
  }

  it('rejects a tampered body', () => {
    const header = signBody(SECRET, body, NOW);
    expect(verifySignature(SECRET, body.replace('kill', 'k1ll'), header, NOW)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('supports rotation: signed with both secrets, verified with either', () => {
    const header = signBody([SECRET, OLD], body, NOW);
    expect(verifySignature(OLD, body, header, NOW).ok).toBe(true);
    expect(verifySignature([SECRET], body, header, NOW).ok).toBe(true);
    expect(verifySignature(['x'.repeat(20), OLD], body, signBody(OLD, body, NOW), NOW).ok).toBe(true);
  });

  it('refuses short secrets', () => {
    expect(() => signBody('short', body, NOW)).toThrow(RangeError);
  });
});

describe('the kill-switch webhook body and the reference signing service receiving it', () => {
  const config = compileConfig(
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
    },
    'wh',
  );
  const deliver = (service: ReferenceSigningService, body: string, secret = SECRET, at = Date.now()) =>
    service.handleKillSwitchWebhook(body, { [SIGNATURE_HEADER]: signBody(secret, body, at) });

  it('decides per chain from the same value as the SSM parameter', () => {
    const body = encodeKillSwitchWebhook(haltedChain(3, 'other'), 'wh', 'engaged', undefined, NOW);
    const parsed = parseKillSwitchWebhook(SECRET, body, { [SIGNATURE_HEADER]: signBody(SECRET, body, NOW) }, NOW);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.body).toMatchObject({ type: 'breaker.kill-switch', deployment: 'wh', mode: 'engaged', chains: null });
    expect(parsed.decide('other')).toMatchObject({ halted: true, scope: 'chain:other' });
    expect(parsed.decide('devnet')).toMatchObject({ halted: false, version: 3 });
  });

  it('a verified halt stops the signing service before any table read; an unverified one is ignored; older versions never un-halt', async () => {
    let guardCalls = 0;
    const service = new ReferenceSigningService({
      wallet: {} as never,
      chain: config.chains.get('devnet')!,
      webhookSecrets: [SECRET],
      guard: {
        check: async () => {
          guardCalls++;
          throw new Error('not reached');
        },
      },
    });
    expect(
      deliver(
        service,
        encodeKillSwitchWebhook(haltedGlobal(5), 'wh', 'engaged', undefined, NOW),
        'wrong-secret-0123456789',
      ),
    ).toBe(401);
    expect(deliver(service, encodeKillSwitchWebhook(haltedGlobal(5), 'wh', 'engaged', undefined, NOW))).toBe(200);
    const out = await service.withdraw({
      withdrawalId: 'w',
      asset: 'ETH',
      destination: '0x1111111111111111111111111111111111111111',
      amount: 1n,
    });
    expect(out.status).toBe('rejected');
    expect(out.status === 'rejected' && out.error.message).toContain('kill-switch webhook: global halted');
    expect(guardCalls).toBe(0);
    // A delayed delivery of an older armed state does not release it.
    expect(deliver(service, encodeKillSwitchWebhook(stateAt(4), 'wh', 'released', undefined, NOW))).toBe(200);
    expect(
      (
        await service.withdraw({
          withdrawalId: 'w2',
          asset: 'ETH',
          destination: '0x1111111111111111111111111111111111111111',
          amount: 1n,
        })
      ).status,
    ).toBe('rejected');
  });
});
