import type { Page } from '../../core/state.ts';

/** SNS rejects a Subject over 100 characters, with line breaks or with control characters. */
export const MAX_SUBJECT_CHARS = 100;

/** One SMS segment is 160 GSM-7 characters; 140 leaves room for a carrier's sender prefix. */
export const MAX_SMS_CHARS = 140;

const ELLIPSIS = '...';

/** Typographic characters that page texts pick up from templates and token names, folded to ASCII. */
const ASCII_FOLDS: Readonly<Record<string, string>> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201a': "'",
  '\u201b': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u201e': '"',
  '\u2032': "'",
  '\u2033': '"',
  '\u2010': '-',
  '\u2011': '-',
  '\u2012': '-',
  '\u2013': '-',
  '\u2014': '-',
  '\u2015': '-',
  '\u2212': '-',
  '\u2026': '...',
  '\u2022': '*',
  '\u00b7': '*',
  '\u2192': '->',
  '\u2190': '<-',
  '\u2264': '<=',
  '\u2265': '>=',
  '\u00d7': 'x',
  '\u20ac': 'EUR',
  '\u00a3': 'GBP',
  '\u00df': 'ss',
  '\u00e6': 'ae',
  '\u00c6': 'AE',
  '\u0153': 'oe',
  '\u0152': 'OE',
  '\u00f8': 'o',
  '\u00d8': 'O',
  '\u0142': 'l',
  '\u0141': 'L',
};

/**
 * Printable ASCII on one line: accents dropped, typographic punctuation folded, every run of
 * whitespace or control characters one space, anything else '?'. Carriers and SNS subjects both
 * choke on the rest, and a control character from on-chain data must not reach a terminal or a mail
 * header.
 */
export function toSingleLineAscii(text: string, maxChars = Number.POSITIVE_INFINITY): string {
  let out = '';
  let pendingSpace = false;
  for (const ch of text.normalize('NFKD')) {
    // Past the limit the caller cuts anyway: stop early so a runaway text costs nothing.
    if (out.length > maxChars) break;
    const code = ch.codePointAt(0) as number;
    if (code >= 0x300 && code <= 0x36f) continue;
    if (/\p{Cf}/u.test(ch)) continue;
    const folded = code >= 0x21 && code <= 0x7e ? ch : ASCII_FOLDS[ch];
    if (folded === undefined && (/\s/u.test(ch) || code < 0x20 || (code >= 0x7f && code <= 0x9f))) {
      pendingSpace = out.length > 0;
      continue;
    }
    if (pendingSpace) out += ' ';
    pendingSpace = false;
    out += folded ?? '?';
  }
  return out;
}

/** Cut to at most `max` characters, ending in '...' when something was cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - ELLIPSIS.length;
  // Never split a surrogate pair: half an emoji is not valid UTF-8.
  if (/[\ud800-\udbff]/.test(text.charAt(end - 1))) end--;
  return `${text.slice(0, end).trimEnd()}${ELLIPSIS}`;
}

/**
 * A subject SNS accepts for every protocol: 1–100 printable ASCII characters, no line breaks.
 * Falls back to the kind and id when nothing printable is left.
 */
export function sanitizeSubject(page: Pick<Page, 'subject' | 'kind' | 'id'>): string {
  const subject = toSingleLineAscii(page.subject, MAX_SUBJECT_CHARS);
  const text =
    subject.length > 0
      ? subject
      : toSingleLineAscii(`hot-wallet-breaker ${page.kind} page ${page.id}`, MAX_SUBJECT_CHARS);
  return truncate(text, MAX_SUBJECT_CHARS);
}

/** The page's text squeezed into one SMS: one line, ASCII (so it stays GSM-7), at most 140 characters. */
export function smsText(page: Pick<Page, 'subject' | 'text'>): string {
  const text = toSingleLineAscii(page.text, MAX_SMS_CHARS);
  return truncate(text.length > 0 ? text : toSingleLineAscii(page.subject, MAX_SMS_CHARS), MAX_SMS_CHARS);
}

/** JSON that survives what details may hold: amounts are `bigint` (as decimal strings on the wire). */
export function pageJson(value: unknown, space?: number): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), space);
}

/** The machine-readable body a webhook or an HTTPS subscriber receives. */
export interface PageBody {
  id: string;
  kind: Page['kind'];
  subject: string;
  text: string;
  details: Record<string, unknown>;
  /** Present when lists in `details` were cut to fit a size limit: path → items left out. */
  omitted?: Record<string, number>;
}

export function pageBody(page: Page): PageBody {
  return { id: page.id, kind: page.kind, subject: page.subject, text: page.text, details: page.details };
}

export interface FittedDetails {
  details: Record<string, unknown>;
  /** Path of each cut list ('transactions', 'evidence.outflowIds') → items left out. */
  omitted: Record<string, number>;
  /** Nothing was small enough: details were replaced by a note. */
  replaced: boolean;
}

interface ArrayRef {
  path: string;
  array: unknown[];
  originalLength: number;
}

/**
 * Shrink `details` until `fits` accepts them, cutting the biggest lists first and keeping their
 * heads (evidence lists are ordered largest first, so the outflows that matter most survive). When
 * even empty lists do not fit, details become a note saying so: a page is sent short rather than not
 * at all.
 */
export function fitDetails(
  details: Record<string, unknown>,
  fits: (details: Record<string, unknown>, omitted: Record<string, number>) => boolean,
): FittedDetails {
  if (fits(details, {})) return { details, omitted: {}, replaced: false };
  const copy = JSON.parse(pageJson(details)) as Record<string, unknown>;
  const arrays = collectArrays(copy, '');
  const omitted: Record<string, number> = {};
  const bytes = (a: ArrayRef) => Buffer.byteLength(pageJson(a.array));
  arrays.sort((a, b) => bytes(b) - bytes(a));
  for (const ref of arrays) {
    const full = ref.array.slice();
    const attempt = (keep: number): boolean => {
      ref.array.length = 0;
      ref.array.push(...full.slice(0, keep));
      if (keep < ref.originalLength) omitted[ref.path] = ref.originalLength - keep;
      else delete omitted[ref.path];
      return fits(copy, omitted);
    };
    let lo = 0;
    let hi = full.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (attempt(mid)) {
        best = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (best >= 0) {
      attempt(best);
      return { details: copy, omitted, replaced: false };
    }
    attempt(0);
  }
  const note = {
    note: 'details were too large for this transport and were left out; see the audit log',
    originalBytes: Buffer.byteLength(pageJson(details)),
  };
  return { details: note, omitted, replaced: true };
}

/** Lists reachable through objects; lists inside lists are cut only as part of their parent. */
function collectArrays(value: Record<string, unknown>, path: string): ArrayRef[] {
  return Object.entries(value).flatMap(([key, item]): ArrayRef[] => {
    const itemPath = path ? `${path}.${key}` : key;
    if (Array.isArray(item)) return [{ path: itemPath, array: item, originalLength: item.length }];
    if (item !== null && typeof item === 'object') return collectArrays(item as Record<string, unknown>, itemPath);
    return [];
  });
}

/** "12 of 500 items of details.transactions were left out to fit the size limit." */
export function describeOmitted(omitted: Record<string, number>, limitName: string): string | undefined {
  const parts = Object.entries(omitted).map(([path, n]) => `${n} item${n === 1 ? '' : 's'} of details.${path}`);
  if (parts.length === 0) return undefined;
  return `${parts.join(', ')} left out to fit the ${limitName}.`;
}
