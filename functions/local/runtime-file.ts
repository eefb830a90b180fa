import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * A running local runtime (`npm start`, `breaker watch`) announces its embedded store here, so
 * `breaker status` and `breaker reset` in another terminal talk to the same store. The file holds
 * the store's per-run secret, so it is readable by its owner only (mode 0600, in a 0700 folder).
 */
export const RUNTIME_FILE = resolve('.local/runtime.json');

export interface RuntimeInfo {
  pid: number;
  endpoint: string;
  /** The local store's per-run secret (functions/adapters/dynamodb/local-dynamo.ts). */
  token: string;
  tableName: string;
  configPath: string;
  startedAt: string;
}

export function announceRuntime(info: RuntimeInfo, file = RUNTIME_FILE): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // Written under another name with the final mode, then renamed: never readable by others, even briefly.
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  chmodSync(partial, 0o600);
  renameSync(partial, file);
}

export function withdrawRuntime(pid: number, file = RUNTIME_FILE): void {
  const current = readRuntime(file);
  if (current?.pid === pid) rmSync(file, { force: true });
}

/** The announced runtime, if its process is still alive. */
export function readRuntime(file = RUNTIME_FILE): RuntimeInfo | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as RuntimeInfo;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
}
