import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { compileConfigWith } from '../../core/config/compile.ts';
import type { BreakerConfig } from '../../core/config/types.ts';
import { ConfigError } from '../../core/errors.ts';
import { CHAIN_KINDS } from '../chain-kinds.ts';

/** Validate an already-parsed object (from YAML or JSON) for the chain kinds this build registers. */
export function compileConfig(input: unknown, sourceName = 'config'): BreakerConfig {
  return compileConfigWith(CHAIN_KINDS, input, sourceName);
}

/** Parse YAML or JSON text (JSON is YAML) and validate it. Throws ConfigError naming the bad paths. */
export function parseConfigText(text: string, sourceName: string): BreakerConfig {
  return compileConfig(parseConfigDocument(text, sourceName), sourceName);
}

/** The document of YAML or JSON text, not yet validated (runtime/deployed-config.ts resolves secrets in it first). */
export function parseConfigDocument(text: string, sourceName: string): unknown {
  try {
    return parseYaml(text, { intAsBigInt: false, uniqueKeys: true });
  } catch (e) {
    throw new ConfigError(sourceName, [`not valid YAML/JSON: ${(e as Error).message}`]);
  }
}

export function loadConfigFile(path: string): BreakerConfig {
  return parseConfigText(readConfigText(path), path);
}

export function readConfigText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(path, [`cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
  }
}
