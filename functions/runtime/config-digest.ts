import { createHash } from 'node:crypto';
import type { BreakerConfig } from '../core/config/types.ts';
import { canonicalConfig } from '../core/config-record.ts';

/** SHA-256 of the compiled config's canonical text: what the state records each poll (core/config-check.ts). */
export function configDigest(config: BreakerConfig): string {
  return createHash('sha256').update(canonicalConfig(config)).digest('hex');
}
