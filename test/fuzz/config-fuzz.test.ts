/**
 * Fuzz: the config parser over random mutations of config/example.yaml — structural (a field
 * deleted, retyped, misspelt, added) and textual (bytes flipped, inserted, cut). It must never
 * throw anything but ConfigError, and every structural problem must name the path it is about.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { compileConfig, parseConfigText } from '../../functions/adapters/config/config-file.ts';
import { ConfigError } from '../../functions/core/errors.ts';

const TEXT = readFileSync('config/example.yaml', 'utf8');
const BASE = parseYaml(TEXT) as Record<string, unknown>;

type Path = (string | number)[];

/** Every path in the document, containers included. */
function paths(value: unknown, prefix: Path = []): Path[] {
  const out: Path[] = prefix.length ? [prefix] : [];
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) out.push(...paths(v, [...prefix, i]));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  }
  return out;
}

const ALL_PATHS = paths(BASE);

/** Values a careless edit or a hostile file puts where a field was. */
const nasty = fc.oneof(
  fc.constantFrom(
    null,
    '',
    ' ',
    0,
    -1,
    1.5,
    1e308,
    -1e308,
    Number.MAX_SAFE_INTEGER,
    '0x',
    '0xZZ',
    'NaN',
    'Infinity',
    '10x',
    '-5m',
    '1e3',
    '__proto__',
    'constructor',
    true,
    false,
    [],
    {},
    [null],
    { '': 1 },
    'x'.repeat(5000),
    'https://',
    'ftp://example.com',
    '0x0000000000000000000000000000000000000000',
  ),
  fc.jsonValue({ maxDepth: 2 }),
  fc.string(),
  fc.double(),
  fc.integer(),
);

type Mutation =
  | { op: 'delete'; at: number }
  | { op: 'set'; at: number; value: unknown }
  | { op: 'rename'; at: number; suffix: string }
  | { op: 'add'; at: number; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: nasty }),
  fc.record({ op: fc.constant('rename' as const), at: fc.nat(), suffix: fc.constantFrom('s', '_', 'X', ' ') }),
  fc.record({
    op: fc.constant('add' as const),
    at: fc.nat(),
    key: fc.string({ minLength: 1, maxLength: 12 }),
    value: nasty,
  }),
);

function apply(doc: unknown, m: Mutation): void {
  const path = ALL_PATHS[m.at % ALL_PATHS.length] as Path;
  let parent = doc as Record<string | number, unknown>;
  for (const part of path.slice(0, -1)) {
    const next = parent?.[part];
    if (!next || typeof next !== 'object') return;
    parent = next as Record<string | number, unknown>;
  }
  const key = path.at(-1) as string | number;
  if (!parent || typeof parent !== 'object' || !(key in parent)) return;
  switch (m.op) {
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case 'set':
      parent[key] = structuredClone(m.value);
      break;
    case 'rename':
      if (!Array.isArray(parent)) {
        parent[`${String(key)}${m.suffix}`] = parent[key];
        delete parent[key];
      }
      break;
    case 'add': {
      const target = parent[key];
      if (target && typeof target === 'object' && !Array.isArray(target))
        (target as Record<string, unknown>)[m.key] = structuredClone(m.value);
      break;
    }
  }
}

/** `chains.ethereum.rpc[0]: …`, `limits: …` or `(root): …`: a top-level field, then the rest of the path. */
const NAMES_A_PATH = /^(\(root\)|[A-Za-z][\w-]*)[.[:]/;

function outcome(run: () => unknown): ConfigError | undefined {
  try {
    run();
    return undefined;
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw new Error(`threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`, { cause: e });
  }
}

describe('config parser fuzz (config/example.yaml, mutated)', () => {
  it('the example itself is valid', () => {
    expect(outcome(() => compileConfig(structuredClone(BASE)))).toBeUndefined();
  });

  it('structural mutations: only ConfigError, and every issue names a path', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        const doc = structuredClone(BASE);
        for (const m of mutations) apply(doc, m);
        const error = outcome(() => compileConfig(doc, 'fuzz.yaml'));
        if (!error) return;
        expect(error.issues.length).toBeGreaterThan(0);
        for (const issue of error.issues) expect(issue).toMatch(NAMES_A_PATH);
        expect(error.message.startsWith('fuzz.yaml: invalid config')).toBe(true);
      }),
      { numRuns: 1500 },
    );
    // 1,500 runs: 47 s at load 20 (issue 20's soak).
  }, 180_000);

  it('every single field deleted or retyped in turn: only ConfigError naming a path', () => {
    for (let at = 0; at < ALL_PATHS.length; at++) {
      for (const m of [
        { op: 'delete', at },
        { op: 'set', at, value: null },
        { op: 'set', at, value: 'x' },
        { op: 'set', at, value: -1 },
      ] as Mutation[]) {
        const doc = structuredClone(BASE);
        apply(doc, m);
        const error = outcome(() => compileConfig(doc));
        for (const issue of error?.issues ?? []) expect(issue).toMatch(NAMES_A_PATH);
      }
    }
    // Four mutations of every field of an eight-chain example: about a minute on a loaded two-core machine.
  }, 240_000);

  it('a USD figure of 1e21 or more is a number like any other (it used to throw a bare RangeError)', () => {
    const doc = structuredClone(BASE) as { limits: { global: { usd: Record<string, number> } } };
    doc.limits.global.usd['10m'] = 1e21;
    const rule = compileConfig(doc).rules.find((r) => r.id === 'global-usd-10m');
    expect(rule?.limit).toBe(10n ** 27n);
  });

  it('text mutations (bytes flipped, inserted, cut): only ConfigError', () => {
    // The YAML parser warns about unknown tags a mutation makes up; the fuzz only cares what is thrown.
    vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const edit = fc.record({
      at: fc.nat({ max: TEXT.length }),
      cut: fc.nat({ max: 40 }),
      insert: fc.oneof(
        fc.string({ maxLength: 8 }),
        fc.constantFrom(':', '- ', '{', '"', "'", '\t', '\n  ', '&a', '*a', '!!binary', '---', '%YAML'),
      ),
    });
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 5 }), (edits) => {
        let text = TEXT;
        for (const e of edits) text = text.slice(0, e.at) + e.insert + text.slice(e.at + e.cut);
        const error = outcome(() => parseConfigText(text, 'fuzz.yaml'));
        for (const issue of error?.issues ?? []) expect(issue.length).toBeGreaterThan(0);
      }),
      { numRuns: 400 },
    );
  });
});
