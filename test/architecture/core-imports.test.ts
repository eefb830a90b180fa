import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findCycle, specifiers } from './import-graph.ts';

/**
 * The layering of functions/core, checked on the source text: core is pure (no adapter, handler,
 * SDK or chain library) and its files form no import circle — type-only imports included, because a
 * circle of types is still a circle a reader has to hold in mind (docs/ARCHITECTURE.md).
 */

const ROOT = resolve(import.meta.dirname, '../..');
const CORE = join(ROOT, 'functions/core');
const FORBIDDEN_PACKAGES = [/^@aws-sdk\//, /^@middy\//, /^ethers$/, /^bitcoinjs-lib$/, /^node:/];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The import graph of core: file → the core files it imports. */
function coreGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(CORE)) {
    const deps = specifiers(readFileSync(file, 'utf8'))
      .filter((s) => s.startsWith('.'))
      .map((s) => resolve(dirname(file), s))
      .filter((f) => f.startsWith(CORE));
    graph.set(file, deps);
  }
  return graph;
}

describe('functions/core layering', () => {
  it('has no import circle (type-only imports included)', () => {
    const cycle = findCycle(coreGraph());
    expect(cycle?.map((f) => relative(ROOT, f))).toBeUndefined();
  });

  it('imports no adapter, handler, console, guard, AWS SDK, middy, ethers, bitcoinjs-lib or node: module', () => {
    const offences: string[] = [];
    for (const file of sourceFiles(CORE)) {
      for (const s of specifiers(readFileSync(file, 'utf8'))) {
        const outside = s.startsWith('.') && !resolve(dirname(file), s).startsWith(CORE);
        if (outside || FORBIDDEN_PACKAGES.some((p) => p.test(s))) offences.push(`${relative(ROOT, file)} → ${s}`);
      }
    }
    expect(offences).toEqual([]);
  });

  it('the checks can fail: a circle and a forbidden import are seen', () => {
    expect(
      findCycle(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
        ]),
      ),
    ).toEqual(['a', 'b', 'c', 'a']);
    expect(
      findCycle(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
    ).toBeUndefined();
    expect(specifiers("import type { X } from '../adapters/x.ts';\nimport { Y } from '@aws-sdk/client-ssm';")).toEqual([
      '../adapters/x.ts',
      '@aws-sdk/client-ssm',
    ]);
  });
});
