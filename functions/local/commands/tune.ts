import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { compileConfig, loadConfigFile } from '../../adapters/config/config-file.ts';
import { MemoryBreakerStore } from '../../adapters/memory/memory-breaker-store.ts';
import { formatUnits, formatUsd } from '../../core/amounts.ts';
import type { BreakerConfig } from '../../core/config/types.ts';
import { ConfigError } from '../../core/errors.ts';
import type { OutflowRecord } from '../../core/model.ts';
import { type ReplayScore, replayScenario } from '../../core/replay/replay.ts';
import { parseScenarioText, type Scenario } from '../../core/replay/scenario.ts';
import { parseDuration } from '../../core/time.ts';
import { type LimitsSnippet, limitChanges, limitsSnippet } from '../../core/tune/limits-snippet.ts';
import {
  DEFAULT_TUNE_OPTIONS,
  type LimitProposal,
  proposeLimits,
  type TuneOptions,
  type TuneResult,
} from '../../core/tune/propose-limits.ts';
import { connectLocal } from '../connect.ts';

export const summary =
  'propose limits from your own history: <history.json> | --store [--days N] [--headroom 2] [--false-trips-per-year 1] [--attack FILE]…';

const USAGE = `usage: breaker tune <history.json> [options]      (a scenario file of your own outflows)
       breaker tune --store [--days 30] [options]   (the outflows in the local breaker's store)
  --config FILE               the config to tune (default config/example.yaml)
  --headroom X                proposed limit = base × X (default ${DEFAULT_TUNE_OPTIONS.headroom})
  --false-trips-per-year R    target false trips per limit per year (default ${DEFAULT_TUNE_OPTIONS.falseTripsPerYear})
  --windows 10m,1h,24h        windows to propose limits for (default 10m,1h,24h)
  --attack FILE               score the proposal on an attack scenario (repeatable)
  --json                      print proposals, the YAML snippet and the scores as one JSON object`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', default: 'config/example.yaml' },
      store: { type: 'boolean', default: false },
      days: { type: 'string', default: '30' },
      headroom: { type: 'string', default: String(DEFAULT_TUNE_OPTIONS.headroom) },
      'false-trips-per-year': { type: 'string', default: String(DEFAULT_TUNE_OPTIONS.falseTripsPerYear) },
      windows: { type: 'string', default: '10m,1h,24h' },
      attack: { type: 'string', multiple: true, default: [] },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.store === (positionals.length === 1) || positionals.length > 1) {
    process.stderr.write(`breaker tune: give one history scenario file, or --store\n${USAGE}\n`);
    return 2;
  }
  const options = tuneOptions(values);
  const configPath = values.config;
  const config = loadConfigFile(configPath);
  const historyScenario = positionals[0] === undefined ? undefined : readScenario(positionals[0]);
  const history = historyScenario
    ? await scenarioHistory(config, historyScenario)
    : await storeHistory(configPath, Number(values.days));

  const result = proposeLimits(history, options);
  const snippet = limitsSnippet(result.proposals);
  const current = limitsAndPatterns(configPath);
  const proposed = limitsAndPatterns(configPath, snippet);
  const scored: { scenario: string; current: ReplayScore; proposed: ReplayScore }[] = [];
  for (const scenario of [...(historyScenario ? [historyScenario] : []), ...values.attack.map(readScenario)]) {
    scored.push({
      scenario: scenario.name,
      current: await replayScore(current, scenario),
      proposed: await replayScore(proposed, scenario),
    });
  }

  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ ...summaryOf(result), proposals: result.proposals.map(jsonProposal), limits: snippet, scores: scored })}\n`,
    );
  } else {
    process.stdout.write(report(configPath, config, result, snippet, scored));
  }
  return 0;
}

function tuneOptions(values: { headroom: string; 'false-trips-per-year': string; windows: string }): TuneOptions {
  const issues: string[] = [];
  const headroom = Number(values.headroom);
  if (!(headroom >= 1)) issues.push(`--headroom: expected a number ≥ 1, got "${values.headroom}"`);
  const rate = Number(values['false-trips-per-year']);
  if (!(rate > 0))
    issues.push(`--false-trips-per-year: expected a number > 0, got "${values['false-trips-per-year']}"`);
  const windowsSeconds: number[] = [];
  for (const text of values.windows.split(',')) {
    try {
      windowsSeconds.push(parseDuration(text.trim()));
    } catch (e) {
      issues.push(`--windows: ${(e as Error).message}`);
    }
  }
  if (issues.length) throw new ConfigError('breaker tune', issues);
  return { headroom, falseTripsPerYear: rate, windowsSeconds };
}

function readScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(path, [
      `cannot read the scenario file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    ]);
  }
  return parseScenarioText(text, path);
}

/**
 * The outflows of a history scenario as the breaker records them (classified, valued, own transfers
 * marked), replayed with every rule in shadow so that no halt hides any of it.
 */
async function scenarioHistory(config: BreakerConfig, scenario: Scenario): Promise<OutflowRecord[]> {
  const observer: BreakerConfig = {
    ...config,
    rules: config.rules.map((r) => ({ ...r, shadow: true })),
    watermark: { ...config.watermark, enabled: false, chains: new Set() },
  };
  const result = await replayScenario(observer, scenario, { store: new MemoryBreakerStore() });
  return result.evaluator.recordsSince(Number.NEGATIVE_INFINITY);
}

async function storeHistory(configPath: string, days: number): Promise<OutflowRecord[]> {
  if (!(days > 0)) throw new ConfigError('breaker tune', [`--days: expected a number > 0, got "${days}"`]);
  const connection = await connectLocal({ config: configPath });
  try {
    // Window times are whole seconds, and the store refuses anything else.
    const since = Math.floor(Date.now() / 1000 - days * 86_400);
    const records: OutflowRecord[] = [];
    for (const chain of connection.config.chains.keys())
      records.push(...(await connection.store.outflowsSince(chain, since)));
    return records;
  } finally {
    await connection.close();
  }
}

/**
 * The config file judged on its limits and drain patterns alone — reconciliation and the watermark
 * trip on the first unapproved transfer whatever the limits, so they would hide what tuning changes —
 * with its limits replaced by the proposal when one is given (halt scopes and the rest kept).
 */
function limitsAndPatterns(configPath: string, snippet?: LimitsSnippet): BreakerConfig {
  const raw = parseYaml(readFileSync(configPath, 'utf8')) as Record<string, unknown> & {
    limits?: Record<string, unknown>;
  };
  delete raw.reconciliation;
  delete raw.watermark;
  if (!snippet) return compileConfig(raw, `${configPath}, limits and patterns only`);
  type Limits = { global?: Record<string, unknown>; chains?: Record<string, Record<string, unknown>> };
  raw.limits ??= {};
  const limits = raw.limits as Limits;
  limits.global = { ...limits.global, ...snippet.global };
  const chains = (limits.chains ?? {}) as Record<string, Record<string, unknown>>;
  limits.chains = chains;
  for (const [chain, proposed] of Object.entries(snippet.chains)) {
    const { assets, ...chainLimits } = proposed;
    const currentAssets = (chains[chain]?.assets ?? {}) as Record<string, Record<string, unknown>>;
    for (const [symbol, assetLimits] of Object.entries(assets ?? {}))
      currentAssets[symbol] = { ...currentAssets[symbol], ...assetLimits };
    chains[chain] = { ...chains[chain], ...chainLimits, assets: currentAssets };
  }
  return compileConfig(raw, `${configPath} with the proposed limits, limits and patterns only`);
}

async function replayScore(config: BreakerConfig, scenario: Scenario): Promise<ReplayScore> {
  return (await replayScenario(config, scenario, { store: new MemoryBreakerStore() })).score;
}

function summaryOf(result: TuneResult) {
  return {
    historySeconds: result.historySeconds,
    outflows: result.outflows,
    headroom: result.options.headroom,
    falseTripsPerYear: result.options.falseTripsPerYear,
  };
}

function jsonProposal(p: LimitProposal) {
  return {
    ruleId: p.ruleId,
    windowSeconds: p.windowSeconds,
    peak: p.peak.toString(),
    percentileValue: p.percentileValue?.toString() ?? null,
    proposed: p.proposed.toString(),
    samples: p.samples,
    historyAbove: p.historyAbove,
  };
}

function report(
  configPath: string,
  config: BreakerConfig,
  result: TuneResult,
  snippet: LimitsSnippet,
  scored: { scenario: string; current: ReplayScore; proposed: ReplayScore }[],
): string {
  const o = result.options;
  const days = Math.round((result.historySeconds / 86_400) * 10) / 10;
  const lines = [
    `History   ${result.outflows} outflows over ${days} days (own-address transfers left out)`,
    `Method    limit = base × ${o.headroom} headroom, rounded up to 2 significant digits; base = the percentile of`,
    `          aligned window totals that ${o.falseTripsPerYear} false trip(s) per year allows, or the history's peak`,
    '          where the history is too short to resolve that rate ("peak" below)',
    '',
    `Changes to ${configPath}:`,
  ];
  const byId = new Map(result.proposals.map((p) => [p.ruleId, p]));
  const rows = limitChanges(result.proposals, config.rules).map((c) => {
    const p = byId.get(c.ruleId) as LimitProposal;
    const fmt = (v: bigint) => measureText(p, v);
    return [
      c.ruleId,
      c.current === undefined ? '(none)' : fmt(c.current),
      fmt(c.proposed),
      p.percentileValue === undefined
        ? `peak ${fmt(p.peak)}`
        : `p-tile ${fmt(p.percentileValue)} (peak ${fmt(p.peak)})`,
      `${p.historyAbove}/${p.samples}`,
    ];
  });
  lines.push(table(['rule', 'current', 'proposed', 'base', 'history above'], rows), '');
  lines.push('As YAML (merge into limits:):', '', indent(stringifyYaml({ limits: snippet }, { flow: false })), '');
  if (scored.length) {
    const share = (s: ReplayScore) =>
      s.detection.attackOutBeforeTripShare === null
        ? '—'
        : `${Math.round(s.detection.attackOutBeforeTripShare * 1000) / 10} %`;
    const cell = (s: ReplayScore) => (s.tripped ? `tripped (${s.rule}), out ${share(s)}` : 'not tripped');
    lines.push(
      'Scored by replay on the limits and drain patterns alone (reconciliation and the watermark off: they trip on',
      'the first unapproved transfer whatever the limits). A history should not trip; an attack should, early:',
      table(
        ['scenario', 'current limits', 'proposed limits', 'legit blocked (proposed)'],
        scored.map((s) => [
          s.scenario,
          cell(s.current),
          cell(s.proposed),
          `$${s.proposed.legitBlockedUsd.toLocaleString('en-US')}`,
        ]),
      ),
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}

function measureText(p: LimitProposal, v: bigint): string {
  if (p.scope.kind === 'asset') return `${formatUnits(v, p.scope.decimals)} ${p.scope.asset}`;
  if (p.measure === 'count') return `${v} transfers`;
  return formatUsd(v);
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ')}`.trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
