import { createWriteStream, type WriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { createChainReader } from '../../adapters/chain-readers.ts';
import { loadConfigFile } from '../../adapters/config/config-file.ts';
import { classifyTransfers, windowTimes } from '../../core/classify.ts';
import { ConfigError } from '../../core/errors.ts';
import { outflowSummary } from '../format.ts';

export const summary = 'scan one block range and exit: --config C --from A --to B [--chain id] [--jsonl FILE]';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      chain: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      jsonl: { type: 'string' },
    },
  });
  if (!values.config || values.from === undefined || values.to === undefined) {
    process.stderr.write('breaker scan: --config, --from and --to are required\n');
    return 2;
  }
  const from = blockNumber(values.from, '--from');
  const to = blockNumber(values.to, '--to');
  if (to < from) throw new ConfigError('breaker scan', [`--to ${to} is before --from ${from}`]);
  const config = loadConfigFile(values.config);
  const chainId = values.chain ?? [...config.chains.keys()][0];
  const chain = chainId ? config.chains.get(chainId) : undefined;
  if (!chain)
    throw new ConfigError('breaker scan', [
      `--chain: no chain "${chainId}" (known: ${[...config.chains.keys()].join(', ')})`,
    ]);
  const reader = createChainReader(chain);
  const out: WriteStream | undefined = values.jsonl ? createWriteStream(values.jsonl) : undefined;
  const progress = process.stderr.isTTY ? new ProgressBar(to - from + 1) : undefined;
  let found = 0;
  let parentT = 0;
  for (let start = from; start <= to; start += chain.maxBlocksPerPoll) {
    const end = Math.min(to, start + chain.maxBlocksPerPoll - 1);
    const read = await reader.readRange(start, end);
    const times = windowTimes(read.blocks, parentT);
    parentT = times.get(end) ?? parentT;
    for (const r of classifyTransfers(config, chain, read.transfers, (n) => times.get(n) ?? 0)) {
      found++;
      const line = {
        chain: r.chain,
        block: r.block,
        txHash: r.txHash,
        // The index under the chain's own name where it is not a log index (Bitcoin's vout, XRPL's position).
        ...(chain.kind.outputIndexName
          ? { [chain.kind.outputIndexName]: r.index }
          : { logIndex: r.contract === null ? null : r.index }),
        asset: r.asset,
        contract: r.contract,
        amount: r.amount.toString(),
        from: r.from,
        to: r.to,
      };
      if (out) out.write(`${JSON.stringify(line)}\n`);
      else if (!progress) process.stdout.write(`${outflowSummary(r)}\n`);
    }
    progress?.update(end - from + 1, found);
  }
  progress?.done();
  if (out) await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  process.stderr.write(
    `${chain.id}: scanned blocks ${from}–${to}, ${found} outflow(s)${values.jsonl ? ` written to ${values.jsonl}` : ''}\n`,
  );
  return 0;
}

function blockNumber(text: string, flag: string): number {
  if (!/^\d+$/.test(text)) throw new ConfigError('breaker scan', [`${flag}: not a block number: "${text}"`]);
  return Number(text);
}

class ProgressBar {
  private readonly started = Date.now();
  constructor(private readonly total: number) {}
  update(done: number, found: number): void {
    const width = 30;
    const filled = Math.round((done / this.total) * width);
    const rate = done / Math.max(0.001, (Date.now() - this.started) / 1000);
    process.stderr.write(
      `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} blocks, ${found} outflows, ${rate.toFixed(0)} blocks/s`,
    );
  }
  done(): void {
    process.stderr.write('\n');
  }
}
