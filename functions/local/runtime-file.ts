import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * A running local runtime (`npm start`, `breaker watch`) announces its embedded store here, so
 * `breaker status` and `breaker reset` in another terminal talk to the same store.
 */
export const RUNTIME_FILE = resolve('.local/runtime.json');

export interface RuntimeInfo {
  pid: number;
  endpoint: string;
  tableName: string;
  configPath: string;
  startedAt: string;
}

export function announceRuntime(info: RuntimeInfo): void {
  mkdirSync(dirname(RUNTIME_FILE), { recursive: true });
  writeFileSync(RUNTIME_FILE, `${JSON.stringify(info, null, 2)}\n`);
}

export function withdrawRuntime(pid: number): void {
  const current = readRuntime();
  if (current?.pid === pid) rmSync(RUNTIME_FILE, { force: true });
}

/** The announced runtime, if its process is still alive. */
export function readRuntime(): RuntimeInfo | undefined {
  if (!existsSync(RUNTIME_FILE)) return undefined;
  try {
    const info = JSON.parse(readFileSync(RUNTIME_FILE, 'utf8')) as RuntimeInfo;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
}
