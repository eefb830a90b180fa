import { DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { Actuator, ActuatorMemory, ActuatorMode, LayerReading } from '../../core/actuators/actuator.ts';
import { rememberBeforeEngage, restoreOnRelease } from './memo.ts';

export interface KmsKeyActuatorOptions {
  client: KMSClient;
  /** Signing keys (key ids or key ARNs). */
  keys: readonly string[];
  memory: ActuatorMemory;
  chains?: readonly string[];
}

/**
 * Opt-in: DisableKey on the signing keys while halted, so nothing can sign with them — not even a
 * signer that ignores the breaker. On re-arm a key is enabled again only if it was enabled before
 * the halt (a key an operator had disabled stays disabled).
 */
export class KmsKeyActuator implements Actuator {
  readonly id = 'kms-keys';
  readonly follows = 'mode' as const;
  readonly description: string;
  readonly chains?: readonly string[];

  constructor(private readonly options: KmsKeyActuatorOptions) {
    if (options.keys.length === 0) throw new TypeError('KmsKeyActuator: no keys');
    this.description = `DisableKey on KMS signing key(s) ${options.keys.join(', ')}`;
    this.chains = options.chains;
  }

  async apply(mode: ActuatorMode): Promise<Record<string, unknown>> {
    const results = await Promise.allSettled(this.options.keys.map((key) => this.#one(key, mode)));
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [`${this.options.keys[i]}: ${describe(r.reason)}`] : [],
    );
    if (failed.length > 0) throw new Error(failed.join('; '));
    return { keys: results.map((r) => (r as PromiseFulfilledResult<Record<string, unknown>>).value) };
  }

  async #one(keyId: string, mode: ActuatorMode): Promise<Record<string, unknown>> {
    const { client, memory } = this.options;
    const key = `kms-key:${keyId}`;
    if (mode === 'engaged') {
      const remembered = await rememberBeforeEngage(memory, key, Date.now(), async () => {
        const out = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
        return { previousState: out.KeyMetadata?.KeyState ?? 'unknown' };
      });
      // A key pending deletion cannot sign and cannot be disabled (KMSInvalidStateException).
      if (String(remembered.previousState).startsWith('Pending')) {
        return { key: keyId, state: remembered.previousState, note: 'pending deletion: cannot sign' };
      }
      await client.send(new DisableKeyCommand({ KeyId: keyId }));
      return { key: keyId, state: 'Disabled', previousState: remembered.previousState };
    }
    const { restored, remembered } = await restoreOnRelease(memory, key, Date.now(), async (r) => {
      if (r.previousState === 'Enabled') await client.send(new EnableKeyCommand({ KeyId: keyId }));
    });
    if (!restored) return { key: keyId, restored: false, note: 'not disabled by the breaker: left as it is' };
    return remembered?.previousState === 'Enabled'
      ? { key: keyId, state: 'Enabled' }
      : { key: keyId, state: 'left disabled', previousState: remembered?.previousState };
  }

  /** Engaged when no key can sign: each is disabled or pending deletion/import, none Enabled. */
  async readBack(): Promise<LayerReading> {
    const { client, keys } = this.options;
    const states = await Promise.all(
      keys.map(async (key) => {
        const out = await client.send(new DescribeKeyCommand({ KeyId: key }));
        return out.KeyMetadata?.KeyState ?? 'unknown';
      }),
    );
    return {
      readable: true,
      engaged: states.every((s) => s !== 'Enabled' && s !== 'unknown'),
      detail: keys.map((k, i) => `${k}: ${states[i]}`).join('; '),
    };
  }

  manualSteps(mode: ActuatorMode): string[] {
    return this.options.keys.map((k) =>
      mode === 'engaged'
        ? `aws kms disable-key --key-id ${k}`
        : `aws kms enable-key --key-id ${k}   (if it was enabled before the halt)`,
    );
  }
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.name && e.name !== 'Error' ? `${e.name}: ${e.message}` : e.message;
}
