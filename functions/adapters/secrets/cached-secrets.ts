import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { ConfigError } from '../../core/errors.ts';
import { type Clock, systemClock } from '../../core/time.ts';
import { describeReference, type SecretReference } from './secret-reference.ts';

/** A secret that can change while the process runs (rotation): read it for each use, refresh it when refused. */
export interface SecretSupplier {
  /** Where it comes from, for messages (never the value). */
  readonly label: string;
  current(): Promise<string>;
  /** Read it again now, e.g. after the other side refused the cached value. */
  refresh(): Promise<string>;
}

export interface CachedSecretsOptions {
  secretsManager?: SecretsManagerClient;
  ssm?: SSMClient;
  /** How long a value is used before it is read again, so a rotation lands without a redeploy. @default 300 000 */
  ttlMs?: number;
  clock?: Clock;
}

/**
 * Secrets read at run time from Secrets Manager (GetSecretValue) or SSM (GetParameter WithDecryption), cached for
 * `ttlMs`. A failed read is an error naming the reference and the AWS error, never a value.
 */
export class CachedSecrets {
  readonly #options: CachedSecretsOptions;
  readonly #cache = new Map<string, { value: string; readAtMs: number }>();

  constructor(options: CachedSecretsOptions) {
    this.#options = options;
  }

  async get(ref: SecretReference): Promise<string> {
    const key = describeReference(ref);
    const hit = this.#cache.get(key);
    const now = (this.#options.clock ?? systemClock).now();
    if (hit && now - hit.readAtMs < (this.#options.ttlMs ?? 300_000)) return hit.value;
    return this.refresh(ref);
  }

  async refresh(ref: SecretReference): Promise<string> {
    const value = await this.#read(ref);
    this.#cache.set(describeReference(ref), { value, readAtMs: (this.#options.clock ?? systemClock).now() });
    return value;
  }

  supplier(ref: SecretReference): SecretSupplier {
    return { label: describeReference(ref), current: () => this.get(ref), refresh: () => this.refresh(ref) };
  }

  async #read(ref: SecretReference): Promise<string> {
    const where = describeReference(ref);
    let value: string | undefined;
    try {
      if (ref.store === 'secretsmanager') {
        const client = this.#client('secretsManager', where);
        value = (await client.send(new GetSecretValueCommand({ SecretId: ref.name }))).SecretString;
      } else {
        const client = this.#client('ssm', where);
        const out = await client.send(new GetParameterCommand({ Name: ref.name, WithDecryption: true }));
        value = out.Parameter?.Value;
      }
    } catch (e) {
      throw new ConfigError('secrets', [`${where}: cannot be read (${describe(e)})`]);
    }
    if (!value) throw new ConfigError('secrets', [`${where}: has no string value`]);
    return value;
  }

  #client<K extends 'secretsManager' | 'ssm'>(which: K, where: string): NonNullable<CachedSecretsOptions[K]> {
    const client = this.#options[which];
    if (!client) throw new ConfigError('secrets', [`${where}: no ${which} client configured`]);
    return client as NonNullable<CachedSecretsOptions[K]>;
  }
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.name && e.name !== 'Error' ? `${e.name}: ${e.message}` : e.message;
}
