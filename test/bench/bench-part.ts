import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A bench part run alone (`npm run bench -- --only <part>`) owns one marked section of BENCHMARKS.md
 * (`<!-- bench part: <name> -->` … `<!-- end of bench part: <name> -->`) and some keys of
 * BENCHMARKS.json: it replaces that section (appends it the first time) and sets its keys, leaving the
 * rest of both reports as the last full run wrote them.
 */
export function writeBenchPart(
  out: string,
  name: string,
  markdown: string,
  fields: Record<string, unknown> = {},
): void {
  const startMarker = `<!-- bench part: ${name} -->`;
  const endMarker = `<!-- end of bench part: ${name} -->`;
  const mdPath = join(out, 'BENCHMARKS.md');
  const section = `${startMarker}\n${markdown}${endMarker}\n`;
  const md = readFileSync(mdPath, 'utf8');
  const start = md.indexOf(startMarker);
  const end = md.indexOf(endMarker);
  writeFileSync(
    mdPath,
    start >= 0 && end > start
      ? `${md.slice(0, start)}${section}${md.slice(end + endMarker.length + 1)}`
      : `${md.trimEnd()}\n\n${section}`,
  );
  if (Object.keys(fields).length === 0) return;
  const jsonPath = join(out, 'BENCHMARKS.json');
  const json = JSON.parse(readFileSync(jsonPath, 'utf8')) as Record<string, unknown>;
  Object.assign(json, fields);
  writeFileSync(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
}
