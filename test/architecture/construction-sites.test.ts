import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The parts that reach AWS or an outside system — the store, the pagers, the kill-switch mirror and
 * actuators — are each constructed in one non-test file (the composition root and its helpers in
 * functions/runtime, or the actuator builder), so the Lambda handlers, the local runtime, the CLI and
 * the guard cannot drift apart in how they build them (issue 12; docs/ARCHITECTURE.md).
 */

const ROOT = resolve(import.meta.dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const SOURCES = [...sourceFiles(join(ROOT, 'functions')), ...sourceFiles(join(ROOT, 'infra'))].map((file) => ({
  file: relative(ROOT, file),
  text: readFileSync(file, 'utf8'),
}));

const PARTS = [
  'DynamoDbBreakerStore',
  'SnsPagePublisher',
  'WebhookPagePublisher',
  'SsmKillSwitchMirror',
  'SsmParameterActuator',
  'WebhookActuator',
  'LambdaConcurrencyActuator',
  'KmsKeyActuator',
];

describe('construction sites', () => {
  it.each(PARTS)('%s is constructed in exactly one non-test file', (part) => {
    const sites = SOURCES.filter((s) => new RegExp(`\\bnew ${part}\\(`).test(s.text)).map((s) => s.file);
    expect(sites).toHaveLength(1);
  });
});
