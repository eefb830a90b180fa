import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../../adapters/config/config-file.ts';
import { MemoryBreakerStore } from '../../adapters/memory/memory-breaker-store.ts';
import { formatUnits, formatUsd } from '../../core/amounts.ts';
import type { BreakerConfig } from '../../core/config/types.ts';
import { ConfigError, isBreakerError } from '../../core/errors.ts';
import { formatMeasure } from '../../core/pages/breach-pages.ts';
import { renderChartSvg } from '../../core/replay/chart.ts';
import { type ReplayResult, type ReplayScore, replayScenario } from '../../core/replay/replay.ts';
import { parseScenarioText, type Scenario, type ScenarioError } from '../../core/replay/scenario.ts';
import type { Rule } from '../../core/rules/rule.ts';

export const summary =
  'replay an outflow scenario through the rules and score it: <scenario.json> [--config C] [--json] [--observe-all-chains] [--svg FILE]';

const USAGE = `usage: breaker replay <scenario.json> [--config config/example.yaml] [--json] [--observe-all-chains] [--svg out.svg]
  --json                 print only the result object (FORMAT.md) on stdout
  --observe-all-chains   observe events on chains the config does not watch (60 s after t; global USD rules only)
  --svg FILE             write the rolling totals against limits as an SVG chart
  --check                evaluate with the batch evaluator too and fail if the results differ (slow)`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', default: 'config/example.yaml' },
      json: { type: 'boolean', default: false },
      'observe-all-chains': { type: 'boolean', default: false },
      svg: { type: 'string' },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [path, ...extra] = positionals;
  if (!path || extra.length > 0) {
    process.stderr.write(`breaker replay: give exactly one scenario file\n${USAGE}\n`);
    return 2;
  }
  const config = loadConfigFile(values.config);
  let scenario: Scenario;
  try {
    scenario = parseScenarioText(readScenario(path), path);
  } catch (e) {
    if (!isBreakerError(e, 'SCENARIO_INVALID')) throw e;
    process.stderr.write(`breaker replay: ${(e as ScenarioError).message}\n`);
    return 2;
  }

  const progress = !values.json && process.stderr.isTTY ? new ProgressBar() : undefined;
  const started = performance.now();
  const options = {
    observeAllChains: values['observe-all-chains'],
    onProgress: progress && ((done: number, total: number) => progress.update(done, total)),
  };
  const result = await replayScenario(config, scenario, { store: new MemoryBreakerStore() }, options);
  const seconds = (performance.now() - started) / 1000;
  progress?.done();

  if (values.check) {
    const batch = await replayScenario(
      config,
      scenario,
      { store: new MemoryBreakerStore() },
      { ...options, evaluator: 'batch', onProgress: undefined },
    );
    const a = JSON.stringify(result.score);
    const b = JSON.stringify(batch.score);
    if (a !== b) {
      process.stderr.write(
        `breaker replay: the incremental and batch evaluators disagree\n  incremental: ${a}\n  batch:       ${b}\n`,
      );
      return 1;
    }
  }
  if (values.svg) {
    writeFileSync(
      values.svg,
      renderChartSvg(result.chart, `${scenario.name}: rolling totals against limits (${config.name})`),
    );
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result.score)}\n`);
  } else {
    process.stdout.write(report(config, values.config, scenario, result, seconds, values.svg));
  }
  return 0;
}

/** The balance tracking's notes, the first few in full (one per shortfall can be many). */
function balanceNoteLines(notes: readonly string[]): string[] {
  const shown = notes.slice(0, 5).map((n) => `Balances  ${n}`);
  return notes.length > 5 ? [...shown, `Balances  … and ${notes.length - 5} more notes`] : shown;
}

function readScenario(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(path, [
      `cannot read the scenario file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    ]);
  }
}

function report(
  config: BreakerConfig,
  configPath: string,
  scenario: Scenario,
  r: ReplayResult,
  seconds: number,
  svg?: string,
): string {
  const s = r.score;
  const usd = (n: number) => formatUsd(BigInt(Math.round(n * 100)) * 10_000n);
  const unwatched = [...new Set(scenario.events.map((e) => e.chain).filter((c) => !config.chains.has(c)))];
  const lines = [
    `Scenario  ${s.scenario}${scenario.description ? ` — ${scenario.description}` : ''}`,
    `Config    ${configPath} (${config.name}, ${config.rules.length} rules)`,
    `Events    ${s.events}: ${r.counts.observed} observed, ${r.counts.prevented} prevented (the halted signer never signed them), ${r.counts.unobserved} not observed${
      unwatched.length ? ` (chains the config does not watch: ${unwatched.join(', ')})` : ''
    }${r.counts.inflows ? `, ${r.counts.inflows} inflows (they move balances only)` : ''}`,
    ...balanceNoteLines(r.balanceNotes),
    `Replayed  in ${seconds.toFixed(2)} s (${Math.round(s.events / Math.max(seconds, 1e-6)).toLocaleString('en-US')} events/s)`,
    '',
    s.tripped ? `TRIPPED   at ${at(s.trippedAtS as number)} by ${s.rule}` : 'NOT TRIPPED',
    '',
    ...scoreLines(s, usd),
    '',
  ];
  if (r.trips.length) {
    lines.push(
      'Trips',
      table(
        ['at', 'rule', 'halted'],
        r.trips.map((t) => [at(t.atS), t.ruleId, t.scope]),
      ),
      '',
    );
  }
  if (r.shadowTrips.length) {
    lines.push(
      'Shadow rules that would have tripped (nothing halted)',
      table(
        ['at', 'rule', 'would halt'],
        r.shadowTrips.map((t) => [at(t.atS), t.ruleId, t.wouldHalt]),
      ),
      '',
    );
  }
  if (r.warnings.length) {
    lines.push(
      `Warnings  ${r.warnings.length}: ${r.warnings
        .slice(0, 8)
        .map((w) => `${w.ruleId} at ${at(w.atS)}`)
        .join(', ')}${r.warnings.length > 8 ? ', …' : ''}`,
    );
  }
  const kinds = new Map<string, number>();
  for (const p of r.pages) {
    const kind = p.details.shadow ? 'shadow' : p.kind;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  lines.push(
    `Pages     ${r.pages.length}${kinds.size ? ` (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')})` : ''}`,
    '',
  );
  lines.push(
    'Peak of each rule against its trip level — the headroom to tune limits by:',
    table(
      ['rule', 'peak', 'trip level', '%', 'window end'],
      [...r.peaks]
        .sort((a, b) => b.ratio - a.ratio)
        .map((p) => [
          `${p.rule.id}${p.rule.shadow ? ' (shadow)' : ''}`,
          p.atS === null
            ? p.rule.measure.kind === 'profile-usd'
              ? 'too little history'
              : 'no outflows'
            : measure(p.rule, p.value),
          measure(p.rule, p.limit),
          p.atS === null ? '—' : `${Number.isFinite(p.ratio) ? Math.round(p.ratio * 1000) / 10 : '∞'}%`,
          p.atS === null ? '—' : at(p.atS),
        ]),
    ),
  );
  if (svg) lines.push('', `Chart     ${svg}`);
  return `${lines.join('\n')}\n`;
}

/** Detection (when it tripped, what was out by then) apart from prevention (what a halt really stopped). */
function scoreLines(s: ReplayScore, usd: (n: number) => string): string[] {
  const d = s.detection;
  const share = d.attackOutBeforeTripShare === null ? '' : ` (${Math.round(d.attackOutBeforeTripShare * 1000) / 10} %)`;
  return [
    'Detection',
    ...[
      ['first attack outflow', d.firstAttackAtS === null ? 'none' : at(d.firstAttackAtS)],
      ['tripped after it', d.timeToTripS === null ? '—' : `${d.timeToTripS} s`],
      ['attack in blocks before its halt', `${usd(d.attackOutBeforeTripUsd)}${share}`],
    ].map(([label, value]) => `  ${(label as string).padEnd(34)}${value}`),
    '',
    "Prevention — a halt stops the exchange's signer, not a thief signing with stolen keys elsewhere",
    table(
      ['', 'USD'],
      [
        ['attack', usd(s.attackUsd)],
        ['  with stolen keys (no halt stops it)', usd(s.stolenKeyAttackUsd)],
        ['  through the signer', usd(s.attackUsd - s.stolenKeyAttackUsd)],
        ['prevented (signer halted)', usd(s.preventedUsd)],
        ['lost', usd(s.lostUsd)],
        ['legit', usd(s.legitUsd)],
        ['legit blocked', usd(s.legitBlockedUsd)],
      ],
    ),
  ];
}

function measure(rule: Rule, value: bigint): string {
  if (rule.measure.kind === 'units') return `${formatUnits(value, rule.measure.decimals)} ${rule.measure.asset}`;
  return formatMeasure(rule, value);
}

function at(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const sec = Math.round((seconds % 60) * 10) / 10;
  return `${seconds} s (${h}h${String(m).padStart(2, '0')}m${sec < 10 ? '0' : ''}${sec}s)`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ')}`.trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

class ProgressBar {
  private readonly started = performance.now();
  update(done: number, total: number): void {
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    const rate = done / Math.max(0.001, (performance.now() - this.started) / 1000);
    process.stderr.write(
      `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} events, ${rate.toFixed(0)} events/s`,
    );
  }
  done(): void {
    process.stderr.write('\n');
  }
}
