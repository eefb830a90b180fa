import { GetParameterCommand, ParameterNotFound, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { BreakerError, ConfigError, PublishError } from '../../core/errors.ts';
import type { BreakerState } from '../../core/state.ts';
import {
  decodeKillSwitchValue,
  encodeKillSwitchValue,
  isHaltedFromParameter,
  KILL_SWITCH_MAX_VALUE_BYTES,
  type KillSwitchDecision,
  type KillSwitchValue,
} from '../../kill-switch-protocol/index.ts';

const PARAMETER_NAME = /^[A-Za-z0-9_.\-/]{1,2048}$/;

/**
 * The kill switch parameter: an SSM String parameter mirroring the breaker state for signing services that
 * can only poll a parameter. The DynamoDB state item stays the truth; this is a copy, written on each
 * transition. Its value is the protocol's KillSwitchValue (functions/kill-switch-protocol).
 */

export interface SsmKillSwitchMirrorOptions {
  readonly client: SSMClient;
  /** The parameter's name (not its ARN: PutParameter accepts names only). */
  readonly parameterName: string;
}

/**
 * Writes the breaker state into the kill switch parameter. Cheap to call on every poll with the current
 * state: a version already mirrored costs no request. A newer version is read-compared-written: the stored
 * JSON's `version` is read first and, when it is the same or newer (another function mirrored a later
 * transition), nothing is written, so an older state never replaces a newer one. SSM has no conditional
 * put, so two writers can still cross within one round trip; the parameter then converges the next time
 * the current state is mirrored, since the writer of the older version remembers only that version.
 *
 * Throws PublishError (`PUBLISH_FAILED`) naming the parameter: signers polling it would see a stale state,
 * so the caller pages.
 */
export class SsmKillSwitchMirror {
  readonly #client: SSMClient;
  readonly #parameterName: string;
  /** Highest version known to be in the parameter, written or read by this instance. */
  #mirrored: number | undefined;

  constructor(options: SsmKillSwitchMirrorOptions) {
    if (typeof options.parameterName !== 'string' || !PARAMETER_NAME.test(options.parameterName)) {
      throw new ConfigError('SsmKillSwitchMirror options', [
        `parameterName: not an SSM parameter name: "${String(options.parameterName)}"`,
      ]);
    }
    this.#client = options.client;
    this.#parameterName = options.parameterName;
  }

  get parameterName(): string {
    return this.#parameterName;
  }

  async mirror(state: BreakerState): Promise<void> {
    if (this.#mirrored !== undefined && state.version <= this.#mirrored) return;
    const what = `kill switch parameter "${this.#parameterName}": could not mirror breaker state version ${state.version}`;
    const value = encodeKillSwitchValue(state);
    if (Buffer.byteLength(value) > KILL_SWITCH_MAX_VALUE_BYTES) {
      throw new PublishError(
        `${what}: ${Object.keys(state.tripped).length} tripped scopes do not fit in ${KILL_SWITCH_MAX_VALUE_BYTES} bytes`,
      );
    }
    try {
      const stored = await this.#storedVersion();
      if (stored !== undefined && stored >= state.version) {
        this.#mirrored = stored;
        return;
      }
      await this.#client.send(
        new PutParameterCommand({ Name: this.#parameterName, Value: value, Type: 'String', Overwrite: true }),
      );
      this.#mirrored = state.version;
    } catch (e) {
      throw new PublishError(`${what}: ${describeError(e)}`, { cause: e });
    }
  }

  /** The version in the stored JSON; undefined when the parameter is missing or holds no readable version. */
  async #storedVersion(): Promise<number | undefined> {
    try {
      const out = await this.#client.send(new GetParameterCommand({ Name: this.#parameterName }));
      const decoded = decodeKillSwitchValue(out.Parameter?.Value);
      return decoded.ok ? decoded.value.version : undefined;
    } catch (e) {
      if (e instanceof ParameterNotFound) return undefined;
      throw e;
    }
  }
}

/** The kill switch parameter is missing, unreadable or malformed: a signer must treat that as halted. */
export class KillSwitchParameterError extends BreakerError {
  readonly parameterName: string;
  readonly reason: 'missing' | 'unreadable' | 'malformed';
  constructor(parameterName: string, reason: KillSwitchParameterError['reason'], detail: string, cause?: unknown) {
    super('STORE_UNAVAILABLE', `kill switch parameter "${parameterName}": ${detail}`, { cause });
    this.parameterName = parameterName;
    this.reason = reason;
  }
}

/** Reads and parses the kill switch parameter (for signers). Throws KillSwitchParameterError. */
export async function readKillSwitchParameter(client: SSMClient, parameterName: string): Promise<KillSwitchValue> {
  let raw: string | undefined;
  try {
    const out = await client.send(new GetParameterCommand({ Name: parameterName }));
    raw = out.Parameter?.Value;
  } catch (e) {
    if (e instanceof ParameterNotFound) {
      throw new KillSwitchParameterError(parameterName, 'missing', 'parameter not found', e);
    }
    throw new KillSwitchParameterError(parameterName, 'unreadable', describeError(e), e);
  }
  if (raw === undefined) throw new KillSwitchParameterError(parameterName, 'malformed', 'parameter has no value');
  const decoded = decodeKillSwitchValue(raw);
  if (!decoded.ok)
    throw new KillSwitchParameterError(parameterName, 'malformed', `malformed value: ${decoded.problem}`);
  return decoded.value;
}

/** Read the parameter and decide for `chain` in one call that never throws: any failure is a halt. */
export async function checkKillSwitchParameter(
  client: SSMClient,
  parameterName: string,
  chain: string,
): Promise<KillSwitchDecision> {
  try {
    return isHaltedFromParameter(await readKillSwitchParameter(client, parameterName), chain);
  } catch (e) {
    return { halted: true, reason: e instanceof Error ? e.message : String(e), failedClosed: true };
  }
}

function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.name && e.name !== 'Error' ? `${e.name}: ${e.message}` : e.message;
}
