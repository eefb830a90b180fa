/** The [CONFIG] page: the deployed config changed (what got looser, and when that takes effect). */
import type { Page } from './state.ts';

export function renderConfigPage(
  id: string,
  name: string,
  change: { from: string | undefined; to: string; loosened: readonly string[]; effectiveAtMs?: number },
): Page {
  const looser = change.loosened.length > 0;
  return {
    id: `page-${id}`,
    kind: 'config',
    subject: `[CONFIG] ${name}: config changed${looser ? ` — ${change.loosened.length} looser` : ''}`.slice(0, 100),
    text: [
      `The breaker's deployed config changed (digest ${short(change.from)} → ${short(change.to)}).`,
      ...(looser
        ? [
            'Looser than before:',
            ...change.loosened.map((l) => `  - ${l}`),
            `This loosening takes effect at ${new Date(change.effectiveAtMs ?? 0).toISOString()} (operations.loosenDelaySeconds); until then the stricter previous values apply.`,
            `Two different people can let it take effect now: breaker approve-config --digest ${short(change.to)} (or the console), each with their own credentials.`,
            'If nobody you trust made this change, treat it as an attack: trip the breaker and find who deployed.',
          ]
        : ['Nothing got looser; the change is in effect now.']),
    ].join('\n'),
    details: { ...change },
  };
}

function short(digest: string | undefined): string {
  return digest ? digest.slice(0, 12) : '(none)';
}
