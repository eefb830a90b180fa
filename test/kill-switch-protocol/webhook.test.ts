import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../functions/adapters/config/config-file.ts';
import {
  encodeKillSwitchWebhook,
  isHaltedFromParameter,
  keepKillSwitch,
  parseKillSwitchWebhook,
  SIGNATURE_HEADER,
  signatureOf,
  signBody,
  verifySignature,
} from '../../functions/kill-switch-protocol/index.ts';
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

  it('a receiver with an empty or short secret refuses to verify, rather than accept MACs anyone can compute', () => {
    const t = NOW / 1000;
    for (const weak of ['', 'short-secret']) {
      const forged = `t=${t},v1=${signatureOf(weak, t, body)}`;
      expect(() => verifySignature(weak, body, forged, NOW)).toThrow(/at least 16 characters/);
      expect(() => verifySignature([SECRET, weak], body, forged, NOW)).toThrow(RangeError);
      expect(() =>
        parseKillSwitchWebhook({ secrets: weak, deployment: 'wh' }, body, { [SIGNATURE_HEADER]: forged }, NOW),
      ).toThrow(RangeError);
    }
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
    const parsed = parseKillSwitchWebhook(
      { secrets: SECRET, deployment: 'wh' },
      body,
      { [SIGNATURE_HEADER]: signBody(SECRET, body, NOW) },
      NOW,
    );
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
      webhook: { secrets: [SECRET], deployment: 'wh' },
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

describe('a receiver never ignores a halt for being older, and binds messages to its deployment', () => {
  const signed = (body: string) => ({ [SIGNATURE_HEADER]: signBody(SECRET, body, NOW) });
  const receiver = { secrets: SECRET, deployment: 'prod' };

  it('refuses a message for another deployment, even signed with the same secret', () => {
    const staging = encodeKillSwitchWebhook(stateAt(99), 'staging', 'released', undefined, NOW);
    expect(parseKillSwitchWebhook(receiver, staging, signed(staging), NOW)).toEqual({
      ok: false,
      reason: 'deployment "staging" is not this receiver\'s ("prod")',
    });
  });

  const value = (body: string) => {
    const parsed = parseKillSwitchWebhook(receiver, body, signed(body), NOW);
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.body.killSwitch;
  };
  const released = (version: number, epoch?: string) =>
    value(encodeKillSwitchWebhook({ ...stateAt(version), epoch }, 'prod', 'released', undefined, NOW));
  const halted = (version: number, epoch?: string) =>
    value(encodeKillSwitchWebhook({ ...haltedGlobal(version), epoch }, 'prod', 'engaged', undefined, NOW));
  const chainHalt = (version: number) =>
    value(encodeKillSwitchWebhook(haltedChain(version, 'other'), 'prod', 'engaged', undefined, NOW));

  it('a newer message replaces what is kept, a release included', () => {
    expect(keepKillSwitch(halted(5), released(6))).toMatchObject({ halted: false, version: 6 });
    expect(keepKillSwitch(undefined, released(1))).toMatchObject({ halted: false, version: 1 });
  });

  it('an older release is ignored; an older halt is added to what is kept (the state version may have dropped)', () => {
    expect(keepKillSwitch(halted(5), released(4))).toMatchObject({ halted: true, scopes: ['global'], version: 5 });
    const kept = keepKillSwitch(released(1_000_000), halted(7));
    expect(kept).toMatchObject({ halted: true, scopes: ['global'], version: 1_000_000 });
    expect(isHaltedFromParameter(kept, 'devnet')).toMatchObject({ halted: true, scope: 'global' });
    const both = keepKillSwitch(chainHalt(9), halted(8));
    expect(both.scopes).toEqual(['global', 'chain:other']);
    expect(both.trips.map((t) => t.scope)).toEqual(['global', 'chain:other']);
  });

  it('a message from another epoch (the state was re-created) restarts version tracking', () => {
    expect(keepKillSwitch(halted(90, 'e1'), released(2, 'e2'))).toMatchObject({ halted: false, epoch: 'e2' });
  });

  it('the reference signing service stays halted when a delayed halt arrives after a newer armed state', async () => {
    const service = new ReferenceSigningService({
      wallet: {} as never,
      chain: compileConfig(
        {
          name: 'prod',
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
        'prod',
      ).chains.get('devnet')!,
      webhook: { secrets: [SECRET], deployment: 'prod' },
      guard: { check: async () => Promise.reject(new Error('not reached')) },
    });
    // A forged or stale "armed" at a huge version first, then the real halt at the state's version.
    const armed = encodeKillSwitchWebhook(stateAt(1_000_000), 'prod', 'released', undefined, NOW);
    const halt = encodeKillSwitchWebhook(haltedGlobal(7), 'prod', 'engaged', undefined, NOW);
    expect(service.handleKillSwitchWebhook(armed, signed(armed), NOW)).toBe(200);
    expect(service.handleKillSwitchWebhook(halt, signed(halt), NOW)).toBe(200);
    const out = await service.withdraw({
      withdrawalId: 'w',
      asset: 'ETH',
      destination: '0x1111111111111111111111111111111111111111',
      amount: 1n,
    });
    expect(out.status).toBe('rejected');
  });
});
