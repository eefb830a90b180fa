import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The console page: one HTML file, one script, one stylesheet, read from functions/console/page (or,
 * inside the console-api Lambda bundle, from CONSOLE_ASSETS_DIR, where the construct copies them).
 * The page holds no data and no secrets; everything it shows comes from the authorised /api routes.
 */
export interface ConsoleAsset {
  contentType: string;
  body: string;
}

export interface ConsoleAssets {
  get(path: string): ConsoleAsset | undefined;
}

/** Scripts and styles only from the page's own origin; the page never embeds or posts elsewhere. */
export const contentSecurityPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const FILES: Record<string, { file: string; contentType: string }> = {
  '/': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/console.js': { file: 'console.js', contentType: 'text/javascript; charset=utf-8' },
  '/console.css': { file: 'console.css', contentType: 'text/css; charset=utf-8' },
};

export function defaultAssetsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CONSOLE_ASSETS_DIR ?? fileURLToPath(new URL('./page/', import.meta.url));
}

export function loadConsoleAssets(dir: string = defaultAssetsDir()): ConsoleAssets {
  const cache = new Map<string, ConsoleAsset>();
  for (const [path, { file, contentType }] of Object.entries(FILES)) {
    cache.set(path, { contentType, body: readFileSync(join(dir, file), 'utf8') });
  }
  return { get: (path) => cache.get(path) };
}
