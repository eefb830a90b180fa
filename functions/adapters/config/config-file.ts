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
  let data: unknown;
  try {
    data = parseYaml(text, { intAsBigInt: false, uniqueKeys: true });
  } catch (e) {
    throw new ConfigError(sourceName, [`not valid YAML/JSON: ${(e as Error).message}`]);
  }
  return compileConfig(data, sourceName);
}

export function loadConfigFile(path: string): BreakerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(path, [`cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
  }
  return parseConfigText(text, path);
}
