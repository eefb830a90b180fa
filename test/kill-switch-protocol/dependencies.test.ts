/**
 * The kill-switch protocol is the contract between the breaker and signing services, so it must be
 * importable on its own: zod and node:crypto only, nothing of the breaker's adapters or core. And
 * the guard, which signers embed, must no longer pull the SSM client in through it.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** Every module reachable from `entry` by static imports: relative files, and bare package names. */
function importClosure(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [resolve(ROOT, entry)];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) pending.push(resolve(dirname(file), spec));
      else packages.add(spec);
    }
  }
  return { files, packages };
}

const relative = (files: Set<string>) => [...files].map((f) => f.slice(ROOT.length + 1)).sort();

describe('kill-switch protocol module', () => {
  it('depends on zod and node:crypto only, and on no breaker folder outside itself', () => {
    const { files, packages } = importClosure('functions/kill-switch-protocol/index.ts');
    expect([...packages].sort()).toEqual(['node:crypto', 'zod']);
    expect(relative(files).every((f) => f.startsWith('functions/kill-switch-protocol/'))).toBe(true);
  });

  it('the guard does not load the SSM client, and no adapter imports the guard', () => {
    const guard = importClosure('functions/guard/index.ts');
    expect([...guard.packages]).not.toContain('@aws-sdk/client-ssm');
    expect(relative(guard.files)).not.toContain('functions/adapters/ssm/ssm-kill-switch-mirror.ts');
    for (const entry of ['functions/adapters/actuators/build.ts', 'functions/adapters/ssm/ssm-kill-switch-mirror.ts']) {
      expect(relative(importClosure(entry).files).filter((f) => f.startsWith('functions/guard/'))).toEqual([]);
    }
  });
});
