/** The facts a benchmark number means nothing without: where and when it was measured. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { anvilBinary } from '../../functions/local/anvil-process.ts';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  anvil: string;
  commit: string;
  date: string;
  /** 1-minute load average when the run started (other work on the machine skews throughput). */
  loadAverageAtStart: number;
}

export function describeMachine(): Machine {
  return {
    cpuModel: cpuModel(),
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${osName()} (Linux ${release()})`,
    node: process.version,
    anvil: run(anvilBinary(), ['--version']).split('\n')[0] ?? 'unknown',
    commit: run('git', ['rev-parse', '--short', 'HEAD']) || 'unknown',
    date: new Date().toISOString(),
    loadAverageAtStart: loadAverage(),
  };
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':').slice(1).join(':').trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown';
}

function osName(): string {
  try {
    const pretty = readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]+)"?/m);
    if (pretty?.[1]) return pretty[1];
  } catch {
    // no os-release
  }
  return process.platform;
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function loadAverage(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}
