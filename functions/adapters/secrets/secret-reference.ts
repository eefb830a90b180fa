/**
 * Where a secret lives, written into the config instead of its value: `${secret:<name>}` names a Secrets Manager
 * secret, `${ssm:<name>}` an SSM SecureString parameter. A placeholder may stand anywhere inside any string of the
 * config (typically an RPC URL's API key: `https://eth-mainnet.g.alchemy.com/v2/${secret:alchemy-eth}`), so no chain
 * schema needs to know about secrets; the config is validated with the placeholders in place and they are replaced
 * at cold start.
 */
/**
 * The variable the stack sets to the name of the webhook's Secrets Manager secret (the secret itself never enters
 * the environment: anyone with lambda:GetFunctionConfiguration could read it there).
 */
export const WEBHOOK_SECRET_ID_ENV = 'WEBHOOK_SECRET_ID';

export interface SecretReference {
  store: 'secretsmanager' | 'ssm';
  /** A secret name or ARN (Secrets Manager), a parameter name (SSM). */
  name: string;
}

const PLACEHOLDER = /\$\{(secret|ssm):([A-Za-z0-9/_+=.@:-]+)\}/g;

export function describeReference(ref: SecretReference): string {
  return `\${${ref.store === 'secretsmanager' ? 'secret' : 'ssm'}:${ref.name}}`;
}

/** Every secret reference in a JSON value (the raw config), each once. */
export function secretReferencesIn(value: unknown): SecretReference[] {
  const found = new Map<string, SecretReference>();
  walkStrings(value, (text) => {
    for (const m of text.matchAll(PLACEHOLDER)) {
      const ref: SecretReference = { store: m[1] === 'secret' ? 'secretsmanager' : 'ssm', name: m[2] ?? '' };
      found.set(describeReference(ref), ref);
    }
  });
  return [...found.values()];
}

/**
 * A copy of `value` with every placeholder replaced by the secret's value (each secret read once). The secret is
 * substituted verbatim: a value that must be URL-encoded should be stored encoded.
 */
export async function resolveSecretReferences<T>(
  value: T,
  read: (ref: SecretReference) => Promise<string>,
): Promise<T> {
  const refs = secretReferencesIn(value);
  const values = new Map(await Promise.all(refs.map(async (r) => [describeReference(r), await read(r)] as const)));
  return mapStrings(value, (text) => text.replace(PLACEHOLDER, (whole) => values.get(whole) ?? whole)) as T;
}

function walkStrings(value: unknown, visit: (text: string) => void): void {
  if (typeof value === 'string') visit(value);
  else if (Array.isArray(value)) for (const v of value) walkStrings(v, visit);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) walkStrings(v, visit);
}

function mapStrings(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, map));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, map)]));
  }
  return value;
}
