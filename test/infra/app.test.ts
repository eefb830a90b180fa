import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { ConfigInput } from '../../functions/core/config/schema.ts';
import { ConfigError } from '../../functions/core/errors.ts';
import { buildBreakerApp } from '../../infra/breaker-app.ts';
import { REPO_ROOT } from '../../infra/paths.ts';

const dir = mkdtempSync(join(tmpdir(), 'breaker-app-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const example: ConfigInput = parse(readFileSync(join(REPO_ROOT, 'config/example.yaml'), 'utf8'));

/** The example config with one edit, written to a file. */
function variant(name: string, edit: (c: ConfigInput) => void): string {
  const config = structuredClone(example);
  edit(config);
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, stringify(config));
  return path;
}

function issuesOf(path: string): readonly string[] {
  const app = new App({ outdir: join(dir, 'out'), context: { 'aws:cdk:bundling-stacks': [] } });
  try {
    buildBreakerApp(app, path, { region: 'us-east-1' });
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('a bad config fails synth with the field named', () => {
  it.each([
    [
      'a malformed RPC URL',
      (c: ConfigInput) => {
        c.chains.ethereum!.rpc = ['ethereum-rpc.publicnode.com'];
      },
      'chains.ethereum.rpc[0]: not an http(s) URL',
    ],
    [
      'a limit on an unknown chain',
      (c: ConfigInput) => {
        c.limits.chains = { ...c.limits.chains, cardano: { usd: { '1h': 5 } } };
      },
      'limits.chains.cardano: no chain "cardano"',
    ],
    [
      'an SMS subscription without an E.164 number',
      (c: ConfigInput) => c.pages?.subscriptions?.push({ protocol: 'sms', endpoint: '555-0100' }),
      'pages.subscriptions[2].endpoint: an sms subscription needs an E.164 phone number',
    ],
    [
      'an https subscription to a plain http URL',
      (c: ConfigInput) => {
        c.pages!.subscriptions![1]!.endpoint = 'http://events.example.com/hook';
      },
      'pages.subscriptions[1].endpoint: an https subscription needs an https:// URL',
    ],
    [
      'the same endpoint twice',
      (c: ConfigInput) => c.pages?.subscriptions?.push({ ...c.pages.subscriptions[0]! }),
      'pages.subscriptions[2].endpoint: same email endpoint as pages.subscriptions[0]',
    ],
    [
      'a chain in two poller groups',
      (c: ConfigInput) => {
        c.pollerGroups = { ...c.pollerGroups, evm: ['ethereum'] };
      },
      'pollerGroups.evm[0]: "ethereum" is already polled by group "all"',
    ],
  ])('%s', (name, edit, expected) => {
    const issues = issuesOf(variant(name.replaceAll(' ', '-'), edit));
    expect(issues).toEqual([expect.stringContaining(expected)]);
  });

  it('a missing file', () => {
    expect(issuesOf(join(dir, 'nope.yaml'))).toEqual([expect.stringContaining('cannot read the file: ENOENT')]);
  });

  it('exits non-zero from infra/app.ts, printing the field and no stack trace', () => {
    const path = variant('cli', (c: ConfigInput) => {
      c.chains.bsc!.confirmations = -1;
    });
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        AWS_REGION: 'us-east-1',
        CDK_CONTEXT_JSON: JSON.stringify({ config: path }),
        CDK_OUTDIR: join(dir, 'cli-out'),
      },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${path}: invalid config`);
    expect(result.stderr).toContain('chains.bsc.confirmations:');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
