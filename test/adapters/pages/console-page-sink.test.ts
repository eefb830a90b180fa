import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConsolePageSink } from '../../../functions/adapters/pages/console-page-sink.ts';
import { PublishError } from '../../../functions/core/errors.ts';
import type { Page } from '../../../functions/core/state.ts';

const page: Page = {
  id: 'page-trip-0042',
  kind: 'trip',
  subject: 'TRIP global: USD outflow over 1h limit, signing halted',
  text: 'global USD over 1h: $3,120,000.00 > limit $3,000,000.00\nSigning is halted for scope global. Reset with `breaker reset --scope global` after review.',
  details: {
    ruleId: 'global-usd-1h',
    value: 3_120_000_000_000n,
    outflowIds: ['ethereum:0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:0', 'bitcoin:ff00:1'],
  },
};

const clock = { now: () => Date.UTC(2026, 10, 25, 21, 30, 0) };

async function render(p: Page, options: { width?: number; color?: boolean; maxDetailLines?: number } = {}) {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (chunk) => {
    out += chunk;
  });
  await new ConsolePageSink({ stream, clock, width: 72, color: false, ...options }).publish(p);
  return out;
}

describe('ConsolePageSink', () => {
  it('draws the page in a box of even width', async () => {
    const out = await render(page);
    const lines = out.trim().split('\n');
    for (const line of lines) expect([...line]).toHaveLength(72);
    expect(lines[0]).toMatch(/^┏━ TRIP · page page-trip-0042 ━+┓$/);
    expect(lines.at(-1)).toMatch(/^┗━ 2026-11-25T21:30:00\.000Z ━+┛$/);
    expect(out).toContain('┃ TRIP global: USD outflow over 1h limit, signing halted');
    expect(out).toContain('┃ global USD over 1h: $3,120,000.00 > limit $3,000,000.00');
    expect(out).toContain('┃ Signing is halted for scope global.');
    expect(out).toContain('ruleId      global-usd-1h');
    expect(out).toContain('value       3120000000000 ');
    expect(out).toContain('outflowIds  ["ethereum:0xaaaa');
    expect(out).not.toContain('\u001b');
  });

  it('keeps escape sequences from page text out of the terminal', async () => {
    const out = await render({
      ...page,
      subject: 'TRIP \u001b[2J\u001b]0;owned\u0007 token',
      text: 'memo:\u001b[31m red',
    });
    expect(out).not.toContain('\u001b');
    expect(out).not.toContain('\u0007');
    expect(out).toContain('TRIP [2J]0;owned token');
  });

  it('colours the border by kind when asked', async () => {
    const out = await render(page, { color: true });
    expect(out).toContain('\u001b[31m┏');
    expect(out).toContain('\u001b[1mTRIP global');
    expect((await render({ ...page, kind: 'reset' }, { color: true })).includes('\u001b[32m┏')).toBe(true);
  });

  it('summarises details beyond the line limit', async () => {
    const details = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]));
    const out = await render({ ...page, details }, { maxDetailLines: 5 });
    expect(out).toContain('k3 ');
    expect(out).not.toContain('k4 ');
    expect(out).toContain('… 26 more lines');
  });

  it('turns a failed write into a PublishError', async () => {
    const broken = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error('EPIPE: stdout closed'));
      },
    });
    broken.on('error', () => {});
    await expect(new ConsolePageSink({ stream: broken, clock }).publish(page)).rejects.toBeInstanceOf(PublishError);
  });
});
