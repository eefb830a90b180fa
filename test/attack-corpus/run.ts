/**
 * `npm run corpus`: replay the attack corpus and the normal weeks through config/example.yaml and
 * print the table (per shape: variants tripped, median and worst share of the attack in blocks before
 * the halt; the same with the limits and drain patterns alone; false trips on the normal weeks).
 *
 *   npm run corpus                       print the table
 *   npm run corpus -- --write            also splice it into BENCHMARKS.md (its own marked section)
 *   npm run corpus -- --out DIR          also write every corpus scenario as DIR/<shape>-<n>.json
 *   npm run corpus -- --config FILE      score another config
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { compileConfig, loadConfigFile } from '../../functions/adapters/config/config-file.ts';
import { CORPUS_SEED, generateCorpus, VARIANTS_PER_SHAPE } from './corpus.ts';
import {
  MULTICHAIN_DRAIN,
  type NormalRow,
  percent,
  type ShapeRow,
  scoreCorpus,
  scoreMultichainDrain,
  scoreNormalWeeks,
  shapeRows,
} from './score-corpus.ts';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: join('config', 'example.yaml') },
    write: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

const START = '<!-- corpus part -->';
const END = '<!-- end of corpus part -->';

async function main(): Promise<void> {
  const configPath = values.config;
  const config = loadConfigFile(configPath);
  const raw = parseYaml(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  // Before any signer records approvals and nonces: the limits and drain patterns alone.
  delete raw.reconciliation;
  delete raw.watermark;
  const limitsAndPatterns = compileConfig(raw, `${configPath} without reconciliation and watermark`);

  const corpus = generateCorpus();
  if (values.out) {
    mkdirSync(values.out, { recursive: true });
    for (const e of corpus)
      writeFileSync(join(values.out, `${e.scenario.name}.json`), `${JSON.stringify(e.scenario, null, 1)}\n`);
  }
  const started = performance.now();
  const rows = shapeRows(await scoreCorpus(config, corpus));
  const bare = shapeRows(await scoreCorpus(limitsAndPatterns, corpus));
  const normal = await scoreNormalWeeks(config);
  const drain = await scoreMultichainDrain(config);
  const seconds = (performance.now() - started) / 1000;

  const section = render(configPath, rows, bare, normal, drain.detection.attackOutBeforeTripShare, drain.rule, seconds);
  process.stdout.write(section);
  if (values.write) {
    const md = readFileSync('BENCHMARKS.md', 'utf8');
    const block = `${START}\n${section}${END}\n`;
    const s = md.indexOf(START);
    const e = md.indexOf(END);
    writeFileSync(
      'BENCHMARKS.md',
      s >= 0 && e > s ? `${md.slice(0, s)}${block}${md.slice(e + END.length + 1)}` : `${md.trimEnd()}\n\n${block}`,
    );
    process.stderr.write('wrote the corpus section into BENCHMARKS.md\n');
  }
}

/** A Markdown table with padded cells, as Biome formats it (BENCHMARKS.md is linted). */
function markdownTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

function render(
  configPath: string,
  rows: ShapeRow[],
  bare: ShapeRow[],
  normal: NormalRow[],
  drainShare: number | null,
  drainRule: string | null,
  seconds: number,
): string {
  const date = new Date().toISOString().slice(0, 10);
  const lines = [
    '## Attack corpus: share of each drain out before the trip',
    '',
    `Measured by \`npm run corpus\` (test/attack-corpus/) on ${date} with \`${configPath}\`: ${VARIANTS_PER_SHAPE} variants of`,
    `each shape (seed ${CORPUS_SEED}), each after two hours of ordinary withdrawals, replayed in ${seconds.toFixed(1)} s.`,
    '"Out before the trip" is the share of the attack USD already in blocks when the halt covering its chain',
    'came (detection; with stolen keys a halt prevents none of it, docs/STOLEN-KEYS.md). A variant that never',
    'trips counts as 100 %. The right-hand columns replay the same corpus with `reconciliation` and `watermark`',
    'removed: what the limits and drain patterns catch alone, before a signer records approvals and nonces.',
    '',
    ...markdownTable(
      [
        'shape',
        'tripped',
        'median out',
        'worst out',
        'first rule',
        'limits + patterns alone: tripped',
        'median',
        'worst',
      ],
      rows.map((r, i) => {
        const b = bare[i] as ShapeRow;
        return [
          `\`${r.shape}\` — ${r.description}`,
          `${r.tripped}/${r.variants}`,
          percent(r.medianShare),
          percent(r.worstShare),
          r.rules.map((x) => `\`${x}\``).join(', ') || '—',
          `${b.tripped}/${b.variants}`,
          percent(b.medianShare),
          percent(b.worstShare),
        ];
      }),
    ),
    '',
    `\`${MULTICHAIN_DRAIN}\`: ${drainShare === null ? 'no attack' : percent(drainShare)} out before the trip (rule \`${drainRule ?? '—'}\`; the bar is ≤ 5 %).`,
    '',
    ...markdownTable(
      ['normal week', 'false trips', 'legit withdrawals blocked', 'closest rule came to its trip level'],
      normal.map((n) =>
        n.tripped === null
          ? [`\`${n.file}\``, `— (${n.note})`, '—', '—']
          : [
              `\`${n.file}\``,
              n.tripped ? `1 (\`${n.rule}\`)` : '0',
              `$${(n.legitBlockedUsd ?? 0).toLocaleString('en-US')}`,
              percent(n.peakRatio ?? 0),
            ],
      ),
    ),
    '',
  ];
  return `${lines.join('\n')}\n`;
}

main().catch((e: unknown) => {
  process.stderr.write(`corpus: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
