import { compileConfig, parseConfigDocument, readConfigText } from '../adapters/config/config-file.ts';
import type { CachedSecrets } from '../adapters/secrets/cached-secrets.ts';
import { resolveSecretReferences, secretReferencesIn } from '../adapters/secrets/secret-reference.ts';
import type { BreakerConfig } from '../core/config/types.ts';
import { configDigest } from './config-digest.ts';

export interface DeployedConfig {
  /** The config the function runs with: every `${secret:…}` / `${ssm:…}` placeholder replaced by its value. */
  readonly config: BreakerConfig;
  /**
   * The digest the per-poll config check records (core/config-check.ts), taken of the config as written — with
   * its placeholders — so a rotated API key is not a config change, and no secret value feeds the digest.
   */
  readonly digest: string;
}

/**
 * The deployed config file, validated as written, then with its secret placeholders read at cold start
 * (Secrets Manager or SSM SecureString, through `secrets`) and validated again. A secret that cannot be
 * read stops the cold start with a ConfigError naming the placeholder, never its value.
 */
export async function loadDeployedConfig(path: string, secrets: () => CachedSecrets): Promise<DeployedConfig> {
  const document = parseConfigDocument(readConfigText(path), path);
  const declared = compileConfig(document, path);
  const digest = configDigest(declared);
  if (secretReferencesIn(document).length === 0) return { config: declared, digest };
  const cache = secrets();
  const resolved = await resolveSecretReferences(document, (ref) => cache.get(ref));
  return { config: compileConfig(resolved, path), digest };
}
