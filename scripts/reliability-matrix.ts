/**
 * Generates docs/RELIABILITY.md from a run of the fault suite (test/faults) and the tamper suite (test/tamper).
 *
 *   npx tsx scripts/reliability-matrix.ts                 run the suite, then write the document
 *   npx tsx scripts/reliability-matrix.ts --from <dir>    write it from an earlier run's directory
 *                                                          (vitest.json + the rows the tests recorded)
 *   --out <file>                                          somewhere other than docs/RELIABILITY.md
 *
 * Each fault test records its row (fault, expected outcome, what it observed, and the counts:
 * outflows on chain, missed, double-counted, phantom, wrong amount) as JSON in $RELIABILITY_OUT;
 * vitest's JSON report says whether the test passed. Exits 1 when a test failed or a row shows
 * anything but zero missed and zero double-counted.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface Row {
  test: string;
  component: string;
  fault: string;
  expected: string;
  observed?: string;
  outflows: number;
  missed: number;
  doubleCounted: number;
  phantom: number;
  wrongAmount: number;
}

/** A tamper row (test/tamper/row.ts). */
interface TamperRow {
  test: string;
  attacker: string;
  tamper: string;
  control: string;
  outcome: string;
  recoveryMs: number;
  observed: string;
}

interface Assertion {
  ancestorTitles: string[];
  title: string;
  status: string;
  duration?: number;
  failureMessages?: string[];
}

interface Report {
  numPassedTests: number;
  numFailedTests: number;
  startTime: number;
  testResults: { name: string; assertionResults: Assertion[] }[];
}

/**
 * Tamper rows measured by tests that live with the part they protect; run here beside test/faults and
 * test/tamper, and reported in the tamper table (each calls recordTamperRow).
 */
const OTHER_TAMPER_TESTS = ['test/adapters/dynamodb/local-store-access.test.ts', 'test/handlers/handlers.test.ts'];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { from: { type: 'string' }, out: { type: 'string' } } });

let dir = values.from;
if (!dir) {
  dir = mkdtempSync(join(tmpdir(), 'hwb-reliability-'));
  const started = Date.now();
  const run = spawnSync(
    join(root, 'node_modules', '.bin', 'vitest'),
    [
      'run',
      'test/faults',
      'test/tamper',
      ...OTHER_TAMPER_TESTS,
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${join(dir, 'vitest.json')}`,
    ],
    { cwd: root, stdio: 'inherit', env: { ...process.env, RELIABILITY_OUT: dir } },
  );
  process.stderr.write(
    `fault suite: exit ${run.status} after ${Math.round((Date.now() - started) / 1000)} s; rows in ${dir}\n`,
  );
}

const reportFile = join(dir, 'vitest.json');
if (!existsSync(reportFile)) {
  process.stderr.write(`no vitest report at ${reportFile}\n`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(reportFile, 'utf8')) as Report;
const rows = new Map<string, Row>();
const tamperRows = new Map<string, TamperRow>();
for (const f of readdirSync(dir)) {
  if (!f.endsWith('.json') || f === 'vitest.json' || f.startsWith('metric-')) continue;
  const parsed = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  if (f.startsWith('tamper-')) tamperRows.set((parsed as TamperRow).test, parsed as TamperRow);
  else rows.set((parsed as Row).test, parsed as Row);
}
const metric = (name: string) => {
  const file = join(dir as string, `metric-${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>) : undefined;
};

const tests = report.testResults.flatMap((file) =>
  file.assertionResults.map((a) => ({
    file: file.name.replace(`${root}/`, ''),
    name: [...a.ancestorTitles, a.title].join(' > '),
    title: a.title,
    status: a.status,
    failure: a.failureMessages?.[0]?.split('\n')[0],
  })),
);

const matrix = tests
  .filter((t) => t.file.startsWith('test/faults/'))
  .filter((t) => rows.has(t.name) || !t.file.endsWith('cross-check-cost.test.ts'))
  .map((t) => ({ test: t, row: rows.get(t.name) }));
const tamper = tests
  .filter((t) => t.file.startsWith('test/tamper/') || tamperRows.has(t.name))
  .map((t) => ({ test: t, row: tamperRows.get(t.name) }));
const badTamper = tamper.filter(({ test, row }) => test.status !== 'passed' || !row);
const bad = matrix.filter(
  ({ test, row }) =>
    test.status !== 'passed' ||
    !row ||
    row.missed !== 0 ||
    row.doubleCounted !== 0 ||
    row.phantom !== 0 ||
    row.wrongAmount !== 0,
);

const cell = (s: string | number | undefined) =>
  String(s ?? '—')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ');
const result = (status: string) => (status === 'passed' ? 'pass' : `**${status.toUpperCase()}**`);
const lines: string[] = [];
const cost = metric('cross-check-cost');
const when = new Date(report.startTime).toISOString().replace(/\.\d+Z$/, 'Z');
const totalOutflows = matrix.reduce((n, { row }) => n + (row?.outflows ?? 0), 0);

lines.push(
  '# Reliability: the fault matrix',
  '',
  '<!-- GENERATED by scripts/reliability-matrix.ts from a run of `npx vitest run test/faults`. Do not edit by hand: run `npx tsx scripts/reliability-matrix.ts`. -->',
  '',
  `Generated ${when} from ${report.numPassedTests + report.numFailedTests} fault-suite tests: ` +
    `${report.numPassedTests} passed, ${report.numFailedTests} failed; ${totalOutflows} on-chain outflows checked; ` +
    `${bad.length === 0 ? 'every row: 0 missed, 0 double-counted.' : `**${bad.length} row(s) not clean.**`}`,
  '',
  'Each row is one test in `test/faults/`. It starts the real stand-ins (anvil, dynalite, local SNS), puts a',
  'fault-injecting proxy (`test/support/fault-proxy.ts`) in front of them, and drives the real poller loop',
  '(`runPoller`, as the Lambda handler and the local runtime run it) through the real EVM reader and DynamoDB',
  'store while a traffic generator mines realistic blocks: several hot-wallet transfers each — native sends,',
  'ERC-20 transfers of known and unknown tokens, batch payouts (several Transfer logs in one transaction),',
  "own-wallet sweeps, reverted sends, other people's payments — and, while the fault is on, one transfer",
  'over the global limit. After the fault the breaker is left to recover; then:',
  '',
  '- **Missed / double-counted** compare the ledger with ground truth read from the chain independently',
  '  (every block scanned with ethers: successful native sends from the hot wallet, every ERC-20 Transfer log',
  "  from it). *Phantom* (recorded but not on the chain, e.g. an orphaned block's outflow left behind) and",
  '  *wrong amount* are checked too and must be 0.',
  '- **Never silently disarmed**: the over-limit transfer sent during the fault trips the breaker (global',
  '  halt, exactly one trip page naming that transaction), and where the fault blinds the breaker past',
  '  `blindAfterSeconds` exactly one blind page and one recovered page go out.',
  '',
  '## The matrix',
  '',
  '| # | Component | Fault | Expected outcome | Test | Result | Outflows | Missed | Double-counted | Observed |',
  '|---|---|---|---|---|---|---:|---:|---:|---|',
);
matrix.forEach(({ test, row }, i) => {
  lines.push(
    `| ${i + 1} | ${cell(row?.component)} | ${cell(row?.fault ?? test.title)} | ${cell(row?.expected)} | \`${cell(test.file.replace('test/faults/', ''))}\` › ${cell(test.title)} | ${result(test.status)} | ${cell(row?.outflows)} | ${cell(row?.missed)} | ${cell(row?.doubleCounted)} | ${cell(row?.observed ?? test.failure)} |`,
  );
});
for (const [name, row] of rows) {
  if (!tests.some((t) => t.name === name)) {
    lines.push(
      `| – | ${cell(row.component)} | ${cell(row.fault)} | ${cell(row.expected)} | ${cell(name)} | **not in this run** | ${row.outflows} | ${row.missed} | ${row.doubleCounted} | ${cell(row.observed)} |`,
    );
  }
}

lines.push(
  '',
  '## Tamper: someone tries to re-arm, loosen or blind the breaker',
  '',
  'Each row is a test against real stand-ins (in `test/tamper/`, or beside the part it protects): the tamper is',
  'made while the breaker runs, then the test asserts the breaker was halted or paged and that nothing',
  're-armed, and measures the wall-clock time from the tamper to that (halt or page; for a tamper that is',
  'refused outright, the time to the refusal). docs/SECURITY.md maps every finding of the review to its test.',
  '',
  '| # | Who | Tamper | Control | Test | Result | Time to halted/paged | Outcome | Observed |',
  '|---|---|---|---|---|---|---:|---|---|',
);
tamper.forEach(({ test, row }, i) => {
  lines.push(
    `| ${i + 1} | ${cell(row?.attacker)} | ${cell(row?.tamper ?? test.title)} | ${cell(row?.control)} | \`${cell(test.file.replace('test/tamper/', '').replace(/^test\//, ''))}\` › ${cell(test.title)} | ${result(test.status)} | ${row ? `${row.recoveryMs} ms` : '—'} | ${cell(row?.outcome)} | ${cell(row?.observed ?? test.failure)} |`,
  );
});

lines.push(
  '',
  'Also covered, outside this matrix: `test/integration/crash-recovery.test.ts` (a crash at four named',
  'points of a poll, in process) and `test/integration/poll-chain.test.ts` (six pollers at once, a reorg);',
  "the matrix's own crash row kills the store connection after *each* write of a tripping poll in turn.",
  '',
  '## Head cross-check (RPC endpoints that lag, lie or disagree)',
  '',
  'With two or more endpoints per chain, `EvmChainReader.head()` is cross-checked',
  '(`functions/adapters/evm/head-check.ts`) on the first poll, every `rpcCrossCheckEveryPolls` polls (default 10),',
  'when the head jumps (more than `rpcMaxLagBlocks` beyond what the elapsed time explains, or backwards), and',
  'after a failed head read while an endpoint is suspended, and before the ancestor search of a reorg (blocks',
  'that stop linking may be an endpoint on another fork). Every endpoint is asked for its head and for the',
  'hash of a confirmed block all of them must have (lowest head − confirmations); one whose head is far above',
  'the rest must also serve its own head block. Then:',
  '',
  '| Verdict | Means | Effect |',
  '|---|---|---|',
  '| `lagging` | more than `rpcMaxLagBlocks` (default max(3, confirmations)) behind the best verified head | suspended from reads until a later check finds it caught up |',
  '| `head-unservable` | claims a head it cannot serve a block for (a head ahead of reality) | suspended |',
  "| `forked` | disagrees with the majority on the confirmed block's hash | suspended |",
  '| no majority | two endpoints, two hashes | `head()` throws ChainReadError: polls fail loudly and the blindness alarm runs until they agree |',
  '',
  '`head()` is the head of the endpoint reads go on from (the preferred one in use), so every block up to it can',
  'be read from there; it may trail the true tip, and a head that stops advancing is blindness (below).',
  '',
);
if (cost) {
  lines.push(
    `Measured cost (\`cross-check-cost.test.ts\`, ${cost.blocks} polls of one block each, two endpoints, default cadence):`,
    `${cost.readCallsPerBlock?.toFixed(2)} JSON-RPC calls (${cost.readRequestsPerBlock?.toFixed(2)} HTTP requests) per block for reading;`,
    `the cross-check adds ${cost.crossCheckCallsPerBlock?.toFixed(2)} calls (${cost.crossCheckRequestsPerBlock?.toFixed(2)} requests) per block,`,
    `+${Math.round(((cost.crossCheckCallsPerBlock ?? 0) / (cost.readCallsPerBlock || 1)) * 100)}%. Catching up reads many blocks per poll, so the share is smaller there.`,
    '',
  );
}
lines.push(
  '## Blindness',
  '',
  'A chain is blind when the chain time of the last block the breaker *processed* trails the wall clock by',
  'more than `confirmations × blockTimeSeconds + blindAfterSeconds` (default max(120 s, 10 blocks)). One signal',
  'covers every way of going blind: every poll failing, the head not advancing (a stuck endpoint, a halted',
  'chain), the cursor not moving (a lease never released, a poller that keeps crashing). It is read from the',
  'cursor item, so Lambda invocations (which share only the table) and the long-running local runtime behave',
  'alike. An episode is written to the breaker state with a conditional write that also queues its page',
  "(and, with `blindAction: halt-chain`, the chain's halt): overlapping pollers page once; a RECOVERED page",
  'closes it once the chain is back within half the limit. A blindness halt stays until an operator resets',
  "it. A poller that does not run at all is the dead-man CloudWatch alarm's job. Catching up never skips a",
  'block: the cursor only moves over blocks read (row "no poller ran for 300 blocks").',
  '',
  '## Found and fixed by this suite',
  '',
  '- A cursor write whose answer was lost (applied, then the SDK retry met it as a conditional failure) left the',
  '  poller\'s own lease in place, stalling every other poller until it expired (row "write applied, answer lost").',
  '- An invocation whose last poll failed mid-batch (store throttled) left its lease for the next invocation to',
  '  wait out (row "ThrottlingException bursts"); it is now released before the invocation ends.',
  '- One endpoint of three on another fork, while preferred, made the poller rewind past everything its cursor',
  '  tracks, twice (two deep-reorg pages) before the periodic cross-check caught it; the reorg search now',
  '  cross-checks first (row "wrong block hashes: 1 of 3").',
  '- Garbled numbers and hashes in logs and receipts crashed the reader with RangeError/SyntaxError instead of',
  '  failing the read (`test/fuzz/rpc-fuzz.test.ts`); a USD figure of 1e21 or more in a config threw a bare',
  '  RangeError (`test/fuzz/config-fuzz.test.ts`).',
  '',
  '## Bad input, fuzz and properties',
  '',
  '- `test/fuzz/config-fuzz.test.ts`: random structural and textual mutations of `config/example.yaml`; only',
  '  ConfigError, every structural issue names its path.',
  '- `test/fuzz/rpc-fuzz.test.ts`: garbled blocks, transactions, logs and receipts from an in-memory endpoint;',
  '  ChainReadError or a skipped log, never a crash, never an amount the chain did not hold.',
  '- `test/fuzz/reset-and-scenario-fuzz.test.ts`: any reset-breaker payload (direct or function URL) and any',
  '  scenario-file mutation.',
  '- `test/core/properties.test.ts` (totals independent of order and batching, no trip lost to a reset,',
  '  tightening never un-trips), `test/core/use-cases/concurrent-reset.property.test.ts` (the same under every',
  '  interleaving of a poller and concurrent resets), `test/core/blindness.test.ts` (blind/recovered pages',
  '  alternate, one per episode).',
  '',
  '## Known limits',
  '',
  '- The head cross-check is EVM only; the Bitcoin reader fails over between endpoints but does not compare',
  '  them. Blindness covers every chain.',
  '- An endpoint that answers well-formed but empty logs or transaction lists for blocks it has cannot be told',
  '  from a quiet block by parsing; only the hash cross-check (and a majority of endpoints) guards against it.',
  '  Checking `logsBloom` against the hot wallets would.',
  '- While the store itself is unreachable the blind page cannot be queued (episodes live in the table): in AWS',
  "  the poller's error alarm and the dead-man alarm page; the local runtime prints `POLL FAILED`.",
  '- Pages are delivered at least once: two pollers flushing the same outbox may both deliver a page (same id).',
  '- A receipt without `status` is read as successful (pre-Byzantium chains): it can over-count, never miss.',
  '',
);

const out = values.out ?? join(root, 'docs', 'RELIABILITY.md');
writeFileSync(out, `${lines.join('\n')}\n`);
process.stderr.write(
  `wrote ${out}: ${matrix.length} fault rows (${bad.length} not clean), ${tamper.length} tamper rows (${badTamper.length} failed)\n`,
);
process.exit(bad.length === 0 && badTamper.length === 0 && report.numFailedTests === 0 ? 0 : 1);
