import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { compileConfig } from '../../core/config/compile.ts';
import type { BreakerConfig } from '../../core/config/types.ts';
import { ConfigError } from '../../core/errors.ts';

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
