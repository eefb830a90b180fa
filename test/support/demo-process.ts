import { spawn } from 'node:child_process';

/**
 * Run `breaker demo --exit-after-trip` as a real child process (free ports, short normal phase)
 * and collect everything it printed. Killed after `timeoutMs` so a demo that never trips fails
 * the test instead of hanging it.
 */
export function runDemo(extraArgs: string[] = [], timeoutMs = 110_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'functions/local/cli.ts',
        'demo',
        ...extraArgs,
        '--exit-after-trip',
        '--normal-seconds',
        '4',
        '--port',
        '0',
      ],
      { env: { ...process.env, NO_COLOR: '1' } },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    child.stderr.on('data', (d) => {
      out += String(d);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}
