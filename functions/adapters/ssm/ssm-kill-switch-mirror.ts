import { GetParameterCommand, ParameterNotFound, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { LayerReading } from '../../core/actuators/actuator.ts';
import { BreakerError, ConfigError, PublishError } from '../../core/errors.ts';
import type { BreakerState } from '../../core/state.ts';
import {
  decodeKillSwitchValue,
  encodeKillSwitchValue,
  isHaltedFromParameter,
  KILL_SWITCH_MAX_VALUE_BYTES,
  type KillSwitchDecision,
  type KillSwitchValue,
  parseKillSwitchValue,
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
 * Writes the breaker state into the kill switch parameter. Cheap to call on every flush: a value this
 * instance knows to be stored costs no request. Otherwise the stored value is read and compared by
 * content, not trusted for being "newer":
 * - a value that does not halt every scope the state halts is always overwritten, whatever version it
 *   claims (one forged PutParameter with a huge version, or a state version that dropped because the
 *   item was deleted or restored, must never silence later trips);
 * - a value from another epoch (the state was re-created) is overwritten;
 * - otherwise a stored version at or above the state's stands: another function mirrored a later
 *   transition, and this older state would only release what it halted. SSM has no conditional put,
 *   so two writers can still cross; the per-poll read-back (readBack, checked by the breaker's
 *   self-check) finds a value that disagrees with the state and rewrites it with `repair`.
 *
 * Throws PublishError (`PUBLISH_FAILED`) naming the parameter: signers polling it would see a stale state,
 * so the caller pages.
 */
export class SsmKillSwitchMirror {
  readonly #client: SSMClient;
  readonly #parameterName: string;
  /** The raw value known to be in the parameter, written or read by this instance. */
  #known: string | undefined;

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

  /** `repair`: write the state's value whatever the parameter holds (the self-check found it wrong). */
  async mirror(state: BreakerState, options: { repair?: boolean } = {}): Promise<void> {
    const value = encodeKillSwitchValue(state);
    if (!options.repair && this.#known === value) return;
    const what = `kill switch parameter "${this.#parameterName}": could not mirror breaker state version ${state.version}`;
    if (Buffer.byteLength(value) > KILL_SWITCH_MAX_VALUE_BYTES) {
      throw new PublishError(
        `${what}: ${Object.keys(state.tripped).length} tripped scopes do not fit in ${KILL_SWITCH_MAX_VALUE_BYTES} bytes`,
      );
    }
    try {
      if (!options.repair) {
        const raw = await this.#storedRaw();
        const stored = decodeKillSwitchValue(raw);
        if (stored.ok && !mustOverwrite(stored.value, parseKillSwitchValue(value))) {
          this.#known = raw;
          return;
        }
      }
      await this.#client.send(
        new PutParameterCommand({ Name: this.#parameterName, Value: value, Type: 'String', Overwrite: true }),
      );
      this.#known = value;
    } catch (e) {
      throw new PublishError(`${what}: ${describeError(e)}`, { cause: e });
    }
  }

  /** The parameter as signers see it now, for the breaker's per-poll self-check. */
  async readBack(): Promise<LayerReading> {
    const raw = await this.#storedRaw();
    this.#known = raw;
    if (raw === undefined) return { readable: false, problem: `parameter ${this.#parameterName} not found` };
    const decoded = decodeKillSwitchValue(raw);
    if (!decoded.ok) return { readable: false, problem: `malformed value: ${decoded.problem}` };
    const { halted, scopes, version } = decoded.value;
    return {
      readable: true,
      engaged: halted,
      scopes,
      version,
      detail: `${halted ? `halted ${scopes.join(',')}` : 'armed'} at version ${version}`,
    };
  }

  /** The stored value; undefined when the parameter is missing. */
  async #storedRaw(): Promise<string | undefined> {
    try {
      const out = await this.#client.send(new GetParameterCommand({ Name: this.#parameterName }));
      return out.Parameter?.Value;
    } catch (e) {
      if (e instanceof ParameterNotFound) return undefined;
      throw e;
    }
  }
}

/** Must the stored value be replaced by the state's? See SsmKillSwitchMirror for why each rule holds. */
function mustOverwrite(stored: KillSwitchValue, want: KillSwitchValue): boolean {
  if (stored.epoch !== want.epoch) return true;
  if (want.scopes.some((s) => !stored.scopes.includes(s))) return true;
  return stored.version < want.version;
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
